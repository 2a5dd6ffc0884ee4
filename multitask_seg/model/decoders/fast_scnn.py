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
Fast-SCNN's feature fusion module and classifier (Poudel et al., BMVC 2019, Tables 1-2).

The classifier is the task-specific part: each task gets its own on the fused features.
"""

import torch
from torch import nn
import torch.nn.functional as F

from ..blocks import conv_bn_relu, DepthwiseSeparable


class FeatureFusion(nn.Module):
    """
    Upsample context to the detail's size, depthwise 3x3 (dilation 4), 1x1; add a 1x1 of detail.

    ([detail (N, Cd, h, w), context (N, Cc, h', w')]) -> (N, C, h, w), ReLU of the sum.

    :param detail_channels: Cd (64).
    :param context_channels: Cc (128).
    :param channels: C (128).
    """

    def __init__(self, detail_channels: int, context_channels: int, channels: int) -> None:
        super().__init__()
        # Dilation 4 matches the x4 upsampling: the 3x3 taps fall on distinct low-res pixels.
        self.context = nn.Sequential(
            conv_bn_relu(context_channels, context_channels, 3, groups=context_channels,
                         dilation=4),
            conv_bn_relu(context_channels, channels, 1, relu=False))
        self.detail = conv_bn_relu(detail_channels, channels, 1, relu=False)
        self.out_channels = channels

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        """Fuse the two branches at the detail branch's resolution (1/8)."""
        detail, context = features
        context = F.interpolate(context, size=detail.shape[-2:], mode='bilinear',
                                align_corners=False)
        return F.relu(self.detail(detail) + self.context(context))


def classifier(in_channels: int, out_channels: int) -> nn.Sequential:
    """Two DSConv then a 1x1 conv with bias: (N, C, h, w) -> (N, out_channels, h, w)."""
    return nn.Sequential(DepthwiseSeparable(in_channels, in_channels),
                         DepthwiseSeparable(in_channels, in_channels),
                         nn.Conv2d(in_channels, out_channels, 1))
