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
What reduced precision costs a trained model, at a network input size of the bench's.

    python -m multitask_seg.bench.agreement --checkpoint multitask_seg/bundled/default.pt \
        --input-size 480x640 --out build/bench.json

Runs the checkpoint's optimised OpenVINO models (``multitask_seg_optimize``, found beside
it) at each precision this CPU has, and fp32, on synthetic indoor and outdoor frames
whose seeds are disjoint from the ones ``make optimize-bundled`` calibrates, steers and
measures on, and writes:

    agreement_<W>x<H>               per OpenVINO reduced-precision path: labels agreeing
                                    with fp32 (%), mean and p99 absolute depth change (m)
    agreement_default_path_<W>x<H>  the same for what precision 'auto' picks, and its name

(The untrained network of ``python -m multitask_seg.bench`` has its own differences under
``accuracy_vs_fp32``: a random network's labels say little about a trained one's.)
"""

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

from .results import merge_json
from ..stopping import exit_with_status

# Far above the seeds the optimisation uses (0 .. frames + validation + held-out).
FIRST_SEED = 100_000


def frames(count: int, height: int, width: int) -> list[tuple[Any, Any]]:
    """Return ``count`` (RGB, labels) synthetic frames, indoor and outdoor alternating."""
    from ..synthetic.render import render_frame

    return [(frame.rgb, frame.labels) for frame in (
        render_frame(('indoor', 'outdoor')[i % 2], FIRST_SEED + i, height=height, width=width)
        for i in range(count))]


def run(checkpoint: Path, input_size: tuple[int, int], count: int,
        threads: int | None) -> dict[str, Any]:
    """Return the bench keys (see the module doc)."""
    from ..inference import Predictor
    from ..inference.engines import openvino_model_file
    from ..inference.openvino_backend import cpu_capabilities
    from ..inference.precision_gate import int8_variant
    from ..optimize import measure_at

    fp32 = openvino_model_file(checkpoint)
    if fp32 is None or not fp32.is_file():
        raise FileNotFoundError(f'{checkpoint} has no optimised OpenVINO models beside it; '
                                f'run multitask_seg_optimize first')
    models = {'fp32': (fp32, 'fp32')}
    if 'BF16' in cpu_capabilities():
        models['bf16'] = (fp32, 'bf16')
    if int8_variant(fp32).is_file():
        models['int8'] = (int8_variant(fp32), 'int8')
    height, width = input_size
    # Frames at the network's size: the figures are the network's, not a resize's.
    _, figures = measure_at(models, frames(count, height, width), threads, input_size)
    default = Predictor(checkpoint, engine='openvino', precision='auto').precision
    size = f'{width}x{height}'
    keep = ('labels_agree_pct', 'depth_mean_abs_m', 'depth_p99_abs_m')
    paths = {f'openvino_{name}': {k: v for k, v in values.items() if k in keep}
             for name, values in figures.items() if name != 'fp32'}
    return {f'agreement_{size}': paths,
            f'agreement_default_path_{size}': {
                'path': f'openvino_{default}',
                **({k: v for k, v in figures[default].items() if k in keep})}}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Parse ``argv``, measure, print and merge into --out."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--checkpoint', required=True, type=Path)
    parser.add_argument('--input-size', default='480x640', help='HEIGHTxWIDTH')
    parser.add_argument('--frames', type=int, default=20)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out', type=Path, default=Path('build/bench.json'))
    args = parser.parse_args(argv)
    height, width = (int(v) for v in args.input_size.split('x'))
    results = run(args.checkpoint, (height, width), args.frames, args.threads)
    print(json.dumps(results, indent=2))
    merge_json(args.out, results)
    print(f'merged into {args.out}')
    return results


if __name__ == '__main__':
    exit_with_status('python -m multitask_seg.bench.agreement', main)
