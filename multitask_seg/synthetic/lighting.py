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
"""Lambertian lighting with cast shadows and a cheap ambient-occlusion term."""

import numpy as np

from .camera import Pose
from .raycast import batch_t, hull_points, primitive_t, screen_windows, split_windows, \
    window_pixels
from .scene import Kind, Scene
from .surface import Surface


def _to_light(scene: Scene, point: np.ndarray) -> np.ndarray:
    light = scene.light
    if light.position is None:
        return np.broadcast_to(np.asarray(light.direction, np.float32)[:, None], point.shape)
    return np.asarray(light.position, np.float32)[:, None] - point


def _shadow_hulls(scene: Scene, casters: np.ndarray) -> np.ndarray:
    """Corners of each caster plus their projections onto z = 0 away from the light."""
    corners = hull_points(scene)[casters]
    light = scene.light
    if light.position is None:
        sun = np.asarray(light.direction)
        floor = corners - (corners[..., 2:] / sun[2]) * sun
    else:
        lamp = np.asarray(light.position)
        drop = np.maximum(lamp[2] - corners[..., 2:], 0.01)
        floor = lamp + (corners - lamp) * (lamp[2] / drop)
    return np.concatenate([corners, floor], axis=1)


def shadows(scene: Scene, pose: Pose, K: np.ndarray, surf: Surface,
            facing: np.ndarray) -> np.ndarray:
    """
    Return (N,) bool: hit points whose path to the light is blocked by a shadow caster.

    Shadows are soft-edged and low in detail, so shadow rays are cast from every second pixel
    in each direction and the result is repeated to full size. Only pixels inside the screen
    window of each caster's shadow volume are tested. `facing` (N,) marks points that face
    the light; the others are dark anyway.
    """
    height, width = surf.mask.shape
    full = np.zeros((3, height, width), np.float32)
    full[:, surf.mask] = surf.point
    point = np.ascontiguousarray(full[:, ::2, ::2])
    if scene.light.position is not None:
        to_light = np.asarray(scene.light.position, np.float32)[:, None, None] - point
    full = np.full((height, width), -1, np.int32)
    full[surf.mask] = np.where(facing, surf.prim, -1)
    prim = full[::2, ::2]
    open_ = prim >= 0
    # Shadows of distant casters cover few pixels and fade in the haze: not worth the rays.
    near = np.linalg.norm(scene.center - pose.position, axis=1) < 50.0
    casters = np.flatnonzero(scene.casts_shadow & near)
    windows = screen_windows(_shadow_hulls(scene, casters), pose, K, height, width)
    windows[:, [0, 2]] //= 2
    windows[:, [1, 3]] = (windows[:, [1, 3]] + 1) // 2
    light = scene.light
    if light.position is None:
        # Sun rays are parallel: one direction and one inverse serve every pixel.
        sun = tuple(float(v) for v in light.direction)
        inv = tuple(1.0 / v if v else np.inf for v in sun)
    limit = np.inf if light.position is None else 1.0
    large, small = split_windows(windows, 64)
    for idx, (v0, v1, u0, u1) in zip(casters[large], windows[large]):
        recv = open_[v0:v1, u0:u1] & (prim[v0:v1, u0:u1] != idx)
        if not recv.any():
            continue
        origin = point[:, v0:v1, u0:u1]
        with np.errstate(all='ignore'):
            if light.position is None:
                t = primitive_t(scene, idx, origin, sun, inv)
            else:
                t = primitive_t(scene, idx, origin, to_light[:, v0:v1, u0:u1])
        open_[v0:v1, u0:u1] &= ~(recv & (t < limit))
    owner, pix = window_pixels(windows[small], open_.shape[1])
    ids = casters[small][owner]
    flat = open_.reshape(-1)
    keep = flat[pix] & (prim.reshape(-1)[pix] != ids)
    pix, ids = pix[keep], ids[keep]
    origin = point.reshape(3, -1)[:, pix]
    ray = sun if light.position is None else to_light.reshape(3, -1)[:, pix]
    with np.errstate(all='ignore'):
        flat[pix[batch_t(scene, ids, origin, ray) < limit]] = False
    blocked = np.repeat(np.repeat(~open_ & (prim >= 0), 2, axis=0), 2, axis=1)
    return blocked[:height, :width][surf.mask] & facing


def ambient_occlusion(scene: Scene, surf: Surface) -> np.ndarray:
    """Return (N,) factors in (0, 1] that darken room corners and the feet of objects."""
    kind = scene.tables['kind'][surf.prim]
    ao = np.ones(len(kind), np.float32)
    room = kind == Kind.ROOM
    ao[room] = 1.0 - 0.45 * np.exp(-surf.edge_gap[room] / 0.35)
    upright = ~room & (kind != Kind.GROUND) & (np.abs(surf.normal[2]) < 0.5)
    ao[upright] *= 1.0 - 0.35 * np.exp(-surf.point[2, upright] / 0.2)
    return ao


def irradiance(scene: Scene, pose: Pose, K: np.ndarray, surf: Surface) -> np.ndarray:
    """Return (N,) float32 incident light (linear units, 1 = full key light) per hit pixel."""
    light = scene.light
    to_light = _to_light(scene, surf.point)
    dist = np.sqrt((to_light * to_light).sum(axis=0))
    cosine = (surf.normal * to_light).sum(axis=0) / dist
    facing = cosine > 0
    direct = light.intensity * np.maximum(cosine, 0.0)
    if light.position is not None:
        direct /= 1.0 + (dist / 3.0) ** 2
    direct[shadows(scene, pose, K, surf, facing)] = 0.0
    sky_facing = 0.8 + 0.2 * surf.normal[2]
    return light.ambient * ambient_occlusion(scene, surf) * sky_facing + direct
