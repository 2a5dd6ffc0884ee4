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
Several datasets with different annotations in one loader.

Each sample keeps only the tasks it really has; the batch marks the rest as missing with
values the losses and metrics skip (255, 0 m, zero normals) and says so in per-task masks.
"""

from typing import Iterator, Sequence

from multitask_seg.inference.preprocess import pixel_statistics, to_network_input
from multitask_seg.tasks import TASKS
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler


class MixedDataset(Dataset):
    """
    Concatenate named datasets; each item says which dataset it came from.

    :param datasets: name -> dataset whose items are samples (see ``augment``).
    """

    def __init__(self, datasets: dict[str, Dataset]) -> None:
        self.names = list(datasets)
        self.datasets = [datasets[n] for n in self.names]
        self.offsets = np.cumsum([0] + [len(d) for d in self.datasets])

    def __len__(self) -> int:
        """Return the total number of samples."""
        return int(self.offsets[-1])

    def locate(self, index: int) -> tuple[int, int]:
        """Return (dataset number, index inside it) of a global index."""
        which = int(np.searchsorted(self.offsets, index, side='right') - 1)
        return which, index - int(self.offsets[which])

    def __getitem__(self, index: int) -> dict:
        """Return the sample with 'dataset' (its name) and 'index' (global) added."""
        which, local = self.locate(index)
        sample = dict(self.datasets[which][local])
        sample['dataset'] = self.names[which]
        sample['index'] = index
        return sample


class WeightedEpochSampler(Sampler[int]):
    """
    Draw each epoch's indices so each dataset gets a chosen share of the samples.

    The order depends only on (seed, epoch), so a resumed run replays it exactly, and
    ranks of a distributed run take disjoint slices of it.

    :param sizes: number of samples of each dataset, in ``MixedDataset`` order.
    :param weights: relative share of each dataset in an epoch.
    :param epoch_size: samples per epoch over all ranks (default: all datasets' total).
    :param rank, world_size: this process's slice of the epoch.
    """

    def __init__(self, sizes: Sequence[int], weights: Sequence[float], seed: int = 0,
                 epoch_size: int | None = None, rank: int = 0, world_size: int = 1) -> None:
        if len(sizes) != len(weights) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError('need one non-negative weight per dataset, not all zero')
        per_sample = [w / n if n else 0.0 for w, n in zip(weights, sizes) for _ in range(n)]
        self.probabilities = torch.tensor(per_sample, dtype=torch.float64)
        self.epoch_size = epoch_size or sum(sizes)
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """Choose the epoch to draw, and how many of this rank's first indices to skip."""
        self.epoch, self.skip = epoch, skip

    def _indices(self) -> list[int]:
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        total = self.epoch_size - self.epoch_size % self.world_size
        drawn = torch.multinomial(self.probabilities, total, replacement=True,
                                  generator=generator)
        return drawn[self.rank::self.world_size].tolist()

    def __iter__(self) -> Iterator[int]:
        """Yield this rank's indices of the current epoch, after the skipped ones."""
        return iter(self._indices()[self.skip:])

    def __len__(self) -> int:
        """Return this rank's number of indices still to come this epoch."""
        return self.epoch_size // self.world_size - self.skip


def collate(samples: list[dict], mean: Sequence[float], std: Sequence[float],
            memory_format: torch.memory_format = torch.channels_last) -> dict:
    """
    Stack same-size samples into a batch without inventing annotations.

    The image batch is made once, in the memory layout the network runs in
    (``memory_format``: channels-last, NHWC in memory, on CPUs; the default layout on CUDA),
    so the training step uses it as it comes.

    :return: {'image': (N, 3, H, W) float32 normalised, 'targets': {task: (N, H, W) int64
        ids / (N, H, W) float32 metres / (N, 3, H, W) normals}}. A task no sample has is
        absent; samples lacking a task that others have get the 'missing' fill (255, 0 m,
        zero normals), which every loss ignores.
    """
    # Normalising the stacked HWC bytes gives a channels-last batch: no copy for that layout.
    image = to_network_input([s['image'] for s in samples], None,
                             *pixel_statistics(mean, std))
    batch = {'image': image.contiguous(memory_format=memory_format), 'targets': {}}
    tasks = sorted({t for s in samples for t in s['targets']})
    shape = samples[0]['image'].shape[:2]
    for task in tasks:
        has = [task in s['targets'] for s in samples]
        arrays = []
        for s, present in zip(samples, has):
            if present:
                arrays.append(s['targets'][task])
            else:
                rule = TASKS[task]
                arrays.append(np.full(shape + rule.pixel_shape, rule.fill, np.float32))
        stacked = torch.from_numpy(np.stack(arrays).astype(TASKS[task].batch_dtype))
        # Per-pixel vectors go channels first, as the network outputs them.
        batch['targets'][task] = stacked.movedim(-1, 1) if stacked.ndim == 4 else stacked
    return batch
