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

"""Stand-in inputs and networks for benchmarks: image-like batches, untrained checkpoints."""

from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

from ..checkpoint import default_info, save_checkpoint
from ..model import build_model, ModelConfig


def smooth_images(count: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    """
    Return a (count, 3, height, width) float32 batch of normalised, image-like inputs.

    Noise at 1/16 resolution upsampled bilinearly: neighbouring pixels correlate as in
    photographs, so pooling and strided layers see realistic statistics (white noise would not).
    """
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randn(count, 3, max(height // 16, 2), max(width // 16, 2),
                         generator=generator)
    return F.interpolate(coarse, size=(height, width), mode='bilinear', align_corners=False)


def untrained_checkpoint(folder: Path, tasks: dict[str, int], seed: int = 0,
                         architecture: str = 'lwrefinenet_mobilenetv2') -> Path:
    """
    Write a randomly initialised checkpoint whose batch norms behave like a trained net's.

    Fresh BN layers are identities (mean 0, variance 1), which hides what reduced precision
    does to real activation ranges; here the running statistics come from image-like inputs
    and the affine parameters are randomised. ``architecture``: a family of
    ``multitask_seg.model.architectures.ARCHITECTURES``.
    """
    torch.manual_seed(seed)
    config = ModelConfig(architecture=architecture, tasks=dict(tasks))
    model = build_model(config)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # a cumulative average over the calibration batches
            nn.init.uniform_(module.weight, 0.5, 1.5)
            nn.init.normal_(module.bias, 0.0, 0.1)
    model.train()
    with torch.no_grad():
        for i in range(4):
            model(smooth_images(2, 128, 160, seed=seed + 100 + i))
    name = '_'.join([architecture, *tasks])
    return save_checkpoint(Path(folder) / f'{name}.pt', model.eval(),
                           default_info(config, depth_range=[0.0, 1e6]))
