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

"""Pyramid pooling (PSPNet's context module), as Fast-SCNN's global feature extractor ends."""

from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from ..blocks import conv_bn_relu


def bin_weights(size: int, bins: int, dtype: torch.dtype) -> torch.Tensor:
    """
    Return the (bins, size) averaging matrix of adaptive average pooling along one axis.

    Bin i averages positions floor(i * size / bins) .. ceil((i + 1) * size / bins) - 1, as
    ``torch.nn.AdaptiveAvgPool2d`` does; a matrix keeps that exact for any input size in an
    ONNX export, where the exporter's adaptive pooling is fixed to the example's size.
    """
    i = torch.arange(bins)
    start = (i * size) // bins
    end = ((i + 1) * size + bins - 1) // bins
    position = torch.arange(size)
    inside = (position[None] >= start[:, None]) & (position[None] < end[:, None])
    weights = inside.to(dtype)
    return weights / weights.sum(1, keepdim=True)


def adaptive_average_pool(x: torch.Tensor, bins: int) -> torch.Tensor:
    """Average (N, C, H, W) into (N, C, bins, bins) cells, exactly as adaptive pooling."""
    rows = bin_weights(x.shape[-2], bins, x.dtype).to(x.device)
    cols = bin_weights(x.shape[-1], bins, x.dtype).to(x.device)
    return rows @ x @ cols.T


class PyramidPooling(nn.Module):
    """
    Pool to each bin grid, 1x1 conv to C/4, upsample, concatenate with x, 1x1 conv to C.

    (N, C, H, W) -> (N, C, H, W).

    :param channels: C.
    :param bins: grid sizes (PSPNet's and Fast-SCNN's 1, 2, 3, 6).
    """

    def __init__(self, channels: int, bins: Sequence[int] = (1, 2, 3, 6)) -> None:
        super().__init__()
        self.bins = tuple(bins)
        branch = channels // len(self.bins)
        self.branches = nn.ModuleList(conv_bn_relu(channels, branch, 1) for _ in self.bins)
        self.project = conv_bn_relu(channels + branch * len(self.bins), channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Add context pooled at every grid size to each position's features."""
        size = x.shape[-2:]
        pooled = [F.interpolate(branch(adaptive_average_pool(x, bins)), size=size,
                                mode='bilinear', align_corners=False)
                  for bins, branch in zip(self.bins, self.branches)]
        return self.project(torch.cat([x, *pooled], 1))
