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
ESPNet's light decoder (Mehta et al., ECCV 2018, Figure 4d).

The paper's decoder works at the width of its output: the 1/8 and 1/4 encoder levels are
projected to that width, the coarser one upsampled by a 2x2 deconvolution, the two fused
by an ESP module, upsampled again, fused with the 1/2 level by a 3x3 conv, and a last 2x2
deconvolution gives full resolution. That last deconvolution is each task's head.
"""

import torch
from torch import nn

from ..esp import batch_norm_prelu, conv_bn_prelu, ESPModule

# The published decoder is as wide as Cityscapes' 20 outputs; narrower joint outputs keep
# that width so every ESP branch has channels.
MIN_WIDTH = 20


def decoder_width(tasks: dict[str, int]) -> int:
    """Return the width for ``tasks``: all their output channels side by side, at least 20."""
    return max(MIN_WIDTH, sum(tasks.values()))


def _crop_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    # A 2x deconvolution of ceil(h / 2) rows gives h or h + 1; the extra one is padding.
    return x[..., :like.shape[-2], :like.shape[-1]]


class ESPNetDecoder(nn.Module):
    """
    Fuse ESPNet-C's three levels into one 1/2-resolution map.

    [(N, C1, H/2, W/2), (N, C2, H/4, W/4), (N, C3, H/8, W/8)] -> (N, width, H/2, W/2).

    :param levels: (C1, C2, C3), as ``ESPNetC.levels``.
    :param width: the decoder width (the paper: its number of classes).
    """

    def __init__(self, levels: tuple[int, int, int], width: int) -> None:
        super().__init__()
        c1, c2, c3 = levels
        self.project3 = nn.Sequential(nn.Conv2d(c3, width, 1, bias=False),
                                      nn.BatchNorm2d(width))
        self.up3 = nn.Sequential(nn.ConvTranspose2d(width, width, 2, stride=2, bias=False),
                                 batch_norm_prelu(width))
        self.project2 = nn.Conv2d(c2, width, 1, bias=False)
        self.fuse2 = nn.Sequential(batch_norm_prelu(2 * width),
                                   ESPModule(2 * width, width, residual=False))
        self.up2 = nn.Sequential(nn.ConvTranspose2d(width, width, 2, stride=2, bias=False),
                                 batch_norm_prelu(width))
        self.fuse1 = conv_bn_prelu(width + c1, width, 3)
        self.out_channels = width

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        """Return the fused 1/2-resolution features."""
        level1, level2, level3 = features
        coarse = _crop_like(self.up3(self.project3(level3)), level2)
        fused = self.fuse2(torch.cat([self.project2(level2), coarse], 1))
        fused = _crop_like(self.up2(fused), level1)
        return self.fuse1(torch.cat([fused, level1], 1))


def deconvolution_head(in_channels: int, out_channels: int) -> nn.ConvTranspose2d:
    """Return the paper's last layer, a 2x2 stride-2 deconv: (N, C, h, w) -> (N, out, 2h, 2w)."""
    return nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2, bias=False)
