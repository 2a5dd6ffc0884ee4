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

"""Light-Weight RefineNet decoder over any encoder that taps four levels."""

from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from .crp import ChainedResidualPooling


class RefineLevel(nn.Module):
    """
    Fuse one resolution: project taps to C, add the coarser level, ReLU6, CRP, adapt.

    :param in_channels: channels of each encoder tap at this resolution.
    :param channels: C, the decoder width.
    :param crp_stages: stages of the CRP block.
    :param depthwise_crp: depthwise 1x1 convs inside the CRP block.
    :param adapt: end with a 1x1 conv (every level but the finest has one).
    """

    def __init__(self, in_channels: Sequence[int], channels: int, crp_stages: int,
                 depthwise_crp: bool, adapt: bool) -> None:
        super().__init__()
        self.projections = nn.ModuleList(
            nn.Conv2d(c, channels, 1, bias=False) for c in in_channels)
        self.crp = ChainedResidualPooling(channels, crp_stages, depthwise_crp)
        self.adapt = nn.Conv2d(channels, channels, 1, bias=False) if adapt else nn.Identity()

    def forward(self, taps: Sequence[torch.Tensor],
                coarser: torch.Tensor | None) -> torch.Tensor:
        """Map taps (N, c_i, H, W) and the upsampled coarser level (N, C, H, W) to (N, C, H, W)."""
        x = coarser
        for projection, tap in zip(self.projections, taps):
            x = projection(tap) if x is None else x + projection(tap)
        return self.adapt(self.crp(F.relu6(x)))


class LightWeightRefineNet(nn.Module):
    """
    Coarse-to-fine fusion of encoder levels into one 1/4-resolution feature map.

    :param levels: channels of the taps per level, deepest first, as the encoder's ``levels``.
    :param channels: decoder width C (256 in the paper).
    :param crp_stages: stages of each CRP block.
    :param depthwise_last_crp: depthwise CRP at the finest level (the paper's multi-task net).
    """

    def __init__(self, levels: Sequence[Sequence[int]], channels: int = 256,
                 crp_stages: int = 4, depthwise_last_crp: bool = True) -> None:
        super().__init__()
        last = len(levels) - 1
        self.levels = nn.ModuleList(
            RefineLevel(taps, channels, crp_stages, depthwise_last_crp and i == last, i != last)
            for i, taps in enumerate(levels))
        self.out_channels = channels

    def forward(self, features: Sequence[Sequence[torch.Tensor]]) -> torch.Tensor:
        """Map encoder features (deepest first) to (N, C, H/4, W/4) for a stride-4 finest tap."""
        x = None
        for level, taps in zip(self.levels, features):
            if x is not None:
                x = F.interpolate(x, size=taps[0].shape[-2:], mode='bilinear',
                                  align_corners=False)
            x = level(taps, x)
        return x
