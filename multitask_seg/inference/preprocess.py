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
Image checks, normalisation and resizing before the network.

What follows the network (upsampling, argmax, clamping) is each task's rule in
``multitask_seg.tasks``; ``upsample`` and ``labels_from_logits`` are re-exported here.
"""

from typing import Sequence
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ..tasks import labels_from_logits, upsample

__all__ = ['check_image', 'labels_from_logits', 'pixel_statistics', 'to_network_input',
           'upsample']


def check_image(image: np.ndarray, max_pixels: int) -> None:
    """Raise ValueError naming the problem unless ``image`` is an (H, W, 3) uint8 array."""
    if not isinstance(image, np.ndarray):
        raise ValueError(f'image must be a numpy array, got {type(image).__name__}')
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f'image must be H x W x 3 (RGB), got shape {image.shape}')
    if image.dtype != np.uint8:
        raise ValueError(f'image must be uint8, got {image.dtype}')
    height, width = image.shape[:2]
    if height < 1 or width < 1:
        raise ValueError(f'image is empty ({height}x{width})')
    if height * width > max_pixels:
        raise ValueError(f'image {height}x{width} has more than max_pixels={max_pixels} '
                         f'pixels; raise the limit if this is intended')


def pixel_statistics(mean: Sequence[float],
                     std: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Turn a checkpoint's normalisation (of RGB in [0, 1]) into 0-255 pixel terms.

    :return: (mean, std), each (1, 3, 1, 1) float32, as ``to_network_input`` takes them.
    """
    return (torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255,
            torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255)


def to_network_input(images: Sequence[np.ndarray], size: tuple[int, int] | None,
                     mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """
    Turn (H, W, 3) uint8 images into a normalised (N, 3, h, w) float32 batch.

    The batch is channels-last in memory (a free view of the stacked HWC bytes), the
    layout the CPU convolutions run fastest in. ``size`` = (h, w) resizes each image
    bilinearly; None keeps their own (then equal) size.
    """
    if size is None or all(image.shape[:2] == tuple(size) for image in images):
        return _normalise(np.stack(images), mean, std)
    return torch.cat([
        F.interpolate(_normalise(image[None], mean, std), size=size, mode='bilinear',
                      align_corners=False)
        for image in images])


def _normalise(images: np.ndarray, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        # Read-only arrays (a ROS message's buffer, a decoded PNG) are only read here:
        # .float() copies, so torch's warning about writing through them does not apply.
        warnings.simplefilter('ignore', UserWarning)
        batch = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    return batch.sub_(mean).div_(std)
