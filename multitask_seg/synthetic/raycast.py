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
Vectorised ray casting of boxes, ellipsoids, a room interior and a ground plane.

Rays are cast only through the screen window that a primitive can cover (the projection of its
corners, clipped at the near plane), so small or distant objects cost little.
"""

import itertools

import numpy as np

from .camera import Pose, to_camera
from .scene import Kind, Scene

EPS = 1e-4
NEAR = 0.05
_SIGNS = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))


def box_corners(center: np.ndarray, half: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Return (P, 8, 3) world corners of P yawed boxes (centres, half extents in metres)."""
    local = _SIGNS[None] * half[:, None, :]
    c, s = np.cos(yaw)[:, None], np.sin(yaw)[:, None]
    out = np.empty_like(local)
    out[..., 0] = c * local[..., 0] - s * local[..., 1]
    out[..., 1] = s * local[..., 0] + c * local[..., 1]
    out[..., 2] = local[..., 2]
    return out + center[:, None, :]


def screen_windows(points: np.ndarray, pose: Pose, K: np.ndarray, height: int,
                   width: int) -> np.ndarray:
    """
    Return (P, 4) int pixel windows [v0, v1, u0, u1) covering the hulls of (P, N, 3) points.

    Each hull is clipped at the near plane (segments between points on either side are cut), so
    objects that reach behind the camera still get a tight window. Empty windows have v0 >= v1.
    """
    cam = to_camera(points, pose)
    i, j = np.triu_indices(points.shape[1], 1)
    zi, zj = cam[:, i, 2], cam[:, j, 2]
    cross = (zi - NEAR) * (zj - NEAR) < 0
    with np.errstate(divide='ignore', invalid='ignore'):
        s = np.where(cross, (NEAR - zi) / (zj - zi), 0.0)
    cut = cam[:, i] + s[..., None] * (cam[:, j] - cam[:, i])
    cand = np.concatenate([cam, cut], axis=1)
    valid = np.concatenate([cam[..., 2] >= NEAR, cross], axis=1)
    z = np.maximum(cand[..., 2], NEAR)
    u = K[0, 0] * cand[..., 0] / z + K[0, 2]
    v = K[1, 1] * cand[..., 1] / z + K[1, 2]
    big = 1e9
    u = np.clip(u, -big, big)
    v = np.clip(v, -big, big)
    box = np.stack([np.where(valid, v, big).min(1), np.where(valid, v, -big).max(1),
                    np.where(valid, u, big).min(1), np.where(valid, u, -big).max(1)], axis=1)
    box[:, [0, 2]] = np.floor(box[:, [0, 2]])
    box[:, [1, 3]] = np.ceil(box[:, [1, 3]]) + 1
    limits = np.array([height, height, width, width])
    return np.clip(box, 0, limits).astype(np.int64)


def ray_box(o: tuple, d: tuple, center: np.ndarray, half: np.ndarray, cs: tuple = None,
            inv: tuple = None) -> np.ndarray:
    """
    Return the entry parameter t of rays o + t d into yawed boxes, inf where they miss.

    o and d are 3-tuples of scalars or broadcastable arrays (world frame, metres); center and
    half index their first axis by coordinate and broadcast likewise. `cs` is (cos, sin) of
    the yaw, None for axis-aligned boxes, which may reuse a given `inv` = 1 / d. Call under
    np.errstate(all='ignore'): rays parallel to a slab divide by zero on purpose.
    """
    px, py, pz = o[0] - center[0], o[1] - center[1], o[2] - center[2]
    if cs is not None:
        c, s = cs
        px, py = c * px + s * py, c * py - s * px
        d = (c * d[0] + s * d[1], c * d[1] - s * d[0], d[2])
        inv = None
    if inv is None:
        # np.divide gives inf for scalar zeros too, where Python would raise.
        inv = tuple(np.divide(1.0, dk) for dk in d)
    tnear, tfar = None, None
    for p, ik, h in ((px, inv[0], half[0]), (py, inv[1], half[1]), (pz, inv[2], half[2])):
        ta = (-h - p) * ik
        tb = (h - p) * ik
        lo, hi = np.minimum(ta, tb), np.maximum(ta, tb)
        tnear = lo if tnear is None else np.maximum(tnear, lo)
        tfar = hi if tfar is None else np.minimum(tfar, hi)
    return np.where((tnear <= tfar) & (tnear > EPS), tnear, np.inf)


def ray_ellipsoid(o: tuple, d: tuple, center: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """
    Return the entry parameter t of rays o + t d into axis-aligned ellipsoids, inf on miss.

    Broadcasting as in ray_box. Call under np.errstate(all='ignore') (negative discriminants).
    """
    q = [(o[k] - center[k]) / radii[k] for k in range(3)]
    e = [d[k] / radii[k] for k in range(3)]
    a = e[0] * e[0] + e[1] * e[1] + e[2] * e[2]
    b = q[0] * e[0] + q[1] * e[1] + q[2] * e[2]
    c = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] - 1.0
    disc = b * b - a * c
    t = (-b - np.sqrt(disc)) / a
    return np.where((disc > 0) & (t > EPS), t, np.inf)


def primitive_t(scene: Scene, idx: int, o: tuple, d: tuple, inv: tuple = None) -> np.ndarray:
    """Intersect rays with the single closed primitive `idx` (see ray_box)."""
    table = scene.tables
    if scene.kind[idx] == Kind.ELLIPSOID:
        return ray_ellipsoid(o, d, table['center'][:, idx], table['half'][:, idx])
    cs = (table['cos'][idx], table['sin'][idx]) if scene.yaw[idx] else None
    return ray_box(o, d, table['center'][:, idx], table['half'][:, idx], cs, inv)


def batch_t(scene: Scene, ids: np.ndarray, o: tuple, d: tuple) -> np.ndarray:
    """Intersect ray i with closed primitive ids[i] for every i; o and d are (3, n) or scalars."""
    table = scene.tables
    out = np.full(len(ids), np.inf, np.float32)
    for kind in (Kind.BOX, Kind.ELLIPSOID):
        sel = np.flatnonzero(table['kind'][ids] == kind)
        if len(sel) == 0:
            continue
        which = ids[sel]
        os = tuple(v if np.isscalar(v) else v[sel] for v in o)
        ds = tuple(v if np.isscalar(v) else v[sel] for v in d)
        center, half = table['center'][:, which], table['half'][:, which]
        if kind == Kind.BOX:
            out[sel] = ray_box(os, ds, center, half, (table['cos'][which], table['sin'][which]))
        else:
            out[sel] = ray_ellipsoid(os, ds, center, half)
    return out


def window_pixels(windows: np.ndarray, width: int) -> tuple:
    """Enumerate the pixels of (M, 4) windows: (window index, flat pixel index), both (n,)."""
    rows, cols = windows[:, 1] - windows[:, 0], windows[:, 3] - windows[:, 2]
    count = rows * cols
    owner = np.repeat(np.arange(len(windows)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    span = cols[owner]
    return owner, (windows[owner, 0] + k // span) * width + windows[owner, 2] + k % span


def split_windows(windows: np.ndarray, small: int = 128) -> tuple:
    """
    Split windows into (large ids, small ids); empty windows are dropped.

    Large windows are cast one primitive at a time on image slices; small ones together in
    one batch, since per-call overhead would dominate their few pixels.
    """
    area = np.maximum(windows[:, 1] - windows[:, 0], 0) * np.maximum(
        windows[:, 3] - windows[:, 2], 0)
    return np.flatnonzero(area > small), np.flatnonzero((area > 0) & (area <= small))


def hull_points(scene: Scene) -> np.ndarray:
    """Return (P, 8, 3) corners bounding every primitive (ellipsoids by their bounding box)."""
    yaw = np.where(scene.kind == Kind.ELLIPSOID, 0.0, scene.yaw)
    return box_corners(scene.center, scene.half, yaw)


def cast(scene: Scene, pose: Pose, dirs: np.ndarray, K: np.ndarray) -> tuple:
    """
    Find the first surface along every pixel ray.

    :param scene: the scene.
    :param pose: camera pose.
    :param dirs: (3, H, W) float32 world rays with unit camera-frame z (see camera.world_rays).
    :param K: (3, 3) intrinsics.

    :return: (t, prim): t is (H, W) float32, the z-depth in metres of the first hit (inf
        where nothing is hit); prim is (H, W) int32, the id of the primitive hit (-1: none).
    """
    with np.errstate(all='ignore'):
        return _cast(scene, pose, dirs, K)


def _cast(scene: Scene, pose: Pose, dirs: np.ndarray, K: np.ndarray) -> tuple:
    _, height, width = dirs.shape
    o = tuple(float(v) for v in pose.position)
    inv = 1.0 / dirs
    t = np.full((height, width), np.inf, np.float32)
    prim = np.full((height, width), -1, np.int32)
    for idx in np.flatnonzero(scene.kind >= Kind.ROOM):
        if scene.kind[idx] == Kind.GROUND:
            cand = np.where(dirs[2] < 0, -o[2] * inv[2], np.inf)
        else:
            lo = scene.center[idx] - scene.half[idx]
            hi = scene.center[idx] + scene.half[idx]
            exits = [(np.where(dirs[k] > 0, hi[k], lo[k]) - o[k]) * inv[k] for k in range(3)]
            cand = np.minimum(np.minimum(exits[0], exits[1]), exits[2])
        closer = cand < t
        t[closer] = cand[closer]
        prim[closer] = idx
    closed = np.flatnonzero(scene.kind < Kind.ROOM)
    windows = screen_windows(hull_points(scene)[closed], pose, K, height, width)
    large, small = split_windows(windows)
    for idx, (v0, v1, u0, u1) in zip(closed[large], windows[large]):
        cand = primitive_t(scene, idx, o, dirs[:, v0:v1, u0:u1], inv[:, v0:v1, u0:u1])
        t_win = t[v0:v1, u0:u1]
        closer = cand < t_win
        t_win[closer] = cand[closer]
        prim[v0:v1, u0:u1][closer] = idx
    owner, pix = window_pixels(windows[small], width)
    ids = closed[small][owner]
    cand = batch_t(scene, ids, o, dirs.reshape(3, -1)[:, pix])
    t_flat, prim_flat = t.reshape(-1), prim.reshape(-1)
    hit = np.flatnonzero(cand < t_flat[pix])
    # Several primitives may hit one pixel: write far to near so the nearest lands last.
    order = hit[np.argsort(-cand[hit], kind='stable')]
    t_flat[pix[order]] = cand[order]
    prim_flat[pix[order]] = ids[order]
    return t, prim
