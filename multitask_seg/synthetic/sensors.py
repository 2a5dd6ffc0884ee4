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
"""Depth-sensor models that turn exact depth into realistic sensor depth (0 = no return)."""

import numpy as np

from .textures import fast_noise, noise_tables, sample

_KINECT_BASELINE = 0.075
_KINECT_FOCAL = 580.0


def _depth_edges(depth: np.ndarray, rel: float) -> np.ndarray:
    """Return (H, W) bool marking pixels next to a relative depth jump larger than `rel`."""
    edge = np.zeros(depth.shape, bool)
    for axis in (0, 1):
        a = np.moveaxis(depth, axis, 0)
        jump = np.abs(a[1:] - a[:-1]) > rel * np.maximum(a[1:], a[:-1])
        e = np.moveaxis(edge, axis, 0)
        e[1:] |= jump
        e[:-1] |= jump
    return edge


def kinect(depth: np.ndarray, K: np.ndarray, rng: np.random.Generator,
           dropout: np.ndarray, cosine: np.ndarray) -> np.ndarray:
    """
    Simulate a structured-light (Kinect v1) depth camera.

    :param depth: (H, W) float32 exact z-depth in metres, 0 where invalid.
    :param K: (3, 3) intrinsics of the image grid.
    :param rng: random generator for the noise and the holes.
    :param dropout: (H, W) float32 per-pixel probability of no return (glass, dark gloss).
    :param cosine: (H, W) float32 cosine between the surface normal and the viewing ray.

    :return: (H, W) float32 metres, 0 = invalid: depth-dependent noise and disparity quantisation,
        projector shadows left of foreground objects, ragged dropouts at depth edges, blob
        holes, dropouts on glass and at grazing angles, and a 0.5-8 m working range.
    """
    height, width = depth.shape
    valid = depth > 0
    safe = np.where(valid, depth, 1.0)
    sigma = 0.0012 + 0.0019 * (safe - 0.4) ** 2
    noisy = safe + sigma * fast_noise(rng, depth.shape)
    # The sensor reports disparity in 1/8 pixel steps at its native 640-pixel focal length.
    scale = _KINECT_FOCAL * _KINECT_BASELINE * 8.0
    out = scale / np.maximum(np.round(scale / np.maximum(noisy, 0.1)), 1.0)

    # The projector sits right of the camera: background just left of a near object never
    # receives the pattern. A pixel is shadowed when a pixel to its right projects further left.
    disparity = K[0, 0] * _KINECT_BASELINE / safe
    column = np.arange(width, dtype=np.float32)[None, :] - disparity
    column[~valid] = np.inf
    rightmost = np.minimum.accumulate(column[:, ::-1], axis=1)[:, ::-1]
    shadow = np.zeros_like(valid)
    shadow[:, :-1] = rightmost[:, 1:] < column[:, :-1] - 0.5

    edge = _depth_edges(depth, 0.04)
    edge[1:] |= edge[:-1] & (rng.random((height - 1, width), np.float32) < 0.5)
    edge &= rng.random(depth.shape, np.float32) < 0.75

    fine, smooth = noise_tables()
    offset = rng.uniform(0, 512, 2)
    cols = np.arange(width)[None, :] + offset[0]
    rows = np.arange(height)[:, None] + offset[1]
    blobs = sample(smooth, cols, rows, 0.8) + 0.5 * sample(fine, cols, rows, 1.0)
    holes = blobs > rng.uniform(2.3, 2.9)
    holes |= rng.random(depth.shape, np.float32) < dropout
    holes |= np.abs(cosine) < 0.12

    keep = valid & ~shadow & ~edge & ~holes & (out > 0.5) & (out < 8.0)
    return np.where(keep, out, 0.0).astype(np.float32)


def lidar(depth: np.ndarray, dirs: np.ndarray, rng: np.random.Generator, *,
          beams: int = 32, lowest_deg: float = -24.8, highest_deg: float = 2.0,
          azimuth_step_deg: float = 0.4, max_range: float = 80.0) -> np.ndarray:
    """
    Simulate a spinning multi-beam LiDAR projected into the image.

    :param depth: (H, W) float32 exact z-depth in metres, 0 where invalid (sky).
    :param dirs: (3, H, W) world ray directions (world z up).
    :param rng: random generator for range noise and missing returns.
    :param beams: number of laser rings, evenly spaced between `lowest_deg` and `highest_deg`.
    :param azimuth_step_deg: angle between consecutive firings of one beam.
    :param max_range: z-depth in metres beyond which nothing returns.

    :return: (H, W) float32 metres, 0 = no return. Each ring is a one-pixel curve of constant
        elevation, dotted by the azimuth step: about 5-10 % of a street image is valid.
    """
    flat = np.hypot(dirs[0], dirs[1])
    elevation = np.degrees(np.arctan2(dirs[2], flat))
    spacing = (highest_deg - lowest_deg) / (beams - 1)
    ring = np.floor((elevation - lowest_deg) / spacing)
    # Ring k lies between two rows exactly where the floored index drops from k to k - 1.
    on_ring = np.zeros(depth.shape, bool)
    on_ring[:-1] = (ring[:-1] != ring[1:]) & (ring[:-1] >= 0) & (ring[:-1] < beams)
    azimuth = np.degrees(np.arctan2(dirs[1], dirs[0])) / azimuth_step_deg
    firing = np.zeros(depth.shape, bool)
    firing[:, :-1] = np.floor(azimuth[:, :-1]) != np.floor(azimuth[:, 1:])
    keep = on_ring & firing & (depth > 0) & (depth < max_range)
    keep &= rng.random(depth.shape, np.float32) > 0.05
    noisy = depth + 0.02 * fast_noise(rng, depth.shape)
    return np.where(keep, noisy, 0.0).astype(np.float32)
