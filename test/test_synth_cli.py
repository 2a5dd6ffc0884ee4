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

from multitask_seg.bench import synth_speed
from multitask_seg.data import FolderDataset
from multitask_seg.synthetic import render_frame, render_sequence, split_seeds
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
    # The files hold what the renderer draws for the same seed: frame 1 of the first walk.
    frame = list(render_sequence('indoor', seed, 2, height=48, width=64))[1]
    written = data[1]
    np.testing.assert_array_equal(written.image, frame.rgb)
    np.testing.assert_array_equal(written.targets['segmentation'], frame.labels)
    expected = np.where(np.isfinite(frame.sensor_depth) & (frame.sensor_depth <= 65.535),
                        frame.sensor_depth, 0.0)
    np.testing.assert_allclose(written.targets['depth'], expected, atol=5e-4)


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


class FakeClocks:
    """Wall and CPU clocks that advance only when a frame is rendered (0.5 s and 0.25 s)."""

    def __init__(self):
        self.wall, self.cpu, self.frames = 0.0, 0.0, 0

    def tick(self, frame):
        self.wall, self.cpu, self.frames = self.wall + 0.5, self.cpu + 0.25, self.frames + 1
        return frame


def test_benchmark_rates_are_frames_over_the_clocks(monkeypatch):
    clocks = FakeClocks()
    seeds = []

    def independent(domain, seed, **size):
        seeds.append(seed)
        return clocks.tick(render_frame(domain, seed, **size))

    def sequence(domain, seed, count, **size):
        return (clocks.tick(f) for f in render_sequence(domain, seed, count, **size))

    monkeypatch.setattr(synth_speed, 'render_frame', independent)
    monkeypatch.setattr(synth_speed, 'render_sequence', sequence)
    fake = (lambda: clocks.wall, lambda: clocks.cpu)
    # 3 timed frames after one untimed warm-up: 3 / 1.5 s wall, 3 / 0.75 s CPU.
    assert synth_speed.measure('indoor', 3, height=24, width=32, clocks=fake) == (2.0, 4.0)
    assert seeds == [0, 1, 2, 3] and clocks.frames == 4
    assert synth_speed.measure('outdoor', 4, sequence=True, height=24, width=32,
                               clocks=fake) == (2.0, 4.0)
    assert clocks.frames == 4 + 1 + 4
