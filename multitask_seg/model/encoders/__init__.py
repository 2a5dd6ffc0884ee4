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

"""Encoder registry and loading of torchvision ImageNet state-dict files."""

from functools import partial
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from .mobilenet_v2 import MobileNetV2Encoder
from .resnet import ResNetEncoder

ENCODERS: dict[str, Callable[[], nn.Module]] = {
    'mobilenet_v2': MobileNetV2Encoder,
    'resnet18': partial(ResNetEncoder, 18),
    'resnet34': partial(ResNetEncoder, 34),
    'resnet50': partial(ResNetEncoder, 50),
    'resnet101': partial(ResNetEncoder, 101),
}


def load_imagenet_weights(encoder: nn.Module, path: str | Path) -> None:
    """
    Load a torchvision ImageNet state-dict file into ``encoder`` strictly.

    Every tensor of the file that the encoder uses must exist in it with the same shape, and
    every other key must be one the encoder documents as unused (the classifier); anything
    else is an error naming the file and the keys. Layers the file cannot have are set by the
    encoder's ``prepare_pretrained`` so the features match torchvision's.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'encoder weights file {path} does not exist')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # torch raises several types for a corrupt file
        raise ValueError(
            f'encoder weights file {path} is not a readable state dict: {exc}') from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise ValueError(f'encoder weights file {path} is not a flat state dict of tensors')
    unused = tuple(encoder.UNUSED_PRETRAINED_PREFIXES)
    wanted = {k: v for k, v in state.items() if not k.startswith(unused)}
    own = encoder.state_dict()
    encoder.prepare_pretrained()
    unexpected = sorted(set(wanted) - set(own))
    if unexpected:
        raise ValueError(f'encoder weights file {path} has keys this encoder lacks: '
                         f'{unexpected[:5]} ({len(unexpected)} in all)')
    shapes = [k for k in wanted if wanted[k].shape != own[k].shape]
    if shapes:
        k = shapes[0]
        raise ValueError(f'encoder weights file {path}: {k} has shape {tuple(wanted[k].shape)},'
                         f' expected {tuple(own[k].shape)}')
    absent = tuple(encoder.NOT_IN_PRETRAINED)
    missing = sorted(k for k in set(own) - set(wanted) if not any(a in k for a in absent))
    if missing:
        raise ValueError(f'encoder weights file {path} lacks {missing[:5]} '
                         f'({len(missing)} in all)')
    encoder.load_state_dict(wanted, strict=False)
