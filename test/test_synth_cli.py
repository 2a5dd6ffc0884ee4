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
"""End-to-end runs of the multitask_seg_synth command on tiny images."""

from multitask_seg.bench.synth_speed import measure
from multitask_seg.data import FolderDataset
from multitask_seg.synthetic import render_frame, split_seeds
from multitask_seg.synthetic.cli import main
import numpy as np
from PIL import Image


TINY = ['--height', '48', '--width', '64']


def test_cli_writes_a_readable_dataset(tmp_path):
    out = tmp_path / 'indoor'
    assert main(['--domain', 'indoor', '--split', 'val', '--num', '5', '--sequence-length', '2',
                 '--out', str(out)] + TINY) == 0
    data = FolderDataset(str(out))
    assert len(data) == 5 and data.domain == 'indoor' and data.K.shape == (3, 3)
    sample = data[0]
    assert sample.tasks == ('segmentation', 'depth')
    assert sample.image.shape == (48, 64, 3)
    seed = split_seeds('val')[0]
    assert data.names[:2] == [f'indoor_{seed:07d}_0000', f'indoor_{seed:07d}_0001']


def test_cli_partial_annotations_and_exact_depth(tmp_path):
    out = tmp_path / 'outdoor'
    main(['--domain', 'outdoor', '--split', 'test', '--num', '1', '--annotations', 'depth',
          '--exact-depth', '--out', str(out)] + TINY)
    sample = FolderDataset(str(out))[0]
    assert sample.tasks == ('depth',)
    frame = render_frame('outdoor', split_seeds('test')[0], height=48, width=64)
    # Street depth beyond 65.535 m survives: outdoor sets store KITTI's 1/256 m.
    assert frame.depth.max() > 65.535
    np.testing.assert_allclose(sample.targets['depth'], frame.depth, atol=0.5 / 256 + 1e-5)
    np.testing.assert_array_equal(sample.image, frame.rgb)


def test_contact_sheet(tmp_path):
    path = tmp_path / 'sheet.png'
    main(['--contact-sheet', str(path)] + TINY)
    with Image.open(path) as img:
        assert img.size == (4 * 64, 6 * 48 + 5 * 2)


def test_benchmark_measures_positive_rates():
    wall, cpu = measure('indoor', 2, height=24, width=32)
    assert wall > 0 and cpu > 0
