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

"""Parameter and multiply-accumulate counts, as the papers report them."""

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..model import build_model, ModelConfig


def count_params(model: torch.nn.Module) -> int:
    """Return the number of parameters (BN running statistics excluded)."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: torch.nn.Module, height: int, width: int) -> int:
    """
    Return the multiply-accumulates of one forward pass on a (1, 3, height, width) image.

    The papers' "GFLOPs" are MACs; PyTorch's counter counts 2 FLOPs per MAC.
    """
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(torch.zeros(1, 3, height, width))
    return counter.get_total_flops() // 2


def paper_costs() -> dict[str, float]:
    """Return the NYUD-40 net's parameters and GMACs at 640x480, and KITTI-6's at 1200x350."""
    nyud = build_model(ModelConfig(tasks={'segmentation': 40, 'depth': 1})).eval()
    kitti = build_model(ModelConfig(tasks={'segmentation': 6, 'depth': 1})).eval()
    return {
        'params_nyud40': count_params(nyud),
        'gmacs_640x480_nyud40': round(count_macs(nyud, 480, 640) / 1e9, 3),
        'gmacs_1200x350_kitti6': round(count_macs(kitti, 350, 1200) / 1e9, 3),
    }
