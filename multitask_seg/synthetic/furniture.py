# Copyright 2026 The multitask_seg Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""
Indoor furniture built from boxes and ellipsoids.

Every item is placed by the centre of its footprint (x, y) on the floor and a yaw; in the item
frame +x runs along its width and +y points out of its front (away from the wall it stands at).
"""

from dataclasses import dataclass

import numpy as np

from .classes import class_id
from .materials import Material, Pattern, pick_color, shade
from .scene import SceneBuilder


def _cls(name: str) -> int:
    return class_id('indoor', name)


@dataclass
class Placer:
    """Adds parts given in an item frame to a SceneBuilder."""

    builder: SceneBuilder
    x: float
    y: float
    yaw: float

    def part(self, lx: float, ly: float, z0: float, size: tuple, cls: int, mat: int,
             **kwargs) -> int:
        """Add a box whose bottom centre is (lx, ly, z0) in the item frame (metres)."""
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        return self.builder.box_on(self.x + c * lx - s * ly, self.y + s * lx + c * ly, z0,
                                   size, cls, mat, yaw=self.yaw, **kwargs)


def wood(b: SceneBuilder, rng: np.random.Generator) -> int:
    """Register a wood-grain or painted material for furniture."""
    color = pick_color(rng, 'wood', 'paint', 'vivid')
    if rng.random() < 0.5:
        return b.material(Material(color, shade(color, 0.7), Pattern.GRAIN, noise=0.06))
    return b.material(Material(color, noise=0.05))


def fabric(b: SceneBuilder, rng: np.random.Generator) -> int:
    """Register an upholstery material."""
    return b.material(Material(pick_color(rng, 'vivid', 'paint', 'green'), noise=0.18))


def chair(p: Placer, rng: np.random.Generator, mat: int) -> None:
    """Add a chair facing +y: seat, back and four legs, about 0.45 m wide."""
    w, seat = rng.uniform(0.4, 0.5), rng.uniform(0.42, 0.48)
    leg = 0.035
    for sx in (-1, 1):
        for sy in (-1, 1):
            p.part(sx * (w / 2 - leg), sy * (w / 2 - leg), 0.0, (leg, leg, seat), _cls('chair'),
                   mat)
    p.part(0.0, 0.0, seat, (w, w, 0.05), _cls('chair'), mat)
    p.part(0.0, -w / 2 + 0.02, seat + 0.05, (w, 0.04, rng.uniform(0.35, 0.5)), _cls('chair'),
           mat)


def table(p: Placer, rng: np.random.Generator, w: float, d: float, mat: int) -> float:
    """Add a table of footprint w x d metres; return the height of its top."""
    h = rng.uniform(0.7, 0.77)
    leg = 0.05
    for sx in (-1, 1):
        for sy in (-1, 1):
            p.part(sx * (w / 2 - 0.06), sy * (d / 2 - 0.06), 0.0, (leg, leg, h - 0.04),
                   _cls('table'), mat)
    p.part(0.0, 0.0, h - 0.04, (w, d, 0.04), _cls('table'), mat)
    return h


def cabinet(p: Placer, rng: np.random.Generator, w: float, d: float, h: float,
            mat: int) -> None:
    """Add a cabinet with panelled doors on its front."""
    color = p.builder.materials[mat].color
    front = p.builder.material(Material(color, (0.15, 0.15, 0.16), Pattern.PANELS,
                                        scale=w / max(1, round(w / 0.45)), noise=0.05))
    p.part(0.0, 0.0, 0.0, (w, d, h), _cls('cabinet'), mat, front_mat=front)


def sofa(p: Placer, rng: np.random.Generator, w: float, d: float, mat: int) -> None:
    """Add a sofa facing +y: base, back and two arms."""
    arm, base = 0.2, rng.uniform(0.38, 0.45)
    p.part(0.0, 0.0, 0.0, (w, d, base), _cls('sofa'), mat)
    p.part(0.0, -d / 2 + 0.11, base, (w, 0.22, rng.uniform(0.35, 0.5)), _cls('sofa'), mat)
    for sx in (-1, 1):
        p.part(sx * (w / 2 - arm / 2), 0.0, base, (arm, d, 0.2), _cls('sofa'), mat)


def bed(p: Placer, rng: np.random.Generator, w: float, length: float, frame: int,
        cover: int) -> None:
    """Add a bed whose headboard stands at the wall (item -y)."""
    p.part(0.0, 0.0, 0.0, (w, length, 0.3), _cls('bed'), frame)
    p.part(0.0, 0.0, 0.3, (w - 0.04, length - 0.04, 0.22), _cls('bed'), cover)
    p.part(0.0, -length / 2 + 0.03, 0.0, (w, 0.06, rng.uniform(0.9, 1.2)), _cls('bed'), frame)
    pillow = p.builder.material(Material(pick_color(rng, 'paint'), noise=0.1))
    for sx in (-1, 1):
        p.part(sx * w / 4, -length / 2 + 0.3, 0.52, (w / 2 - 0.1, 0.35, 0.12), _cls('bed'),
               pillow)


def clutter(b: SceneBuilder, rng: np.random.Generator, x: float, y: float, z: float,
            w: float, d: float, count: int) -> None:
    """Scatter `count` small objects (books, boxes, vases) on a w x d top at height z."""
    for _ in range(count):
        ox = x + rng.uniform(-0.35, 0.35) * w
        oy = y + rng.uniform(-0.35, 0.35) * d
        mat = b.material(Material(pick_color(rng, 'vivid', 'paint', 'wood'), noise=0.1))
        if rng.random() < 0.4:
            r = rng.uniform(0.04, 0.1)
            h = r * rng.uniform(1.0, 1.6)
            b.ellipsoid((ox, oy, z + h), (r, r, h), _cls('object'), mat, shadow=False)
        else:
            size = (rng.uniform(0.08, 0.3), rng.uniform(0.06, 0.25), rng.uniform(0.03, 0.3))
            b.box_on(ox, oy, z, size, _cls('object'), mat, yaw=rng.uniform(-0.5, 0.5),
                     shadow=False)
