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
Command line: export synthetic datasets, draw contact sheets, benchmark the renderer.

A training set of twenty 50-frame walks through furnished rooms::

    multitask_seg_synth --domain indoor --num 1000 --sequence-length 50 --out synth_indoor
"""

import argparse
import math
from typing import Optional, Sequence

from tqdm import tqdm

from .camera import intrinsics
from .classes import CLASSES, COLORS, DOMAINS
from .preview import contact_sheet
from .render import HFOV_DEG, render_frame, render_sequence, split_seeds
from ..bench.synth_speed import report
from ..data.folder_format import DEPTH_PNG_SCALE, KITTI_DEPTH_SCALE, TASK_DIRS
from ..data.folder_writer import FolderWriter
from ..stopping import stoppable


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of multitask_seg_synth."""
    parser = argparse.ArgumentParser(prog='multitask_seg_synth', description=__doc__.split(
        '\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--domain', choices=DOMAINS, default='indoor')
    parser.add_argument('--split', choices=('train', 'val', 'test'), default='train',
                        help='selects a disjoint range of scene seeds')
    parser.add_argument('--num', type=int, default=100, help='number of frames to write')
    parser.add_argument('--out', help='output dataset folder')
    parser.add_argument('--height', type=int, default=240)
    parser.add_argument('--width', type=int, default=320)
    parser.add_argument('--sequence-length', type=int, default=1,
                        help='frames per trajectory (10 Hz); 1 = independent frames')
    parser.add_argument('--annotations', default='segmentation,depth',
                        help='comma-separated annotations to write (segmentation, depth)')
    parser.add_argument('--exact-depth', action='store_true',
                        help='write exact depth instead of the simulated sensor depth')
    parser.add_argument('--bench', action='store_true',
                        help='print rendering frames/s at 320x240 on one core')
    parser.add_argument('--contact-sheet', metavar='FILE.png',
                        help='write RGB | labels | depth | sensor depth rows for both domains')
    return parser


def export(args: argparse.Namespace) -> int:
    """Write args.num frames into args.out; return the number written."""
    tasks = [t for t in args.annotations.split(',') if t]
    unknown = sorted(set(tasks) - set(TASK_DIRS))
    if unknown:
        raise SystemExit(f'unknown annotation(s) {unknown}; choose from {sorted(TASK_DIRS)}')
    length = max(1, args.sequence_length)
    seeds = split_seeds(args.split)
    runs = math.ceil(args.num / length)
    if runs > len(seeds):
        raise SystemExit(f'--num needs {runs} scenes but split {args.split} has {len(seeds)}')
    K = intrinsics(args.height, args.width, HFOV_DEG[args.domain])
    # Street depth reaches past the 65.535 m of millimetre PNGs: KITTI's 1/256 m holds it.
    scale = KITTI_DEPTH_SCALE if args.domain == 'outdoor' else DEPTH_PNG_SCALE
    writer = FolderWriter(args.out, classes=CLASSES[args.domain], colors=COLORS[args.domain],
                          K=K, width=args.width, height=args.height, domain=args.domain,
                          depth_scale=scale)
    size = {'height': args.height, 'width': args.width}
    written = 0
    with tqdm(total=args.num, unit='frame', desc=f'{args.domain} {args.split}') as bar:
        for run in range(runs):
            seed = seeds[run]
            count = min(length, args.num - written)
            if length == 1:
                frames = [render_frame(args.domain, seed, **size)]
            else:
                frames = render_sequence(args.domain, seed, count, **size)
            for frame in frames:
                depth = frame.depth if args.exact_depth else frame.sensor_depth
                writer.write(f'{args.domain}_{seed:07d}_{frame.index:04d}', frame.rgb,
                             segmentation=frame.labels if 'segmentation' in tasks else None,
                             depth=depth if 'depth' in tasks else None)
                written += 1
                bar.update()
    return written


@stoppable('multitask_seg_synth')
def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    if not (args.bench or args.contact_sheet or args.out):
        build_parser().error('nothing to do: give --out, --contact-sheet or --bench')
    if args.bench:
        print(report())
    if args.contact_sheet:
        seeds = split_seeds(args.split)
        frames = [render_frame(domain, seeds[k], height=args.height, width=args.width)
                  for domain in DOMAINS for k in range(3)]
        contact_sheet(frames, args.contact_sheet)
        print(f'wrote {args.contact_sheet}')
    if args.out:
        export(args)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
