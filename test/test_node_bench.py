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

"""The node benchmark: a tiny run end to end, and the shared JSON file's merge."""

import json
import signal
import subprocess
import sys

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from multitask_seg.ros import bench_node
import pytest
from test_node_process import killed_at_exit, proc_text, wait_until


def test_merge_keeps_other_benchmarks_keys(tmp_path):
    out = tmp_path / 'build' / 'bench.json'
    bench_node.merge_json(out, {'other_fps': 3.0, 'node_fps_64x48': 1.0})
    merged = bench_node.merge_json(out, {'node_fps_64x48': 2.0})
    assert merged == {'other_fps': 3.0, 'node_fps_64x48': 2.0}
    assert json.loads(out.read_text()) == merged
    assert sorted(p.name for p in out.parent.iterdir()) == ['bench.json', 'bench.json.lock']


def test_small_run_writes_every_key(tmp_path, tiny_checkpoint):
    out = tmp_path / 'bench.json'
    out.write_text('{"model_fps": 5.0}')
    results = bench_node.main(['--checkpoint', str(tiny_checkpoint), '--out', str(out),
                               '--height', '48', '--width', '64', '--frames', '3',
                               '--seconds', '0.5', '--input-size', 'checkpoint'])
    assert set(results) == {'node_overhead_ratio', 'node_fps_64x48', 'node_fps_2cams_64x48',
                            'node_round_trip_ms_64x48', 'node_core_latency_ms_64x48',
                            'node_default_path', 'torch_fp32_network_ms_64x48',
                            'node_speedup_vs_torch_fp32', 'node_round_trip_ratio',
                            'node_receive_to_publish_ms_64x48', 'node_stages_ms_64x48'}
    # The node's own receive-to-publish time is part of the round trip.
    assert results['node_receive_to_publish_ms_64x48'] < results['node_round_trip_ms_64x48']
    assert set(results['node_stages_ms_64x48']) >= {'convert', 'infer', 'publish'}
    # No figures in a plain checkpoint: the default path runs fp32.
    assert results['node_default_path'] == 'openvino_fp32'
    assert results['node_overhead_ratio'] > 0 and results['node_fps_2cams_64x48'] > 0
    assert json.loads(out.read_text()) == {'model_fps': 5.0, **results}


def status(name: str, values: dict[str, str]) -> DiagnosticStatus:
    return DiagnosticStatus(name=name, values=[KeyValue(key=k, value=v)
                                               for k, v in values.items()])


def test_node_timings_take_the_median_of_the_reported_medians():
    def report(infer: str, receive: str) -> DiagnosticArray:
        return DiagnosticArray(status=[
            status('multitask_seg: inference', {'infer ms median': infer,
                                                'infer ms max': '99',
                                                'publish ms median': '-'}),
            status('multitask_seg: cam0', {'receive_to_publish ms median': receive,
                                           'stamp_to_publish ms median': '1000.0'})])

    reports = [report('10.0', '12.0'), report('20.0', '30.0'), report('11.0', '13.0')]
    stages, receive = bench_node.node_timings(reports)
    assert stages == {'infer': 11.0} and receive == 0.013
    with pytest.raises(RuntimeError, match='receive_to_publish'):
        bench_node.node_timings(reports[:0])


def node_child(process) -> int | None:
    """Return the pid of the node process ``process`` started, if it runs yet."""
    pid = process.pid
    return next((int(child) for child in proc_text(pid, f'task/{pid}/children').split()
                 if 'node_main' in proc_text(int(child), 'cmdline')), None)


def test_sigterm_ends_the_benchmark_and_its_node_cleanly(tmp_path, tiny_checkpoint):
    out = tmp_path / 'bench.json'
    bench = subprocess.Popen(
        [sys.executable, '-m', 'multitask_seg.ros.bench_node', '--checkpoint',
         str(tiny_checkpoint), '--out', str(out), '--height', '48', '--width', '64',
         '--frames', '1000', '--input-size', 'checkpoint'],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with killed_at_exit(bench):
        # Polling the process table: there is no event to wait on.
        wait_until(lambda: node_child(bench) is not None, bench, timeout=120, poll=0.05)
        node = node_child(bench)
        bench.send_signal(signal.SIGTERM)
        _, err = bench.communicate(timeout=60)
    assert bench.returncode == 143, err
    assert 'python -m multitask_seg.ros.bench_node: stopped by SIGTERM' in err
    assert 'Traceback' not in err, err
    assert 'node_main' not in proc_text(node, 'cmdline')
    assert not out.exists()  # no figures from an unfinished run
