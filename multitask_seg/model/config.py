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


@dataclass
class ModelConfig:
    """
    Architecture of a multi-task Light-Weight RefineNet.

    :ivar encoder: a key of ``multitask_seg.model.encoders.ENCODERS`` ('mobilenet_v2',
        'resnet18', 'resnet34', 'resnet50', 'resnet101').
    :ivar tasks: task name -> output channels: classes for 'segmentation', 1 for 'depth'
        (metres), 3 for 'normals' (unit vectors).
    :ivar decoder_channels: width of every decoder feature map (256 in the paper).
    :ivar crp_stages: pooling stages in each chained residual pooling block (4 in the paper).
    :ivar depthwise_last_crp: make the 1/4-resolution CRP's 1x1 convolutions depthwise, the
        change that halves the multi-task network's cost (the paper's choice).
    """

    encoder: str = 'mobilenet_v2'
    tasks: dict[str, int] = field(default_factory=lambda: {'segmentation': 40, 'depth': 1})
    decoder_channels: int = 256
    crp_stages: int = 4
    depthwise_last_crp: bool = True

    def validate(self) -> None:
        """Raise ValueError naming the field when the description cannot be built."""
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
        if self.decoder_channels < 1 or self.crp_stages < 0:
            raise ValueError('model.decoder_channels must be >= 1 and crp_stages >= 0')
