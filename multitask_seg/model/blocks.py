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

"""Small blocks several families share: conv-BN-ReLU and the depthwise-separable conv."""

from torch import nn


def conv_bn_relu(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1,
                 dilation: int = 1, relu: bool = True) -> nn.Sequential:
    """
    Return conv (no bias), batch norm and, unless ``relu`` is False, ReLU.

    Padding keeps the size at stride 1 and gives ceil(H / stride) otherwise.
    """
    layers = [nn.Conv2d(in_ch, out_ch, kernel, stride, dilation * (kernel // 2),
                        dilation=dilation, groups=groups, bias=False),
              nn.BatchNorm2d(out_ch)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class DepthwiseSeparable(nn.Sequential):
    """
    3x3 depthwise conv-BN-ReLU, then 1x1 pointwise conv-BN-ReLU.

    (N, in_ch, H, W) -> (N, out_ch, ceil(H / stride), ceil(W / stride)).
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__(conv_bn_relu(in_ch, in_ch, 3, stride, groups=in_ch),
                         conv_bn_relu(in_ch, out_ch, 1))
