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
"""Procedural albedo textures evaluated at the hit points of one frame."""

import functools

import numpy as np

from .materials import Pattern
from .scene import Scene
from .surface import Surface

_TEX = 512


@functools.lru_cache(maxsize=1)
def noise_tables() -> tuple:
    """
    Return (fine, smooth): two tileable (512, 512) float32 noise images, zero mean, unit std.

    Built once per process from a fixed seed, so textures never depend on global state.
    """
    rng = np.random.default_rng(20260101)
    spectrum = np.fft.fft2(rng.standard_normal((_TEX, _TEX)))
    freq = np.fft.fftfreq(_TEX)
    radius2 = freq[:, None] ** 2 + freq[None, :] ** 2
    out = []
    for sigma in (0.8, 6.0):
        field = np.real(np.fft.ifft2(spectrum * np.exp(-2.0 * (np.pi * sigma) ** 2 * radius2)))
        out.append(((field - field.mean()) / field.std()).astype(np.float32))
    return tuple(out)


def fast_noise(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """
    Return float32 noise of zero mean and unit variance (uniform, from random bytes).

    Several times cheaper than Gaussian samples; after blur and quantisation the shape of
    the distribution is invisible.
    """
    raw = np.frombuffer(rng.bytes(int(np.prod(shape))), np.uint8).reshape(shape)
    return (raw.astype(np.float32) - 127.5) * np.float32(1.0 / 73.9)


def sample(table: np.ndarray, a: np.ndarray, b: np.ndarray, density: float) -> np.ndarray:
    """Nearest-texel lookup of a noise table at (a, b) metres with `density` texels per metre."""
    rows = (b * density).astype(np.int32) & (_TEX - 1)
    cols = (a * density).astype(np.int32) & (_TEX - 1)
    # A flat take is about twice as fast as 2-D fancy indexing.
    return np.take(table.reshape(-1), rows * _TEX + cols)


def hash01(n: np.ndarray) -> np.ndarray:
    """Map integers to reproducible pseudo-random floats in [0, 1)."""
    x = np.sin(np.asarray(n, np.float64) * 12.9898 + 78.233) * 43758.5453
    return (x - np.floor(x)).astype(np.float32)


def _mix(c1: np.ndarray, c2: np.ndarray, w: np.ndarray) -> np.ndarray:
    return c1 + (c2 - c1) * w[:, None]


def _pattern(kind: int, a, b, ea, eb, gap, c1, c2, scale, noise, param, prim):
    fine, smooth = noise_tables()
    if kind in (Pattern.FOLIAGE, Pattern.GLASS, Pattern.PICTURE):
        grain = None
    else:
        grain = noise * (0.5 * sample(fine, a, b, 180.0) + 0.7 * sample(smooth, a, b, 30.0))
    emit = np.zeros(len(a), bool)
    if kind == Pattern.PLAIN:
        col = c1 * (1.0 + grain[:, None])
    elif kind == Pattern.GRAIN:
        rings = np.tanh(1.5 * sample(smooth, a * 0.1, b, 90.0))
        col = _mix(c1, c2, 0.5 + 0.5 * rings) * (1.0 + 0.5 * grain[:, None])
    elif kind == Pattern.PLANKS:
        plank = np.floor(b / scale)
        shift = hash01(plank) * 7.0
        rings = np.tanh(1.5 * sample(smooth, (a + shift) * 0.08, b, 110.0))
        col = _mix(c1, c2, 0.5 + 0.5 * rings) * (0.8 + 0.35 * hash01(plank + 91.0))[:, None]
        seam = (b / scale - plank < 0.04) | (np.mod(a + shift, 2.4) < 0.01)
        col[seam] *= 0.45
    elif kind == Pattern.TILES:
        fa, fb = np.mod(a, scale), np.mod(b, scale)
        tile = np.floor(a / scale) * 57.0 + np.floor(b / scale)
        col = c1 * ((0.9 + 0.2 * hash01(tile)) + 0.4 * grain)[:, None]
        grout = np.minimum(fa, fb) < 0.012
        col[grout] = c2[grout]
    elif kind == Pattern.FACADE:
        fa, fb = np.mod(a, scale) / scale, np.mod(b, param) / param
        col = c1 * (1.0 + grain[:, None])
        window = (np.abs(fa - 0.5) < 0.22) & (np.abs(fb - 0.55) < 0.22) & (b > 0.5 * param)
        glow = 0.55 + 0.35 * sample(smooth, a, b, 8.0)[window] + 0.3 * fb[window]
        col[window] = c2[window] * glow[:, None]
        ledge = (fb < 0.05) & (b > 0.5 * param)
        col[ledge] *= 0.8
    elif kind == Pattern.FOLIAGE:
        leaf = 1.2 * sample(smooth, a, b, 45.0) + 0.8 * sample(fine, a, b, 160.0)
        col = _mix(c2, c1, 1.0 / (1.0 + np.exp(-2.5 * leaf)))
        col *= (0.8 + 0.2 * np.tanh(sample(fine, b, a, 260.0)))[:, None]
    elif kind == Pattern.ROAD:
        col = c1 * (1.0 + grain[:, None] + 0.06 * sample(smooth, a, b, 3.0)[:, None])
        dashed = (np.abs(b) < 0.07) & (np.mod(a, 9.0) < 3.0)
        edge = np.abs(np.abs(b) - param) < 0.07
        col[dashed | edge] = c2[dashed | edge] * 0.85
    elif kind == Pattern.GLASS:
        frame = (gap < 0.06) | (np.abs(a - 0.5 * ea) < 0.025)
        sky = 0.85 + 0.25 * (b / eb) + 0.15 * sample(smooth, a, b, 12.0)
        col = c1 * sky[:, None]
        col[frame] = c2[frame]
        emit = ~frame
    elif kind == Pattern.PICTURE:
        phase = hash01(prim)[:, None] * 6.28 + np.array([0.0, 2.1, 4.2], np.float32)
        swirl = 2.5 * sample(smooth, a, b, 60.0 * scale)[:, None]
        col = 0.5 + 0.45 * np.sin(phase + swirl)
        border = gap < 0.04
        col[border] = c2[border]
    else:
        panel = np.mod(a, scale)
        col = c1 * (1.0 + grain[:, None])
        groove = (panel < 0.012) | (gap < 0.015)
        handle = (np.abs(panel - scale + 0.06) < 0.012) & (np.abs(b - 0.6 * eb) < 0.07)
        col[groove] *= 0.55
        col[handle] = c2[handle]
    return col, emit


def albedo(scene: Scene, surf: Surface) -> tuple:
    """Return ((N, 3) float32 sRGB albedo in [0, 1], (N,) bool emissive) for the hit pixels."""
    table = scene.tables
    pattern = table['pattern'][surf.material]
    out = np.empty((len(pattern), 3), np.float32)
    emit = table['emissive'][surf.material]
    for kind in np.flatnonzero(np.bincount(pattern, minlength=Pattern.COUNT)):
        sel = np.flatnonzero(pattern == kind)
        mat = surf.material[sel]
        col, glow = _pattern(
            kind, surf.uv[0, sel], surf.uv[1, sel], surf.extent[0, sel], surf.extent[1, sel],
            surf.edge_gap[sel], np.take(table['color'], mat, axis=0),
            np.take(table['color2'], mat, axis=0), table['scale'][mat], table['noise'][mat],
            table['param'][mat], surf.prim[sel])
        out[sel] = col
        emit[sel] |= glow
    np.clip(out, 0.0, 1.0, out=out)
    return out, emit
