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
Command line: render synthetic 10 Hz sequences into a ROS bag, as a camera would record them.

Two 50-frame indoor walks with ground truth, as rosbag2 mcap::

    multitask_seg_synth_bag --domain indoor --sequences 2 --frames 50 --out walk_bag
"""

import argparse
from typing import Optional, Sequence

from tqdm import tqdm

from .classes import DOMAINS
from .render import FRAME_PERIOD_NS, render_sequence, split_seeds
from ..data.bag_writer import BagTopics, BagWriter, COMPRESSIONS, DEPTH_ENCODINGS, STORAGES
from ..stopping import stoppable

# Sequences follow each other in the bag with this much silence between them.
SEQUENCE_GAP_NS = 1_000_000_000


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of multitask_seg_synth_bag."""
    topics = BagTopics()
    parser = argparse.ArgumentParser(prog='multitask_seg_synth_bag', description=__doc__.split(
        '\n')[1], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--out', required=True,
                        help='bag folder to create (a .bag file for --storage ros1)')
    parser.add_argument('--domain', choices=DOMAINS, default='indoor')
    parser.add_argument('--split', choices=('train', 'val', 'test'), default='train',
                        help='selects a disjoint range of scene seeds')
    parser.add_argument('--seed', type=int, help="first scene seed (default: the split's "
                        'first); sequence k uses seed + k')
    parser.add_argument('--sequences', type=int, default=1, help='number of trajectories')
    parser.add_argument('--frames', type=int, default=50, help='frames per trajectory (10 Hz)')
    parser.add_argument('--height', type=int, default=240)
    parser.add_argument('--width', type=int, default=320)
    parser.add_argument('--storage', choices=tuple(STORAGES), default='mcap')
    parser.add_argument('--compression', choices=[c for c in COMPRESSIONS if c],
                        help='write CompressedImage instead of raw rgb8 Image')
    parser.add_argument('--depth-encoding', choices=DEPTH_ENCODINGS, default='32FC1')
    parser.add_argument('--exact-depth', action='store_true',
                        help='write exact depth instead of the simulated sensor depth')
    parser.add_argument('--no-ground-truth', action='store_true',
                        help='write only images and camera info')
    parser.add_argument('--start-time', type=float, default=1.7e9,
                        help='stamp of the first frame, seconds since the epoch')
    parser.add_argument('--frame-id', default='camera_optical_frame')
    for name in ('image', 'compressed', 'camera_info', 'segmentation', 'depth'):
        parser.add_argument(f'--{name.replace("_", "-")}-topic', dest=f'{name}_topic',
                            default=getattr(topics, name))
    return parser


def write_bag(args: argparse.Namespace) -> int:
    """Render and write the sequences of `args`; return the number of frames written."""
    seeds = split_seeds(args.split)
    first = seeds[0] if args.seed is None else args.seed
    if args.sequences < 1 or args.frames < 1:
        raise SystemExit('--sequences and --frames must be at least 1')
    if first not in seeds or first + args.sequences - 1 not in seeds:
        raise SystemExit(f'seeds {first}..{first + args.sequences - 1} are not all in split '
                         f'{args.split} ({seeds.start}..{seeds.stop - 1})')
    topics = BagTopics(**{n: getattr(args, f'{n}_topic') for n in (
        'image', 'compressed', 'camera_info', 'segmentation', 'depth')})
    start_ns = int(round(args.start_time * 1e9))
    span_ns = args.frames * FRAME_PERIOD_NS + SEQUENCE_GAP_NS
    written = 0
    with BagWriter(args.out, storage=args.storage, compression=args.compression,
                   depth_encoding=args.depth_encoding, frame_id=args.frame_id,
                   topics=topics) as writer, tqdm(total=args.sequences * args.frames,
                                                  unit='frame', desc=args.out) as bar:
        for k in range(args.sequences):
            for frame in render_sequence(args.domain, first + k, args.frames,
                                         height=args.height, width=args.width):
                truth = not args.no_ground_truth
                depth = frame.depth if args.exact_depth else frame.sensor_depth
                writer.write(start_ns + k * span_ns + frame.stamp_ns, frame.rgb, K=frame.K,
                             labels=frame.labels if truth else None,
                             depth=depth if truth else None)
                written += 1
                bar.update()
    return written


@stoppable('multitask_seg_synth_bag')
def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the process exit status."""
    args = build_parser().parse_args(argv)
    count = write_bag(args)
    print(f'wrote {count} frames to {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
