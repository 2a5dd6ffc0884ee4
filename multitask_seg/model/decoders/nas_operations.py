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
The operations a NAS genotype names, by index (Nekrasov et al., CVPR 2019).

The index order is the one the authors' genotypes use (their ``OP_NAMES``). Every
operation keeps the channel count and the spatial size; ``repeats`` stacks the separable
convolutions (2 for the published NYUD depth decoders).
"""

from typing import Callable

import torch
from torch import nn

from ..blocks import conv_bn_relu


def separable(channels: int, kernel: int, dilation: int, repeats: int) -> nn.Sequential:
    """``repeats`` x (depthwise k x k conv, 1x1 conv, BN, ReLU)."""
    return nn.Sequential(*(
        nn.Sequential(nn.Conv2d(channels, channels, kernel, padding=dilation * (kernel // 2),
                                dilation=dilation, groups=channels, bias=False),
                      conv_bn_relu(channels, channels, 1))
        for _ in range(repeats)))


class GlobalAveragePool(nn.Module):
    """Mean over the image, 1x1 conv-BN-ReLU, spread back over every position."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = conv_bn_relu(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W), constant over H and W."""
        return self.conv(x.mean((2, 3), keepdim=True)).expand_as(x)


class Zero(nn.Module):
    """The 'none' operation: contributes nothing."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return zeros shaped like x."""
        return torch.zeros_like(x)


OPERATIONS: tuple[tuple[str, Callable[[int, int], nn.Module]], ...] = (
    ('conv1x1', lambda c, r: conv_bn_relu(c, c, 1)),
    ('conv3x3', lambda c, r: conv_bn_relu(c, c, 3)),
    ('sep_conv_3x3', lambda c, r: separable(c, 3, 1, r)),
    ('sep_conv_5x5', lambda c, r: separable(c, 5, 1, r)),
    ('global_average_pool', lambda c, r: GlobalAveragePool(c)),
    ('conv3x3_dil3', lambda c, r: conv_bn_relu(c, c, 3, dilation=3)),
    ('conv3x3_dil12', lambda c, r: conv_bn_relu(c, c, 3, dilation=12)),
    ('sep_conv_3x3_dil3', lambda c, r: separable(c, 3, 3, r)),
    ('sep_conv_5x5_dil6', lambda c, r: separable(c, 5, 6, r)),
    ('skip_connect', lambda c, r: nn.Identity()),
    ('none', lambda c, r: Zero()),
)


def operation(index: int, channels: int, repeats: int) -> nn.Module:
    """Build operation ``index`` of ``OPERATIONS`` on ``channels`` channels."""
    if not 0 <= index < len(OPERATIONS):
        raise ValueError(f'genotype names operation {index}; there are {len(OPERATIONS)}')
    return OPERATIONS[index][1](channels, repeats)
