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

"""The trainer's typed config schema; YAML files only override its defaults."""

from dataclasses import dataclass, field
from typing import Any

from multitask_seg.model import ModelConfig, TASK_KINDS

from .augment import AugmentConfig


@dataclass
class DatasetSpec:
    """
    One dataset of the mix, and where each of its tasks' targets come from.

    :ivar name: a short name for logs and metrics.
    :ivar root: the dataset's folder, for kind 'folder' (the package's folder layout).
    :ivar kind: reader of ``multitask_seg.data.registry``: 'folder', 'nyud_mat',
        'nyud_raw', 'kitti_depth', 'kitti_semantics' or 'bag'.
    :ivar options: the reader's constructor arguments (e.g. path, mapping, split for
        'nyud_mat'; path, image_topic, label_topic, depth_topic for 'bag').
    :ivar ground_truth: tasks whose annotations are taken from the dataset itself (None:
        every task it has).
    :ivar pseudo_labels: task -> folder of a teacher's pseudo-labels (the folder layout),
        used for the samples that have no ground truth for that task.
    :ivar weight: this dataset's share of each training epoch, relative to the others.
    :ivar class_offset: where this dataset's class ids start in a segmentation head shared
        by several datasets (the union of their classes); 0 for a head of its own.
    :ivar depth_cap: metres; depth metrics count ground truth up to it (None: all).
    """

    name: str
    root: str | None = None
    kind: str = 'folder'
    options: dict[str, Any] = field(default_factory=dict)
    ground_truth: list[str] | None = None
    pseudo_labels: dict[str, str] = field(default_factory=dict)
    weight: float = 1.0
    class_offset: int = 0
    depth_cap: float | None = None

    def validate(self) -> None:
        """Raise ValueError naming the field that is wrong."""
        for task in list(self.ground_truth or []) + list(self.pseudo_labels):
            if task not in TASK_KINDS:
                raise ValueError(f'dataset {self.name}: unknown task {task!r}')
        if (self.kind == 'folder') != (self.root is not None):
            raise ValueError(f'dataset {self.name}: give root for kind folder, and options '
                             f'(not root) for other kinds')
        if self.weight < 0:
            raise ValueError(f'dataset {self.name}: weight must be >= 0')


@dataclass
class OptimizerConfig:
    """
    SGD with separate encoder and decoder learning rates, as the authors trained.

    :ivar schedule: 'poly' (lr x (1 - step / steps) ^ 0.9 per iteration) or 'constant'.
    """

    encoder_lr: float = 1e-3
    decoder_lr: float = 1e-2
    momentum: float = 0.9
    weight_decay: float = 1e-5
    schedule: str = 'poly'


@dataclass
class TrainConfig:
    """
    Everything a training run needs; saved inside its checkpoints.

    :ivar model: the architecture; its tasks are the tasks trained.
    :ivar encoder_weights: a torchvision ImageNet state-dict file to start the encoder from.
    :ivar classes, colors: names and colours of the segmentation head's classes.
    :ivar datasets: the training mix.
    :ivar val: datasets evaluated after every epoch (never trained on).
    :ivar loss_weights: task -> weight of its loss.
    :ivar epoch_size: samples drawn per epoch (None: the sum of the datasets' sizes).
    :ivar save_every: also save last.pt every this many iterations (0: at epoch ends only),
        so a run killed outright (SIGKILL, power cut) loses little; Ctrl-C and SIGTERM save
        where they stop anyway.
    :ivar inference_size: [height, width] inference should resize to (None: native size).
    :ivar depth_range: [min, max] metres the model is trusted for, stored for inference.
    :ivar amp: bfloat16 autocast on CUDA.
    :ivar deterministic: deterministic algorithms only (slower on GPU).
    :ivar device: 'cpu', 'cuda' or 'auto' (CUDA when available).
    """

    output: str
    datasets: list[DatasetSpec]
    model: ModelConfig = field(default_factory=ModelConfig)
    encoder_weights: str | None = None
    classes: list[str] = field(default_factory=list)
    colors: list[list[int]] = field(default_factory=list)
    val: list[DatasetSpec] = field(default_factory=list)
    loss_weights: dict[str, float] = field(
        default_factory=lambda: {'segmentation': 0.5, 'depth': 0.5, 'normals': 5.0})
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    batch_size: int = 6
    epochs: int = 10
    epoch_size: int | None = None
    num_workers: int = 0
    seed: int = 0
    save_every: int = 0
    inference_size: list[int] | None = None
    depth_range: list[float] = field(default_factory=lambda: [0.0, 80.0])
    amp: bool = False
    deterministic: bool = False
    device: str = 'auto'

    def validate(self) -> None:
        """Raise ValueError naming the field that is wrong."""
        self.model.validate()
        if not self.datasets:
            raise ValueError('datasets: give at least one training dataset')
        for spec in self.datasets + self.val:
            spec.validate()
        if self.optimizer.schedule not in ('poly', 'constant'):
            raise ValueError(f'optimizer.schedule: {self.optimizer.schedule!r} is not '
                             f"'poly' or 'constant'")
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError('batch_size and epochs must be >= 1')
        n = self.model.tasks.get('segmentation')
        if n is not None and self.classes and len(self.classes) != n:
            raise ValueError(f'classes: {len(self.classes)} names for {n} segmentation '
                             f'channels')
