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
"""Colourised previews of frames: label palettes, a depth colour map and a contact sheet."""

from typing import Sequence

import numpy as np
from PIL import Image

from .classes import COLORS
from .render import Frame

# A few stops of a perceptually ordered map (dark purple -> blue -> green -> yellow), like the
# usual 'viridis'/'turbo' choices, interpolated in numpy so no plotting library is needed.
_STOPS = np.array([
    [0.27, 0.00, 0.33], [0.23, 0.32, 0.55], [0.13, 0.57, 0.55], [0.37, 0.79, 0.38],
    [0.99, 0.91, 0.14],
])


def colorize_depth(depth: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """
    Map (H, W) metres to (H, W, 3) uint8: near is yellow, far is purple, invalid (0) black.

    Depth is mapped logarithmically between `min_depth` and `max_depth` metres, so that both
    near and far structure get colour range.
    """
    valid = depth > 0
    span = np.log(max_depth / min_depth)
    near = np.log(max_depth / np.maximum(depth, 1e-3)) / span
    pos = np.clip(near, 0.0, 1.0) * (len(_STOPS) - 1)
    left = np.minimum(pos.astype(np.int64), len(_STOPS) - 2)
    frac = (pos - left)[..., None]
    rgb = _STOPS[left] * (1.0 - frac) + _STOPS[left + 1] * frac
    rgb[~valid] = 0.0
    return (rgb * 255.0 + 0.5).astype(np.uint8)


def colorize_labels(labels: np.ndarray, colors: Sequence) -> np.ndarray:
    """Map (H, W) class ids to (H, W, 3) uint8 colours; 255 (ignore) becomes black."""
    table = np.zeros((256, 3), np.uint8)
    table[:len(colors)] = np.asarray(colors, np.uint8)
    return table[labels]


def _dilate(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def frame_row(frame: Frame) -> np.ndarray:
    """Return (H, 4 W, 3) uint8: RGB | labels | exact depth | sensor depth."""
    limits = (0.7, 6.0) if frame.domain == 'indoor' else (2.0, 80.0)
    sensor = frame.sensor_depth
    if frame.domain == 'outdoor':
        # LiDAR returns are single pixels; thicken them so the rings stay visible when shrunk.
        sensor = np.where(_dilate(sensor > 0) & ~(sensor > 0), 0.0, sensor)
        grown = _dilate(sensor > 0)
        fill = np.maximum.reduce([np.roll(sensor, s, a) for s in (-1, 0, 1) for a in (0, 1)])
        sensor = np.where(grown, fill, 0.0)
    return np.concatenate([
        frame.rgb, colorize_labels(frame.labels, COLORS[frame.domain]),
        colorize_depth(frame.depth, *limits), colorize_depth(sensor, *limits)], axis=1)


def contact_sheet(frames: Sequence[Frame], path: str) -> None:
    """Write a PNG with one row per frame (see frame_row), rows separated by a white line."""
    rows = []
    for frame in frames:
        row = frame_row(frame)
        rows.extend([row, np.full((2, row.shape[1], 3), 255, np.uint8)])
    Image.fromarray(np.concatenate(rows[:-1], axis=0)).save(path)
