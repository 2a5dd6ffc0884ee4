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
ESPNet-C, ESPNet's encoder (Mehta et al., ECCV 2018, Section 3.2 and Figure 4).

A strided conv to 1/2, a down-sampling ESP module to 1/4 followed by alpha2 ESP modules,
one to 1/8 followed by alpha3 ESP modules. Input reinforcement: the image, average-pooled
to 1/2 and 1/4, is concatenated back before each down-sampling step, so later stages see
the pixels again at small cost.
"""

import torch
from torch import nn
import torch.nn.functional as F

from ..esp import batch_norm_prelu, conv_bn_prelu, ESPModule


def downsample_image(image: torch.Tensor, times: int) -> torch.Tensor:
    """Average-pool (3x3, stride 2) ``times`` times: (N, 3, H, W) -> (N, 3, H/2^t, W/2^t)."""
    for _ in range(times):
        image = F.avg_pool2d(image, 3, stride=2, padding=1)
    return image


class ESPNetC(nn.Module):
    """
    ESPNet-C with input reinforcement.

    ``forward`` maps a (N, 3, H, W) normalised image to its three fused levels,
    [(N, 19, H/2, W/2), (N, 131, H/4, W/4), (N, 256, H/8, W/8)] (sizes rounded up).

    :param alpha2: ESP modules at 1/4 after the down-sampling one (2 in the paper).
    :param alpha3: ESP modules at 1/8 after the down-sampling one (3, 5 or 8 in the paper).
    """

    def __init__(self, alpha2: int = 2, alpha3: int = 8) -> None:
        super().__init__()
        self.level1 = conv_bn_prelu(3, 16, 3, stride=2)
        self.fuse1 = batch_norm_prelu(16 + 3)
        self.down2 = ESPModule(16 + 3, 64, stride=2)
        self.level2 = nn.Sequential(*(ESPModule(64, 64) for _ in range(alpha2)))
        self.fuse2 = batch_norm_prelu(64 + 64 + 3)
        self.down3 = ESPModule(64 + 64 + 3, 128, stride=2)
        self.level3 = nn.Sequential(*(ESPModule(128, 128) for _ in range(alpha3)))
        self.fuse3 = batch_norm_prelu(128 + 128)
        # PyTorch's default initialisation, as the authors': He-normal (fan out) makes the
        # eight residual ESP modules grow the untrained outputs into the thousands.
        self.levels = (16 + 3, 64 + 64 + 3, 128 + 128)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Return the 1/2, 1/4 and 1/8 features, each concatenated as the paper's Fig. 4."""
        level1 = self.fuse1(torch.cat([self.level1(image), downsample_image(image, 1)], 1))
        down2 = self.down2(level1)
        level2 = self.fuse2(torch.cat([self.level2(down2), down2,
                                       downsample_image(image, 2)], 1))
        down3 = self.down3(level2)
        level3 = self.fuse3(torch.cat([down3, self.level3(down3)], 1))
        return [level1, level2, level3]
