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

"""The typed architecture description that every checkpoint carries."""

from dataclasses import dataclass, field

from ..tasks import TASKS

# A task's name says what its output means (multitask_seg.tasks); only the number of
# segmentation classes is free.
TASK_KINDS = tuple(TASKS)
FIXED_CHANNELS = {name: task.channels for name, task in TASKS.items() if task.channels}
# The fields after ``tasks`` that only some architectures read (see ARCHITECTURES' options).
OPTION_FIELDS = ('encoder', 'decoder_channels', 'crp_stages', 'depthwise_last_crp')


@dataclass
class ModelConfig:
    """
    Architecture of a multi-task network: a family, its tasks and the family's options.

    An option left unset (None) takes the family's published value when the config is made;
    an option the family does not have stays None, and setting it is an error.

    :ivar architecture: a key of ``multitask_seg.model.architectures.ARCHITECTURES``:
        'lwrefinenet_mobilenetv2', 'fast_scnn', 'espnet', 'nas_arch0', 'nas_arch1',
        'nas_arch2'.
    :ivar encoder: LW-RefineNet: a key of ``multitask_seg.model.encoders.ENCODERS``
        ('mobilenet_v2', 'resnet18', 'resnet34', 'resnet50', 'resnet101'); the NAS
        decoders: 'mobilenet_v2' only; Fast-SCNN and ESPNet have their own (None).
    :ivar tasks: task name -> output channels: classes for 'segmentation', 1 for 'depth'
        (metres), 3 for 'normals' (unit vectors).
    :ivar decoder_channels: width of the decoder features (LW-RefineNet 256; NAS: the
        aggregation size, 64).
    :ivar crp_stages: LW-RefineNet: pooling stages in each chained residual pooling block (4).
    :ivar depthwise_last_crp: LW-RefineNet: make the 1/4-resolution CRP's 1x1 convolutions
        depthwise, the change that halves the multi-task network's cost (the paper's choice).
    """

    architecture: str = 'lwrefinenet_mobilenetv2'
    encoder: str | None = None
    tasks: dict[str, int] = field(default_factory=lambda: {'segmentation': 40, 'depth': 1})
    decoder_channels: int | None = None
    crp_stages: int | None = None
    depthwise_last_crp: bool | None = None

    def __post_init__(self) -> None:
        from .architectures import ARCHITECTURES

        family = ARCHITECTURES.get(self.architecture)
        for name, value in (family.options.items() if family else ()):
            if getattr(self, name) is None:
                setattr(self, name, value)

    def validate(self) -> None:
        """Raise ValueError naming the field when the description cannot be built."""
        from .architectures import ARCHITECTURES

        family = ARCHITECTURES.get(self.architecture)
        if family is None:
            raise ValueError(f'model.architecture: unknown {self.architecture!r}; '
                             f'known: {sorted(ARCHITECTURES)}')
        for name in OPTION_FIELDS:
            if name not in family.options and getattr(self, name) is not None:
                raise ValueError(f'model.{name}: {self.architecture} has no such option '
                                 f'(its options: {sorted(family.options) or "none"})')
        if not self.tasks:
            raise ValueError('model.tasks is empty: give at least one task')
        for name, channels in self.tasks.items():
            if name not in TASK_KINDS:
                raise ValueError(f'model.tasks: unknown task {name!r}; known: {TASK_KINDS}')
            if not isinstance(channels, int) or channels < 1:
                raise ValueError(f'model.tasks.{name}: channels must be a positive int')
            if name in FIXED_CHANNELS and channels != FIXED_CHANNELS[name]:
                raise ValueError(
                    f'model.tasks.{name}: must have {FIXED_CHANNELS[name]} channels, '
                    f'got {channels}')
        if (self.decoder_channels is not None and self.decoder_channels < 1
                or self.crp_stages is not None and self.crp_stages < 0):
            raise ValueError('model.decoder_channels must be >= 1 and crp_stages >= 0')
