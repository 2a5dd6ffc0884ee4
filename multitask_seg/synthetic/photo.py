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
From shaded colours to an 8-bit photo: sky, haze, exposure, vignetting, blur, noise.

Shading happens in display space: with a gamma of 2, linear albedo a^2 lit by irradiance E
displays as a * sqrt(E), so one square root per pixel replaces a gamma round trip per channel.
"""

import functools

import numpy as np

from .scene import Light
from .textures import fast_noise, noise_tables, sample


def sky_radiance(light: Light, dirs: np.ndarray) -> np.ndarray:
    """Return (N, 3) float32 display-space sky colours for (3, N) ray directions (any length)."""
    horizon, zenith = (np.asarray(c, np.float32) for c in light.sky)
    flat = np.hypot(dirs[0], dirs[1])
    elevation = np.arctan2(dirs[2], flat)
    w = np.clip(elevation / 0.6, 0.0, 1.0) ** 0.6
    col = horizon + (zenith - horizon) * w[:, None]
    _, smooth = noise_tables()
    # Clouds live on a plane above the camera, so they shrink towards the horizon.
    height = 1.0 / np.maximum(dirs[2] / flat, 0.02)
    cloud = sample(smooth, dirs[0] / flat * height, dirs[1] / flat * height, 3.0)
    cover = np.clip(cloud + 2.5 * light.cloudiness - 1.2, 0.0, 1.0)[:, None]
    white = np.full(3, 0.85, np.float32) * (0.8 + 0.2 * w[:, None])
    return col + (white - col) * cover


def haze(color: np.ndarray, depth: np.ndarray, light: Light) -> np.ndarray:
    """Fade (N, 3) display colours of surfaces at `depth` metres towards the horizon colour."""
    if light.sky is None:
        return color
    keep = np.exp(-depth / light.haze)[:, None]
    horizon = np.asarray(light.sky[0], np.float32)
    return color * keep + horizon * (1.0 - keep)


@functools.lru_cache(maxsize=4)
def _vignette(height: int, width: int) -> np.ndarray:
    v = np.linspace(-1.0, 1.0, height)[:, None]
    u = np.linspace(-1.0, 1.0, width)[None, :]
    return (1.0 - 0.22 * (u * u + v * v) / 2.0).astype(np.float32)[..., None]


def develop(color: np.ndarray, rng: np.random.Generator, exposure: float) -> np.ndarray:
    """
    Turn an (H, W, 3) float32 display-space image into an (H, W, 3) uint8 photo.

    Auto-exposure maps the mean to mid-grey, then `exposure` (a multiplier near 1) over- or
    under-exposes the frame. White balance, vignetting, a slight optical blur and
    signal-dependent noise follow.
    """
    height, width, _ = color.shape
    gain = exposure * 0.45 / max(float(color[::4, ::4].mean()), 1e-4)
    balance = rng.normal(1.0, 0.04, 3).astype(np.float32) * np.float32(gain)
    img = color * (_vignette(height, width) * balance)
    np.clip(img, 0.0, 1.0, out=img)
    # A 5-tap blur stands in for lens blur and softens the aliased ray-cast edges.
    blurred = img * 0.5
    blurred[1:] += 0.125 * img[:-1]
    blurred[:-1] += 0.125 * img[1:]
    blurred[:, 1:] += 0.125 * img[:, :-1]
    blurred[:, :-1] += 0.125 * img[:, 1:]
    for edge in (blurred[0], blurred[-1], blurred[:, 0], blurred[:, -1]):
        edge *= 1.25
    # Shot noise grows with the signal; the constant term is read noise.
    noise = fast_noise(rng, img.shape)
    noise *= blurred + 0.4
    blurred *= 255.0
    blurred += rng.uniform(0.006, 0.02) * 255.0 * noise
    blurred += 0.5
    return np.clip(blurred, 0.0, 255.0, out=blurred).astype(np.uint8)
