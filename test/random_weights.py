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

"""Untrained networks whose outputs vary like trained ones', not near-constant."""

import torch


def randomise(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """
    Randomise BN statistics and affine terms and conv weights (variance-keeping, no bias).

    Returns the model.

    Untrained, with BN's identity statistics, a net's outputs are nearly constant in eval
    mode, so comparisons of them (exports, argmax labels) would prove little.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity='linear',
                                              generator=generator)
                if m.bias is not None:
                    m.bias.zero_()
            if isinstance(m, torch.nn.BatchNorm2d):
                for tensor, low, high in ((m.running_mean, -0.1, 0.1), (m.running_var, 0.5, 2),
                                          (m.weight, 0.5, 1.5), (m.bias, -0.2, 0.2)):
                    tensor.copy_(torch.rand(tensor.shape, generator=generator)
                                 * (high - low) + low)
    return model
