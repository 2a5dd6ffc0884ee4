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
"""Per-pixel surface attributes of ray hits: point, face, normal, texture coordinates."""

from dataclasses import dataclass

import numpy as np

from .scene import Kind, N_FACES, Scene


@dataclass
class Surface:
    """
    Attributes of the N pixels whose ray hit something, in raster order.

    Vectors are stored as (3, N) or (2, N) float32 arrays (one contiguous row per component).

    :ivar mask: (H, W) bool, True where a surface was hit.
    :ivar prim: (N,) int32 primitive ids.
    :ivar depth: (N,) float32 z-depth, metres.
    :ivar point: (3, N) world hit points, metres.
    :ivar normal: (3, N) unit world normals on the side the ray arrives from.
    :ivar uv: (2, N) texture coordinates on the face, metres from a face corner.
    :ivar extent: (2, N) face size along uv, metres.
    :ivar edge_gap: (N,) distance from the hit point to the nearest edge of its face, metres.
    :ivar cls: (N,) uint8 class ids.
    :ivar material: (N,) int32 material ids.
    """

    mask: np.ndarray
    prim: np.ndarray
    depth: np.ndarray
    point: np.ndarray
    normal: np.ndarray
    uv: np.ndarray
    extent: np.ndarray
    edge_gap: np.ndarray
    cls: np.ndarray
    material: np.ndarray


def surface(scene: Scene, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray,
            prim: np.ndarray) -> Surface:
    """Describe the hit surfaces of a cast (see raycast.cast for the inputs)."""
    mask = prim >= 0
    pixels = np.flatnonzero(mask)
    idx = prim.reshape(-1)[pixels]
    depth = t.reshape(-1)[pixels]
    # np.take along an axis is several times faster than fancy indexing of 2-D arrays.
    ray = np.take(dirs.reshape(3, -1), pixels, axis=1)
    point = ray * depth + np.asarray(origin, np.float32)[:, None]
    table = scene.tables
    c, s = table['cos'][idx], table['sin'][idx]
    rel = point - np.take(table['center'], idx, axis=1)
    local = np.stack([c * rel[0] + s * rel[1], c * rel[1] - s * rel[0], rel[2]])
    half = np.take(table['half'], idx, axis=1)
    ratio = np.abs(local) / half
    is_x = (ratio[0] >= ratio[1]) & (ratio[0] >= ratio[2])
    is_z = ~is_x & (ratio[2] > ratio[1])
    is_y = ~is_x & ~is_z
    positive = np.where(is_x, local[0], np.where(is_y, local[1], local[2])) > 0
    face = np.where(is_x, 0, np.where(is_y, 2, 4)) + positive
    sign = np.where(positive, 1.0, -1.0).astype(np.float32) * table['flip'][idx]
    nx, ny, nz = is_x * sign, is_y * sign, is_z * sign
    normal = np.stack([c * nx - s * ny, s * nx + c * ny, nz])

    # Texture axes: horizontal then vertical on sides, x then y on tops and bottoms.
    shifted = local + half
    uv = np.stack([np.where(is_x, shifted[1], shifted[0]), np.where(is_z, shifted[1], shifted[2])])
    size = 2.0 * half
    extent = np.stack([np.where(is_x, size[1], size[0]), np.where(is_z, size[1], size[2])])
    gap = half - np.abs(local)
    gap[0][is_x] = np.inf
    gap[1][is_y] = np.inf
    gap[2][is_z] = np.inf
    edge_gap = gap.min(axis=0)

    kind = table['kind'][idx]
    ell = np.flatnonzero(kind == Kind.ELLIPSOID)
    if len(ell):
        face[ell] = 6
        sphere = np.take(local, ell, axis=1) / np.take(half, ell, axis=1)
        normal[:, ell] = sphere / np.sqrt((sphere * sphere).sum(axis=0))
        uv[0, ell] = np.arctan2(local[1, ell], local[0, ell]) * half[0, ell]
        uv[1, ell] = shifted[2, ell]
    gnd = kind == Kind.GROUND
    if gnd.any():
        face = np.where(gnd, np.where(np.abs(point[1]) <= scene.road_half, 0, 6), face)
        normal = np.where(gnd, np.array([[0.0], [0.0], [1.0]], np.float32), normal)
        uv = np.where(gnd, point[:2], uv)
        extent = np.where(gnd, np.float32(1e6), extent)
    flat = idx * N_FACES + face
    return Surface(mask=mask, prim=idx, depth=depth, point=point, normal=normal, uv=uv,
                   extent=extent, edge_gap=edge_gap,
                   cls=scene.face_class.ravel()[flat], material=scene.face_material.ravel()[flat])
