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

"""Class-id images to colour images, optionally blended over the camera image."""

from typing import Sequence

import numpy as np


def palette_lut(colors: Sequence[Sequence[int]], dtype: np.dtype) -> np.ndarray:
    """
    Return a lookup table (256 or 65536, 3) uint8 covering every id of ``dtype``.

    Ids past the palette (255 = ignore, for instance) map to black, so indexing with any
    label image of that dtype is safe.
    """
    size = np.iinfo(dtype).max + 1
    lut = np.zeros((size, 3), np.uint8)
    lut[:len(colors)] = np.asarray(colors, np.uint8).reshape(-1, 3)
    return lut


def colorize(labels: np.ndarray, lut: np.ndarray, image: np.ndarray | None = None,
             alpha: float = 1.0) -> np.ndarray:
    """
    Colour (H, W) class ids with ``lut``; blend over an (H, W, 3) uint8 image if given.

    :param labels: (H, W) uint8 or uint16 class ids.
    :param lut: a table from ``palette_lut``.
    :param image: the RGB image the labels came from, or None.
    :param alpha: weight of the class colour in [0, 1]; 1 ignores the image.

    :return: (H, W, 3) uint8 RGB.
    """
    color = lut[labels]
    if image is None or alpha >= 1.0:
        return color
    # Integer blending in 1/256 steps: several times faster than float for full frames.
    weight = np.uint16(round(alpha * 256))
    mixed = color.astype(np.uint16) * weight + image.astype(np.uint16) * (256 - weight)
    return (mixed >> 8).astype(np.uint8)
