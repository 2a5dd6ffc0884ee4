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

"""The multi-task network: it only wires an encoder, a decoder and one head per task."""

from dataclasses import asdict

import torch
from torch import nn

from .config import ModelConfig
from .decoders import LightWeightRefineNet
from .encoders import ENCODERS
from .heads import TaskHead


class MultiTaskNet(nn.Module):
    """
    Encoder -> Light-Weight RefineNet -> {task: head}.

    ``forward`` maps a (N, 3, H, W) normalised image to a dict keyed by task name of
    (N, channels, ceil(H/4), ceil(W/4)) tensors: segmentation logits, depth in metres,
    unit surface normals. Upsampling to the input size is the caller's (see inference).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        config.validate()
        if config.encoder not in ENCODERS:
            raise ValueError(f'model.encoder: unknown {config.encoder!r}; '
                             f'known: {sorted(ENCODERS)}')
        self.config = config
        self.encoder = ENCODERS[config.encoder]()
        self.decoder = LightWeightRefineNet(
            self.encoder.levels, config.decoder_channels, config.crp_stages,
            config.depthwise_last_crp)
        self.heads = nn.ModuleDict({
            name: TaskHead(config.decoder_channels, channels, unit_norm=name == 'normals')
            for name, channels in config.tasks.items()})

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return {task name: (N, channels, H/4, W/4)} for a (N, 3, H, W) image."""
        features = self.decoder(self.encoder(image))
        return {name: head(features) for name, head in self.heads.items()}


def build_model(config: ModelConfig | None = None, *,
                encoder_weights: str | None = None) -> MultiTaskNet:
    """
    Build a network from its config; optionally start the encoder from ImageNet weights.

    :param config: the architecture (defaults: MobileNet-v2, 40 classes + depth).
    :param encoder_weights: a torchvision ImageNet state-dict file for the config's encoder,
        which the user downloads; loaded strictly (see ``load_imagenet_weights``).
    """
    from .encoders import load_imagenet_weights

    model = MultiTaskNet(config if config is not None else ModelConfig())
    if encoder_weights:
        load_imagenet_weights(model.encoder, encoder_weights)
    return model


def config_dict(model: MultiTaskNet) -> dict:
    """Plain-data copy of the model's config, for checkpoints."""
    return asdict(model.config)
