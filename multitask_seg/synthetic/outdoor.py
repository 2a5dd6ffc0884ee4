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
Procedural KITTI-like streets: road, sidewalks, buildings, trees and cars along +x.

The street is endless: it is cut into 25 m blocks, each built on demand from (seed, block) so
any stretch can be rendered without generating the rest.
"""

import numpy as np

from .camera import Pose
from .classes import class_id
from .materials import Material, Pattern, pick_color, shade
from .scene import Light, Scene, SceneBuilder
from .trajectory import LanePath

BLOCK = 25.0
_BEHIND, _AHEAD = 15.0, 150.0


def _cls(name: str) -> int:
    return class_id('outdoor', name)


def _car(b: SceneBuilder, rng: np.random.Generator, x: float, y: float, yaw: float) -> None:
    length, width = rng.uniform(3.8, 4.9), rng.uniform(1.65, 1.9)
    body_h = rng.uniform(0.5, 0.8)
    paint = b.material(Material(pick_color(rng, 'vivid', 'paint'), noise=0.04))
    glass = b.material(Material(pick_color(rng, 'vivid', jitter=0.02), (0.0, 0.0, 0.0),
                                noise=0.3))
    b.materials[glass] = Material(shade(b.materials[glass].color, 0.25), noise=0.3)
    tyre = b.material(Material((0.08, 0.08, 0.09), noise=0.1))
    c, s = np.cos(yaw), np.sin(yaw)
    b.box_on(x, y, 0.28, (length, width, body_h), _cls('car'), paint, yaw=yaw)
    cabin = length * rng.uniform(0.45, 0.6)
    off = rng.uniform(-0.15, 0.02) * length
    b.box_on(x + c * off, y + s * off, 0.28 + body_h, (cabin, width - 0.12, rng.uniform(0.4, 0.6)),
             _cls('car'), paint, yaw=yaw, side_mat=glass)
    for axle in (-1, 1):
        ax = axle * (length / 2 - 0.75)
        b.box_on(x + c * ax, y + s * ax, 0.0, (0.62, width - 0.06, 0.45), _cls('car'), tyre,
                 yaw=yaw, shadow=False)


def _tree(b: SceneBuilder, rng: np.random.Generator, x: float, y: float, mats: tuple) -> None:
    trunk = rng.uniform(2.0, 3.5)
    b.box_on(x, y, 0.0, (0.25, 0.25, trunk), _cls('vegetation'), mats[0])
    for _ in range(rng.integers(1, 4)):
        r = rng.uniform(1.0, 2.2)
        rz = r * rng.uniform(0.7, 1.1)
        center = (x + rng.uniform(-0.6, 0.6), y + rng.uniform(-0.6, 0.6),
                  max(trunk + 0.4 * rz, 2.4 + rz) + rng.uniform(0.0, 0.8))
        b.ellipsoid(center, (r, r, rz), _cls('vegetation'), mats[1 + rng.integers(2)])


class Street:
    """An endless street generated from a seed, with a car driving down its right lane."""

    def __init__(self, rng: np.random.Generator, seed: int):
        self.seed = seed
        self.lane = rng.uniform(3.0, 3.6)
        self.parking = bool(rng.random() < 0.7)
        self.road_half = self.lane + (2.3 if self.parking else 0.3)
        self.walk = rng.uniform(1.6, 3.2)
        self.curb = rng.uniform(0.1, 0.16)
        self.setback = rng.uniform(0.0, 4.0) if rng.random() < 0.6 else 0.0
        self.palette = (('paint',), ('paint', 'vivid'), ('paint', 'wood'))[rng.integers(3)]
        cloud = rng.uniform(0.0, 1.0)
        elevation, azimuth = rng.uniform(0.3, 1.1), rng.uniform(0, 2 * np.pi)
        sun = np.array([np.cos(elevation) * np.cos(azimuth),
                        np.cos(elevation) * np.sin(azimuth), np.sin(elevation)])
        zenith = np.array([0.3, 0.5, 0.85]) + rng.normal(0, 0.05, 3)
        zenith = zenith + (0.75 - zenith) * max(cloud - 0.5, 0.0) * 1.6
        horizon = np.clip(np.full(3, 0.85) + rng.normal(0, 0.04, 3), 0, 1)
        self.light = Light(ambient=rng.uniform(0.35, 0.6) + 0.3 * cloud,
                           intensity=rng.uniform(1.8, 3.0) * (1.0 - 0.6 * cloud),
                           direction=sun, sky=(tuple(horizon), tuple(np.clip(zenith, 0, 1))),
                           cloudiness=cloud, haze=rng.uniform(250.0, 700.0))
        asphalt = pick_color(rng, 'paint') if rng.random() < 0.2 else (0.4, 0.4, 0.41)
        self.ground_mats = (
            Material(shade(asphalt, rng.uniform(0.55, 0.95)), (0.9, 0.9, 0.88), Pattern.ROAD,
                     noise=0.12, param=self.lane),
            Material(pick_color(rng, 'green', 'wood'), shade(pick_color(rng, 'green'), 0.6),
                     Pattern.FOLIAGE))
        color = pick_color(rng, 'paint')
        self.walk_mat = Material(color, shade(color, 0.7), Pattern.TILES,
                                 scale=rng.uniform(0.3, 0.7), noise=0.08)
        self.path = LanePath(x0=rng.uniform(0.0, 500.0), lane_y=-self.lane / 2,
                             speed=rng.uniform(5.0, 12.0), height=rng.uniform(1.6, 1.75),
                             wander=rng.uniform(0.05, 0.3), period=rng.uniform(6.0, 15.0),
                             phase=rng.uniform(0, 2 * np.pi), pitch=rng.uniform(-0.05, 0.02))
        self._blocks = {}
        self._cached = (None, None)

    def _facade(self, b: SceneBuilder, rng: np.random.Generator) -> int:
        color = pick_color(rng, *self.palette)
        glass = pick_color(rng, 'paint', jitter=0.03)
        return b.material(Material(color, shade(glass, rng.uniform(0.25, 0.5)), Pattern.FACADE,
                                   scale=rng.uniform(2.2, 3.5), param=rng.uniform(2.8, 3.4),
                                   noise=0.08))

    def _block(self, k: int) -> SceneBuilder:
        # Seed sequences take non-negative words; the street extends both ways.
        rng = np.random.default_rng([1, self.seed, k + (1 << 31), 3])
        b = SceneBuilder()
        x0 = k * BLOCK
        roof = b.material(Material(pick_color(rng, 'paint'), noise=0.1))
        leaves = (b.material(Material((0.3, 0.25, 0.2), noise=0.2)),
                  *(b.material(Material(pick_color(rng, 'green'), shade(pick_color(rng, 'green'),
                                        0.5), Pattern.FOLIAGE)) for _ in range(2)))
        for side in (-1.0, 1.0):
            front = self.road_half + self.walk + self.setback
            x = x0
            while x < x0 + BLOCK - 2.0:
                w = min(rng.uniform(6.0, 16.0), x0 + BLOCK - x)
                d, h = rng.uniform(8.0, 15.0), rng.uniform(5.0, 22.0)
                b.box_on(x + w / 2, side * (front + d / 2), 0.0, (w, d, h), _cls('building'),
                         roof, side_mat=self._facade(b, rng))
                x += w + (rng.uniform(1.0, 4.0) if rng.random() < 0.4 else 0.0)
            back = front + rng.uniform(18.0, 28.0)
            b.box_on(x0 + BLOCK / 2, side * (back + 8.0), 0.0, (BLOCK, 16.0, rng.uniform(8, 30)),
                     _cls('building'), roof, side_mat=self._facade(b, rng))
            if self.setback > 1.2 and rng.random() < 0.6:
                hedge = rng.uniform(0.6, 1.4)
                b.box_on(x0 + BLOCK / 2, side * (front - 0.6), 0.0, (BLOCK * 0.8, 0.8, hedge),
                         _cls('vegetation'), leaves[1])
            for _ in range(rng.integers(0, 3)):
                _tree(b, rng, x0 + rng.uniform(1, BLOCK - 1), side * (self.road_half + 0.6),
                      leaves)
            if self.parking:
                x = x0 + rng.uniform(0.5, 4.0)
                while x < x0 + BLOCK - 5.0:
                    if rng.random() < 0.6:
                        _car(b, rng, x + 2.5, side * (self.lane + 1.15), rng.normal(0, 0.03)
                             + (np.pi if rng.random() < 0.2 else 0.0))
                    x += rng.uniform(5.5, 9.0)
        if rng.random() < 0.3:
            _car(b, rng, x0 + rng.uniform(3, BLOCK - 3), self.lane / 2, np.pi)
        return b

    def scene_at(self, pose: Pose) -> Scene:
        """Return the part of the street visible from `pose` (blocks within -15..+150 m)."""
        x = pose.position[0]
        ks = range(int(np.floor((x - _BEHIND) / BLOCK)), int(np.floor((x + _AHEAD) / BLOCK)) + 1)
        if self._cached[0] == ks:
            return self._cached[1]
        b = SceneBuilder()
        b.ground((_cls('road'), _cls('vegetation')),
                 (b.material(self.ground_mats[0]), b.material(self.ground_mats[1])))
        walk = b.material(self.walk_mat)
        x0, x1 = ks.start * BLOCK, ks.stop * BLOCK
        for side in (-1.0, 1.0):
            b.box(((x0 + x1) / 2, side * (self.road_half + self.walk / 2), self.curb / 2),
                  (x1 - x0, self.walk, self.curb), _cls('sidewalk'), walk, shadow=False)
        for k in ks:
            if k not in self._blocks:
                self._blocks[k] = self._block(k)
            b.extend(self._blocks[k])
        self._blocks = {k: v for k, v in self._blocks.items() if k >= ks.start}
        scene = b.build(self.light, road_half=self.road_half, far=150.0)
        self._cached = (ks, scene)
        return scene
