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

"""The benchmark's parts on tiny inputs; no timing is asserted, only that it all runs."""

import json

from multitask_seg.bench.__main__ import format_table, main
from multitask_seg.bench.accuracy import output_differences
from multitask_seg.bench.inference_paths import available_paths
from multitask_seg.bench.macs import count_macs, count_params
from multitask_seg.bench.results import merge_json
from multitask_seg.bench.timing import matmul_flops, time_in_fresh_processes
import pytest
import torch
from torch import nn


def test_macs_are_half_the_counted_flops():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert count_params(conv) == 8 * 3 * 9 + 8
    assert count_macs(conv, 10, 12) == 8 * 3 * 9 * 10 * 12


def test_output_differences():
    logits = torch.tensor([[[[2.0, 0.0]], [[1.0, 1.0]]]])  # (1, 2, 1, 2): classes 0 and 1
    depth = torch.ones(1, 1, 1, 2)
    costs = output_differences({'segmentation': logits, 'depth': depth},
                               {'segmentation': logits.flip(1), 'depth': depth * 1.5})
    assert costs == {'label_agreement_pct': 0.0, 'depth_max_abs_m': 0.5,
                     'depth_mean_abs_m': 0.5, 'depth_mean_m': 1.0}


def test_merge_keeps_other_benchmarks_keys(tmp_path):
    path = tmp_path / 'bench.json'
    path.write_text(json.dumps({'node_overhead_ratio': 1.2, 'peak_rss_mb': 1}))
    merged = merge_json(path, {'peak_rss_mb': 500})
    assert merged == json.loads(path.read_text()) == {'node_overhead_ratio': 1.2,
                                                      'peak_rss_mb': 500}
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bench.json', 'bench.json.lock']


def test_a_path_times_in_a_fresh_process(tiny_checkpoint):
    image = torch.zeros(1, 3, 32, 48)
    ms, peak_mb = time_in_fresh_processes('torch_channels_last', {'pt': tiny_checkpoint}, 1,
                                          image, sweeps=1, repeats=2, warm_up=1)
    assert ms > 0 and peak_mb > 50
    assert matmul_flops(64, repeats=2) > 0


@pytest.mark.slow
def test_the_whole_benchmark_writes_every_key(tmp_path):
    out = tmp_path / 'bench.json'
    out.write_text(json.dumps({'node_overhead_ratio': 1.2}))
    results = main(['--out', str(out), '--threads', '1', '--size', '32', '48',
                    '--sweeps', '1'])
    written = json.loads(out.read_text())
    assert written['node_overhead_ratio'] == 1.2
    assert written['params_nyud40'] == 3_070_057
    assert abs(written['gmacs_640x480_nyud40'] - 5.94) < 0.01
    assert set(written['cpu_ms_640x480']) == set(written['cpu_ms_320x240']) == set(
        available_paths())
    assert {'torch_channels_last', 'onnxruntime_fp32', 'openvino_fp32',
            'openvino_int8'} <= set(available_paths())
    assert set(written['bound_ms_640x480']) == {'fp32', 'bf16', 'int8'}
    for key in ('gmacs_1200x350_kitti6', 'gemm_bound_ms_640x480', 'joint_vs_two_single_ratio',
                'peak_rss_mb', 'accuracy_vs_fp32'):
        assert written[key], key
    reduced = {'torch_bf16', 'onnxruntime_int8', 'openvino_bf16', 'openvino_int8'}
    assert set(written['accuracy_vs_fp32']) == reduced & set(available_paths())
    assert 'onnxruntime_int8' in format_table(results)
