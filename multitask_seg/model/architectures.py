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
Every network family, registered in one dict keyed by the name a ModelConfig gives.

A family builds an encoder, a decoder and a head per task on the decoder's features;
``MultiTaskNet`` wires them the same way for all. ``options`` are the ModelConfig fields
the family reads, with its published values as defaults.
"""

from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, NamedTuple, TYPE_CHECKING

from torch import nn

from .decoders import LightWeightRefineNet
from .decoders.espnet import decoder_width, deconvolution_head, ESPNetDecoder
from .decoders.fast_scnn import classifier, FeatureFusion
from .decoders.nas import conv3x3_head, GENOTYPES, NASDecoder
from .encoders import ENCODERS
from .encoders.espnet import ESPNetC
from .encoders.fast_scnn import FastSCNNEncoder
from .encoders.mobilenet_v2 import MobileNetV2Encoder
from .heads import OutputHead, TaskHead

if TYPE_CHECKING:
    from .config import ModelConfig

# Strides of MobileNet-v2's taps the NAS decoders read, finest first (their l3, l4, l6, l8).
MOBILENET_TAP_STRIDES = (4, 8, 16, 32)


class Parts(NamedTuple):
    """An encoder, a decoder on its output, and ``head(out_channels, unit_norm)``."""

    encoder: nn.Module
    decoder: nn.Module
    head: Callable[[int, bool], nn.Module]


@dataclass(frozen=True)
class Architecture:
    """
    How to build one family.

    :ivar build: ModelConfig -> Parts.
    :ivar options: ModelConfig fields the family reads -> published default.
    :ivar crop_to_input: outputs may be a row or column larger than an odd-sized input
        (a last 2x deconvolution) and are cropped to it.
    """

    build: Callable[['ModelConfig'], Parts]
    options: dict[str, Any] = field(default_factory=dict)
    crop_to_input: bool = False


def _check_encoder(config: 'ModelConfig', known: Any) -> None:
    if config.encoder not in known:
        raise ValueError(f'model.encoder: unknown {config.encoder!r} for '
                         f'{config.architecture}; known: {sorted(known)}')


def lw_refinenet(config: 'ModelConfig') -> Parts:
    """Build Light-Weight RefineNet on any four-level encoder, a TaskHead per task."""
    _check_encoder(config, ENCODERS)
    encoder = ENCODERS[config.encoder]()
    decoder = LightWeightRefineNet(encoder.levels, config.decoder_channels,
                                   config.crp_stages, config.depthwise_last_crp)
    return Parts(encoder, decoder,
                 lambda out, unit_norm: TaskHead(config.decoder_channels, out, unit_norm))


def fast_scnn(config: 'ModelConfig') -> Parts:
    """Build Fast-SCNN: each task gets the paper's classifier on the fused 1/8 features."""
    encoder = FastSCNNEncoder()
    decoder = FeatureFusion(encoder.detail_channels, encoder.context_channels, 128)
    return Parts(encoder, decoder, lambda out, unit_norm: OutputHead(
        classifier(decoder.out_channels, out), unit_norm))


def espnet(config: 'ModelConfig') -> Parts:
    """Build ESPNet (alpha2 = 2, alpha3 = 8): one decoder as wide as all outputs, a deconv each."""
    encoder = ESPNetC(alpha2=2, alpha3=8)
    decoder = ESPNetDecoder(encoder.levels, decoder_width(config.tasks))
    return Parts(encoder, decoder, lambda out, unit_norm: OutputHead(
        deconvolution_head(decoder.out_channels, out), unit_norm))


def nas(genotype: list, config: 'ModelConfig') -> Parts:
    """Build a searched decoder on MobileNet-v2; each task gets the authors' 3x3 classifier."""
    _check_encoder(config, ('mobilenet_v2',))
    encoder = MobileNetV2Encoder()
    taps = [(level[0], stride) for level, stride
            in zip(reversed(encoder.levels), MOBILENET_TAP_STRIDES)]
    decoder = NASDecoder(genotype, taps, config.decoder_channels, repeats=2)
    return Parts(encoder, decoder, lambda out, unit_norm: OutputHead(
        conv3x3_head(decoder.out_channels, out), unit_norm))


ARCHITECTURES: dict[str, Architecture] = {
    'lwrefinenet_mobilenetv2': Architecture(lw_refinenet, {
        'encoder': 'mobilenet_v2', 'decoder_channels': 256, 'crp_stages': 4,
        'depthwise_last_crp': True}),
    'fast_scnn': Architecture(fast_scnn),
    'espnet': Architecture(espnet, crop_to_input=True),
    **{f'nas_{name}': Architecture(partial(nas, genotype),
                                   {'encoder': 'mobilenet_v2', 'decoder_channels': 64})
       for name, genotype in GENOTYPES.items()},
}
