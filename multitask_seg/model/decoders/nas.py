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
Compact decoders found by architecture search (Nekrasov, Chen, Shen, Reid, CVPR 2019).

A genotype ``[cell, connections]`` describes the whole decoder:

* ``cell = [op, [i1, i2, op1, op2] x 3]``: the contextual cell. Its running list of
  tensors starts with the input x; ``op`` maps x to the second entry; each of the three
  nodes applies op1 to entry i1 and op2 to entry i2 and appends both results and their
  sum. The cell's output is the sum of the first op's result and the node sums that no
  later node reads.
* ``connections = [[j1, j2] x 3]``: three merge cells. The pool starts with the four
  encoder taps (1/4, 1/8, 1/16, 1/32 of MobileNet-v2: 24, 32, 96, 320 channels, each
  projected to the aggregation size); each merge cell runs its own copy of the contextual
  cell on pool entries j1 and j2, projects both (1x1 conv-BN-ReLU), upsamples the coarser
  and sums, and joins the pool. Merge cells no later one reads are concatenated at the
  finest of their resolutions and projected by a 1x1 conv-BN-ReLU: the decoder's output.
"""

from typing import Sequence

import torch
from torch import nn
import torch.nn.functional as F

from .nas_operations import operation
from ..blocks import conv_bn_relu

# The authors' genotypes for depth on NYUD with MobileNet-v2, aggregation size 64 and
# 2 repeats (their examples/inference/NYU-depth.ipynb).
GENOTYPES = {
    'arch0': [[8, [0, 0, 5, 2], [0, 2, 8, 8], [0, 5, 1, 4]], [[3, 3], [3, 2], [3, 0]]],
    'arch1': [[2, [1, 0, 3, 6], [0, 1, 2, 8], [2, 0, 6, 1]], [[2, 3], [3, 1], [4, 4]]],
    'arch2': [[5, [0, 0, 4, 1], [3, 2, 0, 1], [5, 6, 5, 0]], [[1, 3], [4, 3], [2, 2]]],
}


class ContextualCell(nn.Module):
    """
    The genotype's contextual cell on C channels: (N, C, H, W) -> (N, C, H, W).

    :param cell: ``[op, [i1, i2, op1, op2], ...]`` as in the module docstring.
    :param channels: C.
    :param repeats: stacked separable convolutions per separable operation.
    """

    def __init__(self, cell: Sequence, channels: int, repeats: int) -> None:
        super().__init__()
        first, *nodes = cell
        ops = [operation(first, channels, repeats)]
        self.reads = [0]
        entries = 2
        unread = [1]
        for node in nodes:
            i1, i2, op1, op2 = node
            for i in (i1, i2):
                if not 0 <= i < entries:
                    raise ValueError(f'contextual cell node {node} reads entry {i}; only '
                                     f'{entries} exist before it')
            ops += [operation(op1, channels, repeats), operation(op2, channels, repeats)]
            self.reads += [i1, i2]
            unread = [i for i in unread if i not in (i1, i2)] + [entries + 2]
            entries += 3
        self.ops = nn.ModuleList(ops)
        self.outputs = unread

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the nodes in order and sum the entries no node read."""
        entries = [x, self.ops[0](x)]
        for k in range(1, len(self.ops), 2):
            a = self.ops[k](entries[self.reads[k]])
            b = self.ops[k + 1](entries[self.reads[k + 1]])
            entries += [a, b, a + b]
        out = entries[self.outputs[0]]
        for i in self.outputs[1:]:
            out = out + entries[i]
        return out


class MergeCell(nn.Module):
    """
    Merge two pool entries: a contextual cell and a 1x1 conv-BN-ReLU on each, then the sum.

    (N, C, h1, w1), (N, C, h2, w2) -> (N, C, finer size): the coarser one is upsampled.

    :param coarser: which input (0 or 1) is upsampled to the other's size, known from the
        strides; None when both have the same stride.
    """

    def __init__(self, cell: Sequence, channels: int, repeats: int,
                 coarser: int | None) -> None:
        super().__init__()
        self.cells = nn.ModuleList(ContextualCell(cell, channels, repeats) for _ in range(2))
        self.projections = nn.ModuleList(conv_bn_relu(channels, channels, 1) for _ in range(2))
        self.coarser = coarser

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Return the merged features at the finer input's resolution."""
        a, b = (project(cell(x)) for cell, project, x
                in zip(self.cells, self.projections, (a, b)))
        if self.coarser == 0:
            a = resize(a, b)
        elif self.coarser == 1:
            b = resize(b, a)
        return a + b


def resize(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinearly resize x to like's height and width."""
    return F.interpolate(x, size=like.shape[-2:], mode='bilinear', align_corners=False)


class NASDecoder(nn.Module):
    """
    A searched decoder over four encoder taps: encoder features -> (N, C, h, w).

    The output resolution is the finest merge-cell output the genotype keeps (1/4 or 1/8).

    :param genotype: ``[cell, connections]`` as in the module docstring.
    :param taps: (channels, stride) of each encoder tap, finest first.
    :param channels: C, the aggregation size (64 published).
    :param repeats: stacked separable convolutions (2 published).
    """

    def __init__(self, genotype: Sequence, taps: Sequence[tuple[int, int]], channels: int = 64,
                 repeats: int = 2) -> None:
        super().__init__()
        cell, connections = genotype
        strides = [stride for _, stride in taps]
        used = sorted({j for pair in connections for j in pair if j < len(taps)})
        # Only taps a merge cell reads get a projection (the authors project all four).
        self.adapt = nn.ModuleDict({str(j): conv_bn_relu(taps[j][0], channels, 1)
                                    for j in used})
        merges = []
        unread = []
        for pair in connections:
            j1, j2 = pair
            if not (0 <= j1 < len(strides) and 0 <= j2 < len(strides)):
                raise ValueError(f'merge cell {pair} reads a pool entry not yet made '
                                 f'({len(strides)} exist)')
            coarser = (None if strides[j1] == strides[j2]
                       else 0 if strides[j1] > strides[j2] else 1)
            merges.append(MergeCell(cell, channels, repeats, coarser))
            unread = [i for i in unread if i not in pair] + [len(strides)]
            strides.append(min(strides[j1], strides[j2]))
        self.connections = [tuple(pair) for pair in connections]
        self.merges = nn.ModuleList(merges)
        self.outputs = unread
        self.output_stride = min(strides[i] for i in unread)
        self.finest = next(i for i in unread if strides[i] == self.output_stride)
        self.resized = [strides[i] != self.output_stride for i in unread]
        self.project = conv_bn_relu(channels * len(self.outputs), channels, 1)
        self.out_channels = channels

    def forward(self, levels: Sequence[Sequence[torch.Tensor]]) -> torch.Tensor:
        """
        Map encoder features to the decoder's.

        :param levels: deepest first, as ``MobileNetV2Encoder`` returns them; the first
            tensor of each level is the tap (the authors' l8, l6, l4, l3).
        """
        taps = [level[0] for level in reversed(levels)]
        pool: list[torch.Tensor | None] = [
            self.adapt[str(j)](tap) if str(j) in self.adapt else None
            for j, tap in enumerate(taps)]
        for merge, (j1, j2) in zip(self.merges, self.connections):
            pool.append(merge(pool[j1], pool[j2]))
        finest = pool[self.finest]
        kept = [resize(pool[i], finest) if resized else pool[i]
                for i, resized in zip(self.outputs, self.resized)]
        # The authors apply a ReLU here; every kept entry is a sum of ReLU outputs already.
        return self.project(torch.cat(kept, 1))


def conv3x3_head(in_channels: int, out_channels: int) -> nn.Conv2d:
    """Return the authors' classifier: a 3x3 conv with bias, (N, C, h, w) -> (N, out, h, w)."""
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)
