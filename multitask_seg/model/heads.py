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

"""Per-task prediction heads on the shared decoder features."""

import torch
from torch import nn
import torch.nn.functional as F


class TaskHead(nn.Module):
    """
    Depthwise 1x1 conv, ReLU6, 3x3 conv with bias: (N, C, h, w) -> (N, out, h, w).

    :param in_channels: C, the decoder width.
    :param out_channels: classes for segmentation (logits), 1 for depth (metres), 3 for normals.
    :param unit_norm: scale the output to unit length per pixel (surface normals).
    """

    def __init__(self, in_channels: int, out_channels: int, unit_norm: bool = False) -> None:
        super().__init__()
        self.pre = nn.Conv2d(in_channels, in_channels, 1, groups=in_channels, bias=False)
        self.out = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=True)
        self.unit_norm = unit_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the task's raw output at the input's resolution."""
        y = self.out(F.relu6(self.pre(x)))
        return F.normalize(y, dim=1) if self.unit_norm else y


class OutputHead(nn.Module):
    """
    A family's own task layers on the shared decoder features, then unit length for normals.

    :param layers: (N, C, h, w) -> (N, out, h', w'), e.g. Fast-SCNN's classifier.
    :param unit_norm: scale the output to unit length per pixel (surface normals).
    """

    def __init__(self, layers: nn.Module, unit_norm: bool = False) -> None:
        super().__init__()
        self.layers = layers
        self.unit_norm = unit_norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the task's raw output."""
        y = self.layers(x)
        return F.normalize(y, dim=1) if self.unit_norm else y
