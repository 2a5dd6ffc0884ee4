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
Benchmark the network's cost and every CPU inference path; merge the results into a JSON file.

    python -m multitask_seg.bench [--out build/bench.json] [--threads 2]

Untrained networks (image-like BN statistics, see untrained) at 640x480, batch 1; latency
is the median of timed forward passes after untimed warm-up ones, each path in fresh
processes of its own (see timing.time_in_fresh_processes); bench_load_average records the
machine's load before and after, since other processes skew every figure. Keys written:

    params_nyud40, gmacs_640x480_nyud40, gmacs_1200x350_kitti6
    cpu_ms_640x480            {path: median ms} for every backend and precision (torch_*,
                              onnxruntime_fp32/int8, openvino_fp32/bf16/int8)
    cpu_ms_320x240            the same at half the width and height
    gemm_bound_ms_640x480     network FLOPs / float32 matmul FLOP/s on the same threads
    bound_ms_640x480          {fp32, bf16, int8}: the same bound per precision's matmul
    gemm_bound_matmul         the matmul size and GFLOP/s behind those bounds
    joint_vs_two_single_ratio joint net / (segmentation-only + depth-only), torch channels-last
    peak_rss_mb               peak memory of the process timing torch_channels_last (the
                              Predictor's default); peak_rss_mb_by_path: every path's
    accuracy_vs_fp32          per reduced-precision path: label agreement %, depth errors
                              of this untrained network (the trained bundled model's are
                              ``bench.agreement``'s agreement_640x480)
"""

import argparse
import os
from pathlib import Path
import tempfile
from typing import Any, Sequence

import torch

from .accuracy import output_differences
from .inference_paths import available_paths, open_path, PATHS, REDUCED_PRECISION
from .macs import count_macs, paper_costs
from .results import merge_json
from .timing import matmul_flops, time_in_fresh_processes
from .untrained import smooth_images, untrained_checkpoint
from ..export import export_onnx
from ..inference.openvino_ir import convert_checkpoint
from ..stopping import exit_with_status

NYUD = {'segmentation': 40, 'depth': 1}
HEIGHT, WIDTH = 480, 640
MATMUL_SIZE = 2048


def accuracy_costs(files: dict[str, Path], threads: int,
                   probe: torch.Tensor) -> dict[str, dict[str, float]]:
    """Return {reduced-precision path: its output differences from PATHS[0] on probe}."""
    reference = open_path(PATHS[0], files, threads)(probe)
    return {name: output_differences(reference, open_path(name, files, threads)(probe))
            for name in REDUCED_PRECISION if name in available_paths()}


def joint_vs_two_single(folder: Path, threads: int, image: torch.Tensor, sweeps: int) -> float:
    """Return joint-net latency / (segmentation-only + depth-only latency), torch channels-last."""
    ms = {}
    for tasks in (NYUD, {'segmentation': 40}, {'depth': 1}):
        files = {'pt': untrained_checkpoint(folder, tasks)}
        ms['_'.join(tasks)], _ = time_in_fresh_processes(
            'torch_channels_last', files, threads, image, sweeps)
    return round(ms['segmentation_depth'] / (ms['segmentation'] + ms['depth']), 3)


def run(folder: Path, threads: int = 2, height: int = HEIGHT, width: int = WIDTH,
        sweeps: int = 2, matmul_size: int = MATMUL_SIZE) -> dict[str, Any]:
    """
    Run every measurement at (height, width) on ``threads`` CPU threads; return the results.

    ``folder`` receives the untrained checkpoints, the export and its int8 copy. Keys are
    named for 640x480 whatever the size (smaller sizes are for smoke tests).
    """
    from .int8 import quantize_int8
    from ..quantise import quantise_batches

    load_before = os.getloadavg()[0]
    torch.set_num_threads(threads)
    files = {'pt': untrained_checkpoint(folder, NYUD)}
    files['onnx'] = export_onnx(files['pt'], folder / 'nyud.onnx')
    files['openvino'] = convert_checkpoint(files['pt'], folder / 'nyud.xml')
    calibration = smooth_images(4, height, width, seed=1).numpy()
    files['onnx_int8'] = quantize_int8(files['onnx'], folder / 'nyud_int8.onnx',
                                       list(calibration[:, None]))
    files['openvino_int8'] = quantise_batches(files['openvino'], folder / 'nyud-int8.xml',
                                              list(calibration[:, None]))
    latency, memory, half = {}, {}, {}
    full, small = smooth_images(1, height, width, seed=2), smooth_images(
        1, height // 2, width // 2, seed=2)
    # Interleaved: every path at both sizes before the next path.
    for name in available_paths():
        latency[name], memory[name] = time_in_fresh_processes(
            name, files, threads, full, sweeps)
        half[name], _ = time_in_fresh_processes(name, files, threads, small, sweeps)
    flops = {dtype: matmul_flops(matmul_size, dtype=dtype) for dtype in ('fp32', 'bf16', 'int8')}
    network = open_path(PATHS[0], files, threads).model
    macs = count_macs(network, height, width)
    bounds = {dtype: round(2 * macs / rate * 1e3, 1) for dtype, rate in flops.items()}
    accuracy = accuracy_costs(files, threads, smooth_images(4, height, width, 3))
    return {
        'cpu_ms_640x480': {name: round(ms, 1) for name, ms in latency.items()},
        'cpu_ms_320x240': {name: round(ms, 1) for name, ms in half.items()},
        'gemm_bound_ms_640x480': bounds['fp32'],
        'bound_ms_640x480': bounds,
        'gemm_bound_matmul': {'size': matmul_size,
                              'gflops': {k: round(v / 1e9, 1) for k, v in flops.items()}},
        'joint_vs_two_single_ratio': joint_vs_two_single(folder, threads, full, sweeps),
        'peak_rss_mb': round(memory[PATHS[0]]),
        'peak_rss_mb_by_path': {name: round(mb) for name, mb in memory.items()},
        'accuracy_vs_fp32': accuracy,
        'bench_threads': threads,
        'bench_load_average': [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def format_table(results: dict[str, Any]) -> str:
    """Return the latencies against the bound as a text table."""
    bound = results['gemm_bound_ms_640x480']
    lines = [f'{"path":<22}{"ms":>9}{"x bound":>9}  accuracy vs fp32']
    for name, ms in results['cpu_ms_640x480'].items():
        cost = results['accuracy_vs_fp32'].get(name, '')
        # Each path against the bound of its own precision.
        own = results['bound_ms_640x480'].get(name.rsplit('_', 1)[-1], bound)
        lines.append(f'{name:<22}{ms:>9.1f}{ms / own:>9.2f}  {cost}')
    lines.append(f'{"gemm bound":<22}{bound:>9.1f}{1.0:>9.2f}  '
                 f'({results["gemm_bound_matmul"]})')
    lines += [f'{key}: {value}' for key, value in results.items()
              if key not in ('cpu_ms_640x480', 'accuracy_vs_fp32', 'gemm_bound_ms_640x480',
                             'gemm_bound_matmul')]
    return '\n'.join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse ``argv`` (see --help), benchmark, print the table, merge into --out."""
    parser = argparse.ArgumentParser(description='CPU cost and latency of every backend.')
    parser.add_argument('--out', type=Path, default=Path('build/bench.json'),
                        help='JSON file to merge the results into (default build/bench.json)')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads (default 2)')
    parser.add_argument('--size', type=int, nargs=2, default=(HEIGHT, WIDTH),
                        metavar=('HEIGHT', 'WIDTH'), help='input size (default 480 640)')
    parser.add_argument('--sweeps', type=int, default=2,
                        help='fresh processes per path, 7 timed passes each (default 2)')
    args = parser.parse_args(argv)
    results = paper_costs()
    with tempfile.TemporaryDirectory() as folder:
        results.update(run(Path(folder), args.threads, *args.size, args.sweeps))
    print(format_table(results))
    merge_json(args.out, results)
    print(f'merged into {args.out}')
    return results


if __name__ == '__main__':
    exit_with_status('python -m multitask_seg.bench', main)
