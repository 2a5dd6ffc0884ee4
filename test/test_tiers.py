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

"""The speed-tier benchmark: its keys per family, on two families at a tiny size."""

import json

from multitask_seg.bench import tiers, timing
from multitask_seg.model.architectures import ARCHITECTURES


def test_two_families_at_a_tiny_size(tmp_path, monkeypatch):
    families = ('lwrefinenet_mobilenetv2', 'fast_scnn')
    monkeypatch.setattr(tiers, 'ARCHITECTURES', {f: ARCHITECTURES[f] for f in families})
    monkeypatch.setattr(tiers, 'SIZES', {'640x480': (48, 64)})
    out = tmp_path / 'bench.json'
    results = tiers.main(['--out', str(out), '--sweeps', '1'])
    assert list(results['tiers']) == list(families)
    # The paper's count for the NYUD-40 + depth network (README, "The network").
    assert results['tiers']['lwrefinenet_mobilenetv2']['params'] == 3_070_057
    for figures in results['tiers'].values():
        assert {'params', 'gmacs_640x480', 'ms_640x480', 'ms_640x480_torch'} <= set(figures)
        assert figures['ms_640x480'] > 0 and figures['ms_640x480_torch'] > 0
    assert results['tiers']['lwrefinenet_mobilenetv2']['time_vs_lwrefinenet_640x480'] == 1.0
    assert json.loads(out.read_text())['tiers'] == results['tiers']
    assert 'fast_scnn' in tiers.format_tiers(results)


def test_each_path_times_what_the_node_runs(tiny_checkpoint):
    # A camera frame in, full-resolution labels and depth out, on every path timed.
    frame = tiers.camera_frame(37, 53, seed=1)
    assert frame.dtype.name == 'uint8' and frame.shape == (37, 53, 3) and frame.std() > 5
    for path in set(tiers.tier_paths(tiny_checkpoint).values()):
        (answer,) = tiers.open_end_to_end(path, {'pt': tiny_checkpoint}, 1)(frame)
        assert answer['segmentation'].shape == answer['depth'].shape == (37, 53), path


def _recording_opener(name, files, threads):
    return lambda argument: argument.append(files['model'])


def test_interleaved_timing_alternates_models_and_rotates_the_start():
    calls = []
    times = timing._time_models('any', {'a': {'model': 'a'}, 'b': {'model': 'b'},
                                        'c': {'model': 'c'}}, 1, calls, repeats=3,
                                warm_up=1, opener=_recording_opener)
    assert {model: len(values) for model, values in times.items()} == {'a': 3, 'b': 3, 'c': 3}
    # warm-up a, b, c; then rounds starting at a, b, c in turn
    assert calls == list('abc') + list('abc') + list('bca') + list('cab')
