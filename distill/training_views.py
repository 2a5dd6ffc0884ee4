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

"""Training views of datasets: chosen ground truth, teacher pseudo-labels, augmentation."""

import os
from typing import Iterator, Sequence

from multitask_seg.data.folder_format import (META_FILE, parse_depth_scale, read_target,
                                              TASK_DIRS)
from multitask_seg.data.registry import open_dataset as open_reader
from multitask_seg.tasks import IGNORE_LABEL
import numpy as np
from torch.utils.data import Dataset, Sampler

from .augment import augment, AugmentConfig
from .mixing import MixedDataset, WeightedEpochSampler
from .train_config import DatasetSpec


class LabelledView(Dataset):
    """
    A dataset whose samples carry the targets a training spec asks for.

    Ground truth for the tasks in ``spec.ground_truth`` (all when None) that the model
    has; where a sample has none for a task with a pseudo-label folder, the teacher's
    label from that folder (if the teacher labelled that sample). Samples are dicts:
    {'name', 'image', 'targets'} (see ``data.augment``).

    :param spec: the dataset's training spec.
    :param tasks: the model's tasks; other annotations are dropped.
    :param pseudo: use the spec's pseudo-label folders (False for validation: never
        score against a teacher's guesses).
    """

    def __init__(self, spec: DatasetSpec, tasks: Sequence[str], pseudo: bool) -> None:
        options = dict(spec.options)
        if spec.kind == 'folder':
            options['root'] = spec.root
        self.base = open_reader(spec.kind, **options)
        self.classes, self.colors = self.base.classes, self.base.colors
        wanted = set(tasks)
        self.ground_truth = wanted & set(spec.ground_truth if spec.ground_truth is not None
                                         else TASK_DIRS)
        self.pseudo = {t: f for t, f in spec.pseudo_labels.items() if t in wanted} \
            if pseudo else {}
        for task, folder in self.pseudo.items():
            if not os.path.isdir(os.path.join(folder, TASK_DIRS[task])):
                raise FileNotFoundError(f'dataset {spec.name}: pseudo-label folder '
                                        f'{os.path.join(folder, TASK_DIRS[task])} not found')
        # The labeller records its depth scale in meta.yaml; older folders hold millimetres.
        self.depth_scale = (parse_depth_scale(os.path.join(self.pseudo['depth'], META_FILE))
                            if 'depth' in self.pseudo else None)

    def __len__(self) -> int:
        """Return the number of samples."""
        return len(self.base)

    def __getitem__(self, index: int) -> dict:
        """Return {'name', 'image', 'targets'} for sample ``index``."""
        sample = self.base[index]
        targets = {t: v for t, v in sample.targets.items() if t in self.ground_truth}
        for task, folder in self.pseudo.items():
            path = os.path.join(folder, TASK_DIRS[task], sample.name + '.png')
            if task in targets or not os.path.isfile(path):
                continue
            targets[task] = read_target(path, task, self.depth_scale)
        return {'name': sample.name, 'image': sample.image, 'targets': targets}


def open_dataset(spec: DatasetSpec, tasks: Sequence[str], train: bool) -> LabelledView:
    """Open a training (with pseudo-labels) or validation (ground truth only) dataset."""
    return LabelledView(spec, tasks, pseudo=train)


class TrainingView(Dataset):
    """
    Augmented samples of a mix, keyed by (epoch, position, index).

    Each sample's random augmentation is seeded by its place in the epoch, so a run
    resumed mid-epoch draws exactly the crops the interrupted one would have. Class ids
    move by the dataset's ``class_offset`` into a shared segmentation head.
    """

    def __init__(self, mixed: MixedDataset, specs: Sequence[DatasetSpec],
                 config: AugmentConfig, seed: int, rank: int = 0) -> None:
        self.mixed = mixed
        self.offsets = {s.name: s.class_offset for s in specs}
        self.config, self.seed, self.rank = config, seed, rank

    def __len__(self) -> int:
        """Return the number of samples in the mix."""
        return len(self.mixed)

    def __getitem__(self, key: tuple[int, int, int]) -> dict:
        """Return the augmented sample for key = (epoch, position in epoch, index)."""
        epoch, position, index = key
        sample = self.mixed[index]
        rng = np.random.default_rng([self.seed, epoch, self.rank, position])
        sample = augment(sample, self.config, rng)
        offset = self.offsets[sample['dataset']]
        labels = sample['targets'].get('segmentation')
        if labels is not None and offset:
            labels = labels.astype(np.int32)
            sample['targets']['segmentation'] = np.where(labels == IGNORE_LABEL, IGNORE_LABEL,
                                                         labels + offset)
        return sample

    def keyed(self, sampler: WeightedEpochSampler) -> Sampler:
        """Wrap an index sampler so it yields this view's keys."""
        return _KeyedSampler(sampler)


class _KeyedSampler(Sampler):

    def __init__(self, inner: WeightedEpochSampler) -> None:
        self.inner = inner

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        start = self.inner.skip
        for position, index in enumerate(self.inner, start=start):
            yield self.inner.epoch, position, index

    def __len__(self) -> int:
        return len(self.inner)
