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
"""Procedural NYU-like rooms: walls, doors, windows, pictures and furniture around a walk."""

import numpy as np

from . import furniture as fu
from .classes import class_id
from .materials import Material, Pattern, pick_color, shade
from .scene import Light, SceneBuilder
from .trajectory import LoopPath

# (origin, along, inward, yaw, room face) per wall; origins and lengths scale with the room.
_WALLS = (((0, 0), (1, 0), (0, 1), 0.0, 2), ((1, 1), (-1, 0), (0, -1), np.pi, 3),
          ((0, 1), (0, -1), (1, 0), -np.pi / 2, 0), ((1, 0), (0, 1), (-1, 0), np.pi / 2, 1))


def _cls(name: str) -> int:
    return class_id('indoor', name)


class _Layout:
    """Bookkeeping that keeps furniture off the walking loop, out of doorways and apart."""

    def __init__(self, size: tuple, path: LoopPath):
        self.size = size
        self.keep_out = path.footprint()
        self.spans = [[] for _ in _WALLS]
        self.footprints = []

    def wall_point(self, wall: int, s: float, off: float) -> tuple:
        origin, along, inward, _, _ = _WALLS[wall]
        x = origin[0] * self.size[0] + along[0] * s + inward[0] * off
        y = origin[1] * self.size[1] + along[1] * s + inward[1] * off
        return x, y

    def length(self, wall: int) -> float:
        return self.size[0] if wall < 2 else self.size[1]

    def reserve(self, wall: int, s0: float, s1: float, z0: float, z1: float) -> bool:
        for a0, a1, b0, b1 in self.spans[wall]:
            if s0 < a1 + 0.1 and a0 < s1 + 0.1 and z0 < b1 + 0.1 and b0 < z1 + 0.1:
                return False
        self.spans[wall].append((s0, s1, z0, z1))
        return True

    def claim(self, x: float, y: float, hx: float, hy: float, margin: float = 0.5) -> bool:
        near = ((np.abs(self.keep_out[:, 0] - x) < hx + margin)
                & (np.abs(self.keep_out[:, 1] - y) < hy + margin))
        if near.any():
            return False
        for fx, fy, gx, gy in self.footprints:
            if abs(fx - x) < gx + hx + 0.05 and abs(fy - y) < gy + hy + 0.05:
                return False
        self.footprints.append((x, y, hx, hy))
        return True


def _room_materials(b: SceneBuilder, rng: np.random.Generator) -> list:
    wall = b.material(Material(pick_color(rng, 'paint'), noise=0.05))
    accent = b.material(Material(pick_color(rng, 'paint', 'vivid'), noise=0.05))
    kind = rng.integers(3)
    color = pick_color(rng, 'wood', 'paint')
    if kind == 0:
        floor = Material(color, shade(color, 0.75), Pattern.PLANKS, scale=rng.uniform(0.12, 0.25))
    elif kind == 1:
        floor = Material(color, shade(color, 0.6), Pattern.TILES, scale=rng.uniform(0.3, 0.6),
                         noise=0.05)
    else:
        floor = Material(pick_color(rng, 'paint', 'vivid', 'green'), noise=0.25)
    ceiling = b.material(Material(shade(pick_color(rng, 'paint'), 1.1), noise=0.03))
    walls = [wall] * 4
    if rng.random() < 0.3:
        walls[rng.integers(4)] = accent
    return walls + [b.material(floor), ceiling]


def _wall_items(b: SceneBuilder, rng: np.random.Generator, lay: _Layout, height: float) -> None:
    door_wall = rng.integers(4)
    w, h = rng.uniform(0.8, 0.95), rng.uniform(1.98, 2.1)
    s = rng.uniform(0.2, lay.length(door_wall) - w - 0.2)
    lay.reserve(door_wall, s, s + w, 0.0, h)
    x, y = lay.wall_point(door_wall, s + w / 2, 0.02)
    color = pick_color(rng, 'wood', 'paint')
    door = b.material(Material(color, (0.6, 0.6, 0.62), Pattern.PANELS, scale=w, noise=0.05))
    b.box_on(x, y, 0.0, (w, 0.05, h), _cls('door'), door, yaw=_WALLS[door_wall][3], shadow=False)
    x, y = lay.wall_point(door_wall, s + w / 2, 0.5)
    lay.footprints.append((x, y, 0.5, 0.5))
    glass = b.material(Material(pick_color(rng, 'paint'), (0.9, 0.9, 0.9), Pattern.GLASS,
                                noise=0.0, ir_dropout=0.85, emissive=True))
    for _ in range(rng.integers(0, 3)):
        wall = rng.integers(4)
        w, h, sill = rng.uniform(0.7, 1.8), rng.uniform(0.9, 1.4), rng.uniform(0.75, 1.0)
        s = rng.uniform(0.2, max(lay.length(wall) - w - 0.2, 0.3))
        if lay.reserve(wall, s, s + w, sill, min(sill + h, height - 0.15)):
            x, y = lay.wall_point(wall, s + w / 2, 0.015)
            b.box_on(x, y, sill, (w, 0.03, min(h, height - 0.15 - sill)), _cls('window'),
                     glass, yaw=_WALLS[wall][3], shadow=False)


def _pictures(b: SceneBuilder, rng: np.random.Generator, lay: _Layout) -> None:
    for _ in range(rng.integers(1, 5)):
        wall = rng.integers(4)
        w, h, zc = rng.uniform(0.3, 1.0), rng.uniform(0.25, 0.7), rng.uniform(1.35, 1.7)
        s = rng.uniform(0.2, max(lay.length(wall) - w - 0.2, 0.3))
        if lay.reserve(wall, s, s + w, zc - h / 2, zc + h / 2):
            frame = pick_color(rng, 'wood', 'vivid')
            mat = b.material(Material(frame, frame, Pattern.PICTURE, scale=rng.uniform(0.3, 1.5),
                                      ir_dropout=0.1))
            x, y = lay.wall_point(wall, s + w / 2, 0.015)
            b.box((x, y, zc), (w, 0.03, h), _cls('picture'), mat, yaw=_WALLS[wall][3],
                  shadow=False)


def _floor_items(b: SceneBuilder, rng: np.random.Generator, lay: _Layout, mats: list) -> None:
    has_bed = False
    for _ in range(24):
        kind = rng.choice(['cabinet', 'shelf', 'sofa', 'sofa', 'bed', 'desk', 'desk'])
        if kind == 'bed' and has_bed:
            continue
        w, d, h = {
            'cabinet': (rng.uniform(0.6, 1.6), rng.uniform(0.35, 0.55), rng.uniform(0.5, 1.0)),
            'shelf': (rng.uniform(0.5, 1.2), rng.uniform(0.3, 0.45), rng.uniform(1.4, 2.1)),
            'sofa': (rng.uniform(1.5, 2.3), rng.uniform(0.8, 0.95), 0.9),
            'bed': (rng.uniform(1.0, 1.8), rng.uniform(1.9, 2.1), 1.1),
            'desk': (rng.uniform(0.9, 1.5), rng.uniform(1.1, 1.3), 0.8),
        }[kind]
        wall = rng.integers(4)
        s = rng.uniform(0.05, max(lay.length(wall) - w - 0.05, 0.1))
        x, y = lay.wall_point(wall, s + w / 2, d / 2 + 0.01)
        yaw = _WALLS[wall][3]
        hx, hy = (w / 2, d / 2) if wall < 2 else (d / 2, w / 2)
        if not (lay.claim(x, y, hx, hy) and lay.reserve(wall, s, s + w, 0.0, h)):
            continue
        p = fu.Placer(b, x, y, yaw)
        if kind in ('cabinet', 'shelf'):
            fu.cabinet(p, rng, w, d, h, mats[rng.integers(len(mats))])
            if h < 1.3:
                fu.clutter(b, rng, x, y, h, hx * 2, hy * 2, rng.integers(0, 4))
        elif kind == 'sofa':
            fu.sofa(p, rng, w, d, fu.fabric(b, rng))
        elif kind == 'desk':
            # The footprint holds the desk at the wall and its chair in front of it.
            mat = mats[rng.integers(len(mats))]
            desk = fu.Placer(b, *lay.wall_point(wall, s + w / 2, 0.36), yaw)
            top = fu.table(desk, rng, w, 0.7, mat)
            fu.clutter(b, rng, desk.x, desk.y, top, w, 0.7, rng.integers(0, 4))
            seat = fu.Placer(b, *lay.wall_point(wall, s + w / 2 + rng.uniform(-0.2, 0.2), 0.8),
                             yaw + np.pi + rng.uniform(-0.4, 0.4))
            fu.chair(seat, rng, mats[rng.integers(len(mats))])
        else:
            has_bed = True
            fu.bed(p, rng, w, d, mats[0], fu.fabric(b, rng))


def _dining(b: SceneBuilder, rng: np.random.Generator, lay: _Layout, mats: list) -> None:
    w, d = rng.uniform(0.7, 1.5), rng.uniform(0.6, 0.9)
    for _ in range(6):
        x = rng.uniform(0.9 + w / 2, lay.size[0] - 0.9 - w / 2)
        y = rng.uniform(0.9 + d / 2, lay.size[1] - 0.9 - d / 2)
        if lay.claim(x, y, w / 2 + 0.45, d / 2 + 0.45):
            break
    else:
        return
    mat = mats[rng.integers(len(mats))]
    top = fu.table(fu.Placer(b, x, y, 0.0), rng, w, d, mat)
    fu.clutter(b, rng, x, y, top, w, d, rng.integers(0, 5))
    chair_mat = mats[rng.integers(len(mats))]
    seats = int(w // 0.6)
    for side in (-1, 1):
        for k in range(seats):
            if rng.random() < 0.8:
                cx = x + (k + 0.5 - seats / 2) * 0.6 + rng.uniform(-0.05, 0.05)
                yaw = (0.0 if side < 0 else np.pi) + rng.uniform(-0.2, 0.2)
                fu.chair(fu.Placer(b, cx, y + side * (d / 2 + 0.22), yaw), rng, chair_mat)


def room_scene(rng: np.random.Generator) -> tuple:
    """Return (Scene, LoopPath): a furnished room spanning [0, W] x [0, D] x [0, H] metres."""
    size = (rng.uniform(3.6, 6.5), rng.uniform(3.4, 5.5), rng.uniform(2.45, 3.0))
    b = SceneBuilder()
    faces = [_cls('wall')] * 4 + [_cls('floor'), _cls('ceiling')]
    b.room((0.0, 0.0, 0.0), size, faces, _room_materials(b, rng))
    # The walker paces along the near third of the room and mostly faces the far part, where
    # the furniture stands; the flat ellipse keeps the motion smooth at the turning points.
    near = size[1] * rng.uniform(0.22, 0.35)
    path = LoopPath(center=(size[0] / 2, near), radii=(max(size[0] / 2 - 1.3, 0.3), 0.15),
                    target=(size[0] * rng.uniform(0.35, 0.65), size[1] * rng.uniform(0.7, 0.95)),
                    height=rng.uniform(1.1, 1.6),
                    speed=rng.choice([-1, 1]) * rng.uniform(0.3, 0.6),
                    phase=rng.uniform(0, 2 * np.pi), look=rng.uniform(0.15, 0.5),
                    pitch=-rng.uniform(0.1, 0.35))
    lay = _Layout(size, path)
    mats = [fu.wood(b, rng) for _ in range(2)]
    _wall_items(b, rng, lay, size[2])
    _dining(b, rng, lay, mats)
    _floor_items(b, rng, lay, mats)
    _pictures(b, rng, lay)
    lamp = (size[0] * rng.uniform(0.3, 0.7), size[1] * rng.uniform(0.3, 0.7), size[2] - 0.05)
    light = Light(ambient=rng.uniform(0.25, 0.45), intensity=rng.uniform(1.6, 2.6),
                  position=np.array(lamp))
    return b.build(light, far=20.0), path
