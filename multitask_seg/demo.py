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
The demo: the node on a held-out synthetic sequence, evaluated live.

    python -m multitask_seg.demo [--checkpoint model.pt] [--out demo_output]

Renders short sequences from the test split's scene seeds (never trained on) into a bag
in ``--out`` (their camera poses in poses.json, for the stability metric to follow the
camera's motion): every synthetic domain whose classes the model has (a joint model's head
is the union of indoor and outdoor classes, indoor first), at the model's input size.
Then ``multitask_seg_eval live`` starts the node with the launch file's parameters,
replays the bag in real time and writes its report to ``--out``; the summary table is
printed. The node's process group is stopped before the demo returns.

Ground truth is written in the model's class ids: a domain's ids are shifted by the
position of its first class in the model's class list. So one confusion matrix covers
both domains, and a prediction of the other domain's classes counts as an error, as it
would on a robot (the node publishes the argmax over all classes).
"""

import argparse
import json
from pathlib import Path
import shutil
import statistics
import sys
import time
from typing import Sequence

import numpy as np
from tqdm import tqdm

from .bundled import default_checkpoint
from .checkpoint import read_checkpoint
from .data.bag_writer import BagWriter
from .evaluation import cli
from .inference import Predictor
from .stopping import stoppable
from .synthetic.classes import CLASSES, DOMAINS, IGNORE_LABEL
from .synthetic.render import FRAME_PERIOD_NS, render_sequence, split_seeds

# Stamp of the first frame (s since the epoch) and the silence between two domains (ns).
START_S = 1.7e9
DOMAIN_GAP_NS = 1_000_000_000


def domain_offsets(classes: Sequence[str]) -> dict[str, int]:
    """Return {domain: id of its first class} for each domain whose classes the model has."""
    offsets = {}
    for domain in DOMAINS:
        names = list(CLASSES[domain])
        if names[0] in classes:
            first = list(classes).index(names[0])
            if list(classes[first:first + len(names)]) == names:
                offsets[domain] = first
    return offsets


def write_sequences(path: Path, offsets: dict[str, int], frames: int, height: int,
                    width: int, poses: dict[str, dict] | None = None) -> int:
    """
    Render ``frames`` test-split frames, shared among the domains, into a bag at ``path``.

    :param poses: if given, receives each frame's intrinsics and camera-to-world pose by
        header stamp, as the evaluator's --poses reads them.
    :return: the number of frames written.
    """
    per_domain = max(1, frames // len(offsets))
    stamp = int(START_S * 1e9)
    written = 0
    total = per_domain * len(offsets)
    with BagWriter(str(path)) as writer, tqdm(total=total, unit='frame', desc='rendering') as bar:
        for domain, offset in offsets.items():
            seed = split_seeds('test')[0] + DOMAINS.index(domain)
            for frame in render_sequence(domain, seed, per_domain, height=height, width=width):
                labels = np.where(frame.labels == IGNORE_LABEL, IGNORE_LABEL,
                                  frame.labels.astype(np.int64) + offset).astype(np.uint8)
                # The exact depth: sensor depth has holes (indoors) or is sparse (outdoors).
                writer.write(stamp + frame.stamp_ns, frame.rgb, K=frame.K, labels=labels,
                             depth=frame.depth)
                if poses is not None:
                    poses[str(stamp + frame.stamp_ns)] = {'K': frame.K.tolist(),
                                                          'pose': frame.pose.tolist()}
                written += 1
                bar.update()
            stamp += per_domain * FRAME_PERIOD_NS + DOMAIN_GAP_NS
    return written


def core_latencies(checkpoint: Path, height: int, width: int,
                   repeats: int = 5) -> dict[str, float]:
    """
    Return the inference core's median milliseconds per frame for each engine/precision here.

    Marked on the streaming curve beside the node's measured latency; a path this machine
    cannot run (bf16 without AVX-512-BF16/AMX, OpenVINO not installed) is left out.
    """
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    paths = {'core torch fp32': ('torch', 'fp32'), 'core openvino fp32': ('openvino', 'fp32'),
             'core openvino bf16': ('openvino', 'bf16')}
    out = {}
    for name, (engine, precision) in paths.items():
        try:
            predictor = Predictor(checkpoint, engine=engine, precision=precision)
            predictor.predict_one(image)
        except (ImportError, ValueError) as exc:
            print(f'demo: {name} not measured: {exc}', file=sys.stderr)
            continue
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            predictor.predict_one(image)
            times.append(time.perf_counter() - start)
        out[name] = 1e3 * statistics.median(times)
    return out


def build_parser() -> argparse.ArgumentParser:
    """Return the demo's argument parser."""
    parser = argparse.ArgumentParser(prog='python -m multitask_seg.demo',
                                     description=__doc__.split('\n')[1])
    parser.add_argument('--checkpoint', help='model file (default: the bundled model)')
    parser.add_argument('--out', type=Path, default=Path('demo_output'))
    parser.add_argument('--frames', type=int, default=50, help='frames in all')
    # A camera's size; the node resizes to the model's own input size (input_size: checkpoint).
    parser.add_argument('--height', type=int, default=240, help='rendered frame height')
    parser.add_argument('--width', type=int, default=320, help='rendered frame width')
    parser.add_argument('--rate', type=float, default=1.0, help='replay speed (1 = 10 Hz)')
    return parser


@stoppable('demo')
def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return the exit status of the evaluation (2 if it cannot start)."""
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    if args.frames < 1:
        print('demo: --frames must be at least 1', file=sys.stderr)
        return 2
    try:
        checkpoint = Path(args.checkpoint) if args.checkpoint else default_checkpoint()
        info = read_checkpoint(checkpoint)['info']
    except (FileNotFoundError, ValueError) as exc:
        print(f'demo: {exc}', file=sys.stderr)
        return 2
    offsets = domain_offsets(info.classes)
    if not offsets:
        print(f'demo: the classes of {checkpoint} ({", ".join(info.classes)}) are those of '
              f'no synthetic domain ({", ".join(DOMAINS)})', file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    bag = args.out / 'sequence'
    if bag.exists():
        shutil.rmtree(bag)
    poses: dict[str, dict] = {}
    count = write_sequences(bag, offsets, args.frames, args.height, args.width, poses)
    (args.out / 'poses.json').write_text(json.dumps(poses))
    print(f'{count} frames of {", ".join(offsets)} test scenes in {bag}', flush=True)
    marks = [f'{name}={ms:.2f}' for name, ms in
             core_latencies(checkpoint, args.height, args.width).items()]
    status = cli.main(['live', str(bag), '--checkpoint', str(checkpoint), '--out',
                       str(args.out), '--rate', str(args.rate), '--settle', '3',
                       '--confidence', '--poses', str(args.out / 'poses.json'),
                       *(f'--mark={mark}' for mark in marks)])
    print(f'demo finished in {time.monotonic() - started:.0f} s')
    return status


if __name__ == '__main__':
    sys.exit(main())
