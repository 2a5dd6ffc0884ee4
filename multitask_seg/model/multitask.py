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

import torch
from torch import nn

from .architectures import ARCHITECTURES
from .config import ModelConfig


class MultiTaskNet(nn.Module):
    """
    Encoder -> decoder -> {task: head}, for every family of ``ARCHITECTURES``.

    ``forward`` maps a (N, 3, H, W) normalised image to a dict keyed by task name of
    (N, channels, h, w) tensors: segmentation logits, depth in metres, unit surface normals.
    (h, w) is the input size over the family's output stride, rounded up (LW-RefineNet 4,
    Fast-SCNN 8, ESPNet 1, NAS 4 or 8); upsampling to the input size is the caller's (see
    inference).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        config.validate()
        family = ARCHITECTURES[config.architecture]
        self.config = config
        self.encoder, self.decoder, head = family.build(config)
        self.heads = nn.ModuleDict({
            name: head(channels, name == 'normals') for name, channels in config.tasks.items()})
        self.crop_to_input = family.crop_to_input

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return {task name: (N, channels, h, w)} for a (N, 3, H, W) image."""
        features = self.decoder(self.encoder(image))
        outputs = {name: head(features) for name, head in self.heads.items()}
        if self.crop_to_input:
            height, width = image.shape[-2:]
            outputs = {name: out[..., :height, :width] for name, out in outputs.items()}
        return outputs


def build_model(config: ModelConfig | None = None, *,
                encoder_weights: str | None = None) -> MultiTaskNet:
    """
    Build a network from its config; optionally start the encoder from ImageNet weights.

    :param config: the architecture (defaults: LW-RefineNet on MobileNet-v2, 40 classes +
        depth).
    :param encoder_weights: a torchvision ImageNet state-dict file for the config's encoder,
        which the user downloads; loaded strictly (see ``load_imagenet_weights``). Fast-SCNN
        and ESPNet have no such file: they train from scratch.
    """
    from .encoders import load_imagenet_weights

    model = MultiTaskNet(config if config is not None else ModelConfig())
    if encoder_weights:
        if not hasattr(model.encoder, 'UNUSED_PRETRAINED_PREFIXES'):
            raise ValueError(f'encoder_weights: {model.config.architecture} has no '
                             f'ImageNet-layout encoder file; train it from scratch')
        load_imagenet_weights(model.encoder, encoder_weights)
    return model


class TaskTuple(nn.Module):
    """
    The network with its outputs as a tuple in the config's task order.

    Exporters (ONNX, OpenVINO) name outputs by position; this fixes the order.
    """

    def __init__(self, model: MultiTaskNet) -> None:
        super().__init__()
        self.model = model
        self.tasks = list(model.config.tasks)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        outputs = self.model(image)
        return tuple(outputs[name] for name in self.tasks)
