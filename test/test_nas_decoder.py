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

"""The NAS decoders wire what their genotypes say (read by hand from the authors' format)."""

from multitask_seg.model import build_model, ModelConfig
from multitask_seg.model.decoders.nas import ContextualCell, GENOTYPES, NASDecoder
import pytest
import torch
from torch import nn

# The authors' operation names by genotype index (their OP_NAMES, CVPR 2019).
OP_NAMES = ['conv1x1', 'conv3x3', 'sep_conv_3x3', 'sep_conv_5x5', 'global_average_pool',
            'conv3x3_dil3', 'conv3x3_dil12', 'sep_conv_3x3_dil3', 'sep_conv_5x5_dil6',
            'skip_connect', 'none']
# Each operation's convolutions as (kernel, dilation, depthwise), from the authors' layer
# definitions; separable ones are stacked twice (2 repeats).
SEPARABLE = {'sep_conv_3x3': (3, 1), 'sep_conv_5x5': (5, 1), 'sep_conv_3x3_dil3': (3, 3),
             'sep_conv_5x5_dil6': (5, 6)}
CONVS = {'conv1x1': [(1, 1, False)], 'conv3x3': [(3, 1, False)],
         'global_average_pool': [(1, 1, False)], 'conv3x3_dil3': [(3, 3, False)],
         'conv3x3_dil12': [(3, 12, False)], 'skip_connect': [], 'none': [],
         **{name: [(k, d, True), (1, 1, False)] * 2 for name, (k, d) in SEPARABLE.items()}}
# Worked by hand with op k replaced by multiplication by k + 2 (see test_cell_wiring).
CELL_GAIN = {'arch0': 79, 'arch1': 77, 'arch2': 331}
# Merge cells no later one reads (pool indices: 0-3 the taps, 4-6 the merge cells), the
# taps they read and the finest resolution among the kept ones.
KEPT = {'arch0': [4, 5, 6], 'arch1': [5, 6], 'arch2': [5, 6]}
TAPS_READ = {'arch0': ['0', '2', '3'], 'arch1': ['1', '2', '3'], 'arch2': ['1', '2', '3']}
STRIDE = {'arch0': 4, 'arch1': 8, 'arch2': 8}


def convs(module: nn.Module) -> list[tuple[int, int, bool]]:
    return [(m.kernel_size[0], m.dilation[0], m.groups > 1) for m in module.modules()
            if isinstance(m, nn.Conv2d)]


def flat_ops(cell: list) -> list[int]:
    first, *nodes = cell
    return [first] + [op for node in nodes for op in node[2:]]


class Scale(nn.Module):
    def __init__(self, gain: float) -> None:
        super().__init__()
        self.gain = gain

    def forward(self, x):
        return x * self.gain


@pytest.mark.parametrize('arch', sorted(GENOTYPES))
def test_cell_operations_are_the_genotypes(arch):
    cell = ContextualCell(GENOTYPES[arch][0], 8, repeats=2)
    names = [OP_NAMES[i] for i in flat_ops(GENOTYPES[arch][0])]
    assert len(cell.ops) == 7
    assert [convs(op) for op in cell.ops] == [CONVS[name] for name in names]


@pytest.mark.parametrize('arch', sorted(GENOTYPES))
def test_cell_wiring(arch):
    cell = ContextualCell(GENOTYPES[arch][0], 1, repeats=2)
    cell.ops = nn.ModuleList(Scale(k + 2) for k in range(len(cell.ops)))
    x = torch.ones(1, 1, 2, 2)
    assert torch.equal(cell(x), CELL_GAIN[arch] * x)


@pytest.mark.parametrize('arch', sorted(GENOTYPES))
def test_merge_cells_and_output(arch):
    model = build_model(ModelConfig(architecture=f'nas_{arch}', tasks={'depth': 1})).eval()
    decoder = model.decoder
    assert isinstance(decoder, NASDecoder)
    assert decoder.outputs == KEPT[arch] and decoder.output_stride == STRIDE[arch]
    assert sorted(decoder.adapt) == TAPS_READ[arch]
    assert len(decoder.merges) == 3 and all(len(m.cells) == 2 for m in decoder.merges)
    # Every contextual cell is its own copy: 3 merges x 2 cells x 7 operations.
    cells = [c for m in decoder.merges for c in m.cells]
    assert len({id(op) for c in cells for op in c.ops}) == 42
    with torch.no_grad():
        out = model(torch.randn(1, 3, 64, 96))
    assert out['depth'].shape == (1, 1, 64 // STRIDE[arch], 96 // STRIDE[arch])


@pytest.mark.parametrize('genotype, message', [
    ([[2, [2, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]], [[0, 1], [1, 2], [2, 3]]], 'entry 2'),
    ([[2, [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 11, 1]], [[0, 1], [1, 2], [2, 3]]],
     'operation 11'),
    ([[2, [0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]], [[0, 1], [1, 2], [2, 7]]], 'pool entry'),
])
def test_bad_genotype_is_named(genotype, message):
    with pytest.raises(ValueError, match=message):
        NASDecoder(genotype, [(24, 4), (32, 8), (96, 16), (320, 32)], 8)
