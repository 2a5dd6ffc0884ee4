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
Surface materials and the shared colour palettes they draw from.

Every class samples its colours from palettes that other classes also use (a grey wall, a grey
cabinet and a grey floor are all possible), so a network has to rely on shape and context.
"""

from dataclasses import dataclass
import functools

import numpy as np


class Pattern:
    """Procedural texture families (see textures.py); plain ints, cheap to look up."""

    PLAIN = 0
    GRAIN = 1
    PLANKS = 2
    TILES = 3
    FACADE = 4
    FOLIAGE = 5
    ROAD = 6
    GLASS = 7
    PICTURE = 8
    PANELS = 9
    COUNT = 10


@dataclass(frozen=True)
class Material:
    """
    One surface appearance.

    :ivar color: (3,) main albedo, sRGB in [0, 1].
    :ivar color2: (3,) secondary albedo (grain, grout, window glass, frame), sRGB in [0, 1].
    :ivar pattern: texture family.
    :ivar scale: pattern period in metres (plank width, tile size, window spacing, ...).
    :ivar noise: relative amplitude of the albedo noise.
    :ivar param: pattern-specific extra value (lane half-width for ROAD, storey height for FACADE).
    :ivar ir_dropout: probability that a structured-light sensor returns no depth here.
    :ivar emissive: shade with constant brightness (daylight through a window).
    """

    color: tuple
    color2: tuple = (0.0, 0.0, 0.0)
    pattern: int = Pattern.PLAIN
    scale: float = 1.0
    noise: float = 0.08
    param: float = 0.0
    ir_dropout: float = 0.0
    emissive: bool = False


_PAINTS = np.array([
    [0.92, 0.91, 0.87], [0.85, 0.80, 0.70], [0.75, 0.75, 0.74], [0.62, 0.66, 0.70],
    [0.70, 0.78, 0.66], [0.88, 0.80, 0.62], [0.55, 0.52, 0.50], [0.80, 0.66, 0.60],
    [0.45, 0.55, 0.62], [0.35, 0.36, 0.38], [0.66, 0.58, 0.72], [0.95, 0.95, 0.95],
])
_WOODS = np.array([
    [0.62, 0.45, 0.30], [0.48, 0.32, 0.20], [0.78, 0.64, 0.46], [0.36, 0.24, 0.16],
    [0.70, 0.55, 0.40], [0.55, 0.50, 0.45],
])
_VIVID = np.array([
    [0.70, 0.12, 0.10], [0.12, 0.25, 0.55], [0.15, 0.45, 0.25], [0.85, 0.70, 0.15],
    [0.08, 0.08, 0.09], [0.80, 0.80, 0.82], [0.45, 0.47, 0.50], [0.55, 0.30, 0.12],
    [0.30, 0.50, 0.20], [0.60, 0.62, 0.64],
])
_GREENS = np.array([
    [0.22, 0.36, 0.14], [0.30, 0.42, 0.18], [0.16, 0.26, 0.12], [0.42, 0.45, 0.20],
    [0.50, 0.40, 0.18], [0.35, 0.38, 0.30],
])
PALETTES = {'paint': _PAINTS, 'wood': _WOODS, 'vivid': _VIVID, 'green': _GREENS}


@functools.lru_cache(maxsize=None)
def _union(palettes: tuple) -> np.ndarray:
    return np.concatenate([PALETTES[name] for name in palettes])


def pick_color(rng: np.random.Generator, *palettes: str, jitter: float = 0.06) -> tuple:
    """
    Return an sRGB colour in [0, 1] drawn from the union of the named palettes.

    The palette entry is scaled in brightness and jittered per channel by about `jitter`.
    """
    table = _union(palettes)
    r = rng.random(5)
    base = table[int(r[0] * len(table))] * (0.8 + 0.35 * r[1])
    # Uniform jitter with the standard deviation `jitter`: cheaper than three normals.
    noise = (r[2:] - 0.5) * (3.46 * jitter)
    return tuple(np.clip(base + noise, 0.02, 1.0).tolist())


def shade(color: tuple, factor: float) -> tuple:
    """Return `color` scaled by `factor`, clipped to [0, 1]."""
    return tuple(min(max(float(c) * factor, 0.0), 1.0) for c in color)
