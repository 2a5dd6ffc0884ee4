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
"""Render synthetic RGB-D frames: public entry points of the generator."""

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from . import outdoor
from .camera import intrinsics, Pose, world_rays
from .classes import CLASSES, DOMAINS, IGNORE_LABEL
from .indoor import room_scene
from .lighting import irradiance
from .photo import develop, haze, sky_radiance
from .raycast import cast
from .scene import Scene
from .sensors import kinect, lidar
from .surface import surface
from .textures import albedo

FRAME_PERIOD_NS = 100_000_000
HFOV_DEG = {'indoor': 62.0, 'outdoor': 80.0}
_SPLITS = {
    'train': range(0, 1_000_000),
    'val': range(1_000_000, 1_100_000),
    'test': range(1_100_000, 1_200_000),
}


@dataclass
class Frame:
    """
    One rendered RGB-D frame with exact annotations.

    :ivar rgb: (H, W, 3) uint8 photo.
    :ivar labels: (H, W) uint8 class ids (see CLASSES[domain]), 255 = ignore.
    :ivar depth: (H, W) float32 exact z-depth in metres, 0 where invalid (sky, beyond far clip).
    :ivar sensor_depth: (H, W) float32 depth in metres as a real sensor gives it
        (Kinect holes indoors, sparse LiDAR outdoors), 0 = invalid.
    :ivar K: (3, 3) float64 pinhole intrinsics in pixels.
    :ivar pose: (4, 4) float64 camera-to-world transform (world z up, metres).
    :ivar stamp_ns: capture time in nanoseconds since the start of the trajectory.
    :ivar domain: 'indoor' or 'outdoor'.
    :ivar seed: scene seed.
    :ivar index: frame number within the trajectory.
    """

    rgb: np.ndarray
    labels: np.ndarray
    depth: np.ndarray
    sensor_depth: np.ndarray
    K: np.ndarray
    pose: np.ndarray
    stamp_ns: int
    domain: str
    seed: int
    index: int


def split_seeds(split: str) -> range:
    """Return the scene seeds reserved for 'train', 'val' or 'test'; the ranges are disjoint."""
    if split not in _SPLITS:
        raise ValueError(f'unknown split {split!r}; expected one of {sorted(_SPLITS)}')
    return _SPLITS[split]


def _check_domain(domain: str) -> None:
    if domain not in DOMAINS:
        raise ValueError(f'unknown domain {domain!r}; expected one of {DOMAINS}')


def render_view(scene: Scene, pose: Pose, K: np.ndarray, height: int, width: int,
                rng: np.random.Generator, domain: str, exposure: float = 1.0) -> tuple:
    """Ray-cast one view; return (rgb, labels, depth, sensor_depth) as documented on Frame."""
    dirs = world_rays(K, height, width, pose)
    t, prim = cast(scene, pose, dirs, K)
    surf = surface(scene, pose.position, dirs, t, prim)
    color, emit = albedo(scene, surf)
    shaded = color * np.sqrt(irradiance(scene, pose, K, surf))[:, None]
    shaded[emit] = 1.15 * color[emit]
    shaded = haze(shaded, surf.depth, scene.light)
    if surf.mask.all():
        image = shaded.reshape(height, width, 3)
    else:
        image = np.empty((height, width, 3), np.float32)
        image[surf.mask] = shaded
        image[~surf.mask] = sky_radiance(scene.light, dirs[:, ~surf.mask])
    rgb = develop(image, rng, exposure)

    classes = CLASSES[domain]
    labels = np.full((height, width), IGNORE_LABEL, np.uint8)
    if 'sky' in classes:
        labels[:] = classes.index('sky')
    labels[surf.mask] = surf.cls
    depth = np.where(surf.mask & (t <= scene.far), t, 0.0).astype(np.float32)
    if domain == 'indoor':
        dropout = np.zeros((height, width), np.float32)
        dropout[surf.mask] = scene.tables['ir_dropout'][surf.material]
        cosine = np.zeros((height, width), np.float32)
        view = dirs[:, surf.mask]
        cosine[surf.mask] = (surf.normal * view).sum(axis=0) / np.sqrt((view * view).sum(axis=0))
        sensor = kinect(depth, K, rng, dropout, cosine)
    else:
        sensor = lidar(depth, dirs, rng)
    return rgb, labels, depth, sensor


def _world(domain: str, seed: int) -> tuple:
    """Return (scene_at(pose) -> Scene, path, rng) for a scene seed."""
    _check_domain(domain)
    rng = np.random.default_rng([DOMAINS.index(domain), seed])
    if domain == 'indoor':
        scene, path = room_scene(rng)
        return (lambda pose: scene), path, rng
    street = outdoor.Street(rng, seed)
    return street.scene_at, street.path, rng


def render_sequence(domain: str, seed: int, n_frames: int, *, height: int = 240,
                    width: int = 320, start_s: float = 0.0) -> Iterator[Frame]:
    """
    Yield `n_frames` consecutive 10 Hz frames of one scene along a smooth trajectory.

    Indoors a person walks around the room; outdoors a car drives down the street. The scene,
    path, exposure drift and noise are all determined by (domain, seed).
    """
    scene_at, path, rng = _world(domain, seed)
    K = intrinsics(height, width, HFOV_DEG[domain])
    drift = rng.uniform(0.0, 2.0 * np.pi)
    level = rng.normal(0.0, 0.25)
    for index in range(n_frames):
        t = start_s + index * FRAME_PERIOD_NS * 1e-9
        pose = path.pose(t)
        frame_rng = np.random.default_rng([DOMAINS.index(domain), seed, index, 1])
        exposure = float(np.exp(level + 0.2 * np.sin(0.15 * t + drift)))
        rgb, labels, depth, sensor = render_view(scene_at(pose), pose, K, height, width,
                                                 frame_rng, domain, exposure)
        yield Frame(rgb=rgb, labels=labels, depth=depth, sensor_depth=sensor, K=K,
                    pose=pose.matrix(), stamp_ns=int(round(t * 1e9)), domain=domain, seed=seed,
                    index=index)


def render_frame(domain: str, seed: int, *, height: int = 240, width: int = 320) -> Frame:
    """Render one independent frame: the scene of `seed` seen from a random point of its path."""
    _check_domain(domain)
    start = np.random.default_rng([DOMAINS.index(domain), seed, 2]).uniform(0.0, 60.0)
    return next(render_sequence(domain, seed, 1, height=height, width=width, start_s=start))
