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
Fast-SCNN's encoder: learning to downsample, then the global feature extractor.

Poudel, Liwicki, Cipolla, "Fast-SCNN: Fast Semantic Segmentation Network", BMVC 2019,
Table 1. The 1/8 features of learning to downsample are the detail branch the feature
fusion module reads; the global feature extractor adds context at 1/32.
"""

import torch
from torch import nn

from .mobilenet_v2 import InvertedResidual
from .pyramid_pooling import PyramidPooling
from ..blocks import conv_bn_relu, DepthwiseSeparable

# (expansion t, output channels c, repeats n, first stride s), Table 1 of the paper.
BOTTLENECK_ROWS = ((6, 64, 3, 2), (6, 96, 3, 2), (6, 128, 3, 1))


class LearningToDownsample(nn.Sequential):
    """Conv 3x3 s2 -> 32, DSConv s2 -> 48, DSConv s2 -> 64: (N, 3, H, W) -> (N, 64, H/8, W/8)."""

    def __init__(self) -> None:
        super().__init__(conv_bn_relu(3, 32, 3, stride=2), DepthwiseSeparable(32, 48, 2),
                         DepthwiseSeparable(48, 64, 2))


class GlobalFeatureExtractor(nn.Sequential):
    """
    MobileNet-v2 bottlenecks, then pyramid pooling: (N, 64, h, w) -> (N, 128, h/4, w/4).

    The bottlenecks are MobileNet-v2's inverted residuals (ReLU6, linear projection).
    """

    def __init__(self) -> None:
        blocks: list[nn.Module] = []
        in_ch = 64
        for t, c, n, s in BOTTLENECK_ROWS:
            for i in range(n):
                blocks.append(InvertedResidual(in_ch, c, s if i == 0 else 1, t))
                in_ch = c
        super().__init__(*blocks, PyramidPooling(in_ch))


class FastSCNNEncoder(nn.Module):
    """
    Learning to downsample and the global feature extractor.

    ``forward`` maps a (N, 3, H, W) normalised image to [detail (N, 64, H/8, W/8),
    context (N, 128, H/32, W/32)] (each size rounded up).
    """

    detail_channels = 64
    context_channels = 128

    def __init__(self) -> None:
        super().__init__()
        self.downsample = LearningToDownsample()
        self.global_features = GlobalFeatureExtractor()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Return the detail and the context features."""
        detail = self.downsample(x)
        return [detail, self.global_features(detail)]
