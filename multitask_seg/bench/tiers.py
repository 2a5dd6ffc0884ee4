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
The speed tiers side by side: every architecture family's size, MACs and CPU latency.

    python -m multitask_seg.bench.tiers [--out build/bench.json] [--threads 2]

Each family is built as a multi-task student in the NYUD setting (40 classes + depth),
untrained with image-like BatchNorm statistics (see untrained), and timed on the same
camera frame, every family in the same fresh process per path with their calls
interleaved (timing.time_interleaved), so the ratios between families hold even when the
machine's speed drifts. What is timed is
what the node runs: a uint8 RGB frame in, full-resolution labels and metric depth out
(``Predictor.predict``, the network at the frame's size), so a family that predicts at
1/8 resolution pays for its upsampling and one that predicts at full resolution does not.
Paths: PyTorch channels-last fp32, and the default engine (what ``engine: auto`` picks on
this machine) at fp32 and, where the CPU has it, bf16 (what a model whose figures pass
the gate runs).
"""

from pathlib import Path
from typing import Any

import numpy as np

from .inference_paths import available_paths
from .macs import count_macs, count_params
from .timing import time_interleaved
from .untrained import smooth_images, untrained_checkpoint
from ..checkpoint import load_checkpoint
from ..inference.engines import choose_engine
from ..model.architectures import ARCHITECTURES
from ..stopping import exit_with_status

TASKS = {'segmentation': 40, 'depth': 1}
SIZES = {'640x480': (480, 640), '320x240': (240, 320)}


def tier_paths(checkpoint: Path) -> dict[str, str]:
    """Return {key suffix: benchmark path}: torch, and the default engine's precisions."""
    engine = choose_engine('auto', 'cpu', checkpoint)
    if engine == 'openvino':
        default = {'': 'openvino_fp32', '_bf16': 'openvino_bf16'}
    elif engine == 'onnxruntime':
        default = {'': 'onnxruntime_fp32'}
    else:
        default = {'': 'torch_channels_last'}
    default = {suffix: path for suffix, path in default.items() if path in available_paths()}
    return {**default, '_torch': 'torch_channels_last'}


def open_end_to_end(name: str, files: dict[str, Path], threads: int):
    """
    Return ``frame -> predictions`` on path ``name`` (see tier_paths), as the node runs it.

    The network runs at the frame's own size; each path's model is converted from
    ``files['pt']`` once (the exports cache) before any call is timed.
    """
    from ..inference import Predictor

    engine, precision = ('torch', 'fp32') if name == 'torch_channels_last' else name.split('_')
    predictor = Predictor(files['pt'], engine=engine, precision=precision,
                          input_size='native', num_threads=threads)
    return lambda frame: predictor.predict([frame])


def camera_frame(height: int, width: int, seed: int) -> np.ndarray:
    """Return an image-like (height, width, 3) uint8 RGB frame (see untrained.smooth_images)."""
    smooth = smooth_images(1, height, width, seed=seed)[0].permute(1, 2, 0).numpy()
    return np.clip(smooth * 48.0 + 128.0, 0, 255).astype(np.uint8)


def run(folder: Path, threads: int = 2, sweeps: int = 2) -> dict[str, Any]:
    """Return {'tiers': {family: figures}, 'tiers_default_engine': engine} for this CPU."""
    files, tiers = {}, {}
    for family in ARCHITECTURES:
        checkpoint = untrained_checkpoint(folder, TASKS, architecture=family)
        files[family] = {'pt': checkpoint}
        model = load_checkpoint(checkpoint)[0].eval()
        tiers[family] = {'params': count_params(model)}
        for size, (height, width) in SIZES.items():
            tiers[family][f'gmacs_{size}'] = round(count_macs(model, height, width) / 1e9, 3)
    paths = tier_paths(files['lwrefinenet_mobilenetv2']['pt'])
    for size, (height, width) in SIZES.items():
        frame = camera_frame(height, width, seed=2)
        for suffix, path in paths.items():
            times = time_interleaved(path, files, threads, frame, sweeps,
                                     opener=open_end_to_end)
            for family, ms in times.items():
                tiers[family][f'ms_{size}{suffix}'] = round(ms, 1)
    reference = tiers['lwrefinenet_mobilenetv2']
    for figures in tiers.values():
        figures['time_vs_lwrefinenet_640x480'] = round(
            figures['ms_640x480'] / reference['ms_640x480'], 3)
    return {'tiers': tiers, 'tiers_default_engine': paths['']}


def format_tiers(results: dict[str, Any]) -> str:
    """Return the tiers as a text table: params, GMACs and ms per path and size."""
    tiers = results['tiers']
    columns = [key for key in next(iter(tiers.values())) if key.startswith('ms_')]
    lines = [f'{"family":<26}{"params":>11}{"GMACs":>8}' + ''.join(f'{c:>22}' for c in columns)]
    for family, figures in tiers.items():
        lines.append(f'{family:<26}{figures["params"]:>11,}{figures["gmacs_640x480"]:>8.2f}'
                     + ''.join(f'{figures[c]:>22.1f}' for c in columns))
    lines.append(f'default engine: {results["tiers_default_engine"]} (ms_640x480)')
    return '\n'.join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Parse ``argv`` (see --help), time every family, print the table, merge into --out."""
    import argparse
    import tempfile

    from .results import merge_json

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path('build/bench.json'),
                        help='JSON file to merge the results into (default build/bench.json)')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads (default 2)')
    parser.add_argument('--sweeps', type=int, default=2,
                        help='fresh processes per path and size (default 2)')
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix='tiers.') as folder:
        results = run(Path(folder), args.threads, args.sweeps)
    print(format_tiers(results))
    merge_json(args.out, results)
    print(f'merged into {args.out}')
    return results


if __name__ == '__main__':
    exit_with_status('python -m multitask_seg.bench.tiers', main)
