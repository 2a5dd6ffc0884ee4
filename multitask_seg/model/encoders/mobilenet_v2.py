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

"""MobileNet-v2 encoder, laid out so torchvision's ImageNet state dict loads into it."""

import torch
from torch import nn

# (expansion t, output channels c, repeats n, first stride s), as in the MobileNet-v2 paper.
INVERTED_RESIDUAL_ROWS = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)
# Indices into ``features`` whose outputs the decoder reads, grouped by decoder level from
# the deepest: 1/32 (320 + 160 ch), 1/16 (96 + 64), 1/8 (32), 1/4 (24).
TAPS = ((17, 16), (13, 10), (6,), (3,))


def conv_bn_relu6(in_ch: int, out_ch: int, kernel: int, stride: int = 1,
                  groups: int = 1) -> nn.Sequential:
    """Return conv, batch norm, ReLU6 as torchvision's ``Conv2dNormActivation`` names them."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """
    1x1 expansion, 3x3 depthwise, 1x1 linear projection; a skip when shapes allow.

    torchvision omits the expansion when t == 1; the paper's encoder keeps a 32->32 one there
    (it is in the reference parameter count). It lives in ``expand``, outside torchvision's
    ``conv`` names, so ImageNet files still load; ``identity_expansion`` makes it a no-op.
    """

    def __init__(self, in_ch: int, out_ch: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_ch * expansion
        self.use_skip = stride == 1 and in_ch == out_ch
        self.expand = conv_bn_relu6(in_ch, hidden, 1) if expansion == 1 else None
        layers = [] if expansion == 1 else [conv_bn_relu6(in_ch, hidden, 1)]
        layers += [
            conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        ]
        self.conv = nn.Sequential(*layers)

    def identity_expansion(self) -> None:
        """Set the t == 1 expansion to the identity (exact for ReLU6 inputs in [0, 6])."""
        if self.expand is None:
            return
        conv, bn = self.expand[0], self.expand[1]
        with torch.no_grad():
            conv.weight.copy_(torch.eye(conv.out_channels)[:, :, None, None])
            bn.reset_parameters()
            # BN divides by sqrt(var + eps); this variance makes that exactly 1.
            bn.running_var.fill_(1.0 - bn.eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map (N, in_ch, H, W) to (N, out_ch, H / stride, W / stride)."""
        y = self.conv(x if self.expand is None else self.expand(x))
        return x + y if self.use_skip else y


class MobileNetV2Encoder(nn.Module):
    """
    MobileNet-v2 features 0-17 (the 1280-channel conv and classifier are not used).

    ``forward`` returns the tapped features grouped by decoder level, deepest first;
    ``levels`` gives their channel counts: ((320, 160), (96, 64), (32,), (24,)).
    """

    # torchvision file keys this encoder has no use for; dropped when loading ImageNet weights.
    UNUSED_PRETRAINED_PREFIXES = ('features.18.', 'classifier.')
    # Parameters no torchvision file has: the paper's t == 1 expansion (see InvertedResidual).
    NOT_IN_PRETRAINED = ('.expand.',)

    def __init__(self) -> None:
        super().__init__()
        blocks: list[nn.Module] = [conv_bn_relu6(3, 32, 3, stride=2)]
        channels = [32]
        in_ch = 32
        for t, c, n, s in INVERTED_RESIDUAL_ROWS:
            for i in range(n):
                blocks.append(InvertedResidual(in_ch, c, s if i == 0 else 1, t))
                in_ch = c
                channels.append(c)
        self.features = nn.Sequential(*blocks)
        self.levels = tuple(tuple(channels[i] for i in level) for level in TAPS)
        self._last_tap = max(max(level) for level in TAPS)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')

    def prepare_pretrained(self) -> None:
        """Give the layers that ImageNet files lack a value that leaves the features intact."""
        for block in self.features:
            if isinstance(block, InvertedResidual):
                block.identity_expansion()

    def forward(self, x: torch.Tensor) -> list[list[torch.Tensor]]:
        """Map a (N, 3, H, W) normalised image to features at 1/32, 1/16, 1/8 and 1/4."""
        outputs = {}
        for i, block in enumerate(self.features[:self._last_tap + 1]):
            x = block(x)
            outputs[i] = x
        return [[outputs[i] for i in level] for level in TAPS]
