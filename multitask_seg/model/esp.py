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
The ESP module, ESPNet's building block (Mehta et al., ECCV 2018, Section 3.1).

Reduce N input channels to d = N/K, run K = 5 parallel 3x3 convolutions dilated 1, 2, 4,
8, 16 on the reduced map, and sum the dilated outputs cumulatively before concatenating
(hierarchical feature fusion): each branch then holds every smaller dilation's samples
too, which removes the gridding pattern dilated convolutions leave alone.
"""

import torch
from torch import nn

DILATIONS = (1, 2, 4, 8, 16)


def batch_norm_prelu(channels: int) -> nn.Sequential:
    """Batch norm then PReLU with one slope per channel (ESPNet's activation)."""
    return nn.Sequential(nn.BatchNorm2d(channels), nn.PReLU(channels))


def conv_bn_prelu(in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> nn.Sequential:
    """Conv (no bias), batch norm, PReLU; padding keeps ceil(H / stride)."""
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, bias=False),
                         batch_norm_prelu(out_ch))


class ESPModule(nn.Module):
    """
    Reduce, split into dilated branches, fuse hierarchically, (add the input,) BN + PReLU.

    (N, in_ch, H, W) -> (N, out_ch, ceil(H / stride), ceil(W / stride)).

    :param in_ch: N, input channels.
    :param out_ch: output channels; the reduced width is out_ch // 5 and the first branch
        takes the remainder so the concatenation has exactly out_ch.
    :param stride: 2 makes the reduction a strided 3x3 conv (the paper's down-sampling ESP).
    :param residual: add the input when shapes allow (no residual in the decoder's ESP).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        width = out_ch // len(DILATIONS)
        if width < 1:
            raise ValueError(f'an ESP module needs >= {len(DILATIONS)} output channels, '
                             f'got {out_ch}')
        first = out_ch - width * (len(DILATIONS) - 1)
        kernel = 1 if stride == 1 else 3
        self.reduce = nn.Conv2d(in_ch, width, kernel, stride, kernel // 2, bias=False)
        self.branches = nn.ModuleList(
            nn.Conv2d(width, first if i == 0 else width, 3, padding=d, dilation=d, bias=False)
            for i, d in enumerate(DILATIONS))
        self.residual = residual and stride == 1 and in_ch == out_ch
        self.out = batch_norm_prelu(out_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the fused multi-dilation features."""
        reduced = self.reduce(x)
        fused = [self.branches[0](reduced)]
        running = None
        for branch in self.branches[1:]:
            y = branch(reduced)
            running = y if running is None else running + y
            fused.append(running)
        y = torch.cat(fused, 1)
        return self.out(x + y if self.residual else y)
