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
Soak the node with camera frames, then a few huge ones; report its resident memory.

    python -m multitask_seg.ros.bench_memory [--checkpoint model.pt] [--out build/bench.json]

Starts multitask_seg_node as its own process (default parameters, the bundled model unless
``--checkpoint``), sends ``--frames`` 640 x 480 frames one at a time, then ``--large``
frames of ``--large-size`` (4096 x 4096 by default, the largest the default ``max_pixels``
allows), then the 640 x 480 frames again, each sent once the node has answered the one
before. Keys merged into ``--out``:

    node_rss_mb_start              resident MiB once the node answers its first frame
    node_rss_mb_soak               after the first run of camera-sized frames
    node_rss_mb_after_large        after the huge frames
    node_rss_mb_after_large_soak   after the camera-sized frames that follow them: what the
                                   huge frames left behind
    node_rss_mb_peak               the process's high-water mark (VmHWM)
    node_rss_large_size            the huge frames' size, WxH
"""

import argparse
from pathlib import Path

import numpy as np
import psutil

from .bench_node import node_process, run_and_merge
from ..bench.timing import peak_rss_mb
from ..bundled import default_checkpoint
from ..stopping import exit_with_status

TOPIC = 'cam0/depth/image'


def rss_mb(process: psutil.Process) -> float:
    """Return the resident MiB of ``process``."""
    return process.memory_info().rss / 2**20


def send_frames(probe, images: list[np.ndarray], timeout: float) -> None:
    """Publish each image once the node has answered the one before."""
    from .frame_client import image_message

    for image in images:
        count = len(probe.received[TOPIC])
        probe.image_pubs['cam0'].publish(image_message(
            image, probe.get_clock().now().to_msg(), 'bench'))
        if len(probe.wait_for(TOPIC, count + 1, timeout)) <= count:
            raise TimeoutError(f'the node did not answer a {image.shape[1]}x'
                               f'{image.shape[0]} frame within {timeout} s')


def run(args: argparse.Namespace, work: Path) -> dict[str, float | str]:
    """Measure; return the JSON keys and values."""
    import rclpy
    from rclpy.signals import SignalHandlerOptions

    from .frame_client import image_message, ProbeNode, spinning

    rng = np.random.default_rng(0)
    small = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(4)]
    width, height = (int(v) for v in args.large_size.split('x'))
    large = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    results = {}
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)  # see bench_node.run
    try:
        with node_process(args.checkpoint, ['cam0'], args.input_size,
                          work / 'node.log', tuple(args.param)) as process:
            node = psutil.Process(process.pid)
            probe = ProbeNode(['cam0'], outputs=('depth/image',), headers_only=True)
            with spinning(probe):
                if not probe.wait_matched(timeout=60):
                    raise RuntimeError(f'node did not come up; see {work / "node.log"}')
                probe.send_until_answered(probe.image_pubs['cam0'], image_message(
                    small[0], probe.get_clock().now().to_msg(), 'warm-up'), TOPIC, timeout=60)
                results['node_rss_mb_start'] = rss_mb(node)
                send_frames(probe, small * (args.frames // len(small)), 60)
                results['node_rss_mb_soak'] = rss_mb(node)
                send_frames(probe, [large] * args.large, 600)
                results['node_rss_mb_after_large'] = rss_mb(node)
                send_frames(probe, small * (args.frames // len(small)), 60)
                results['node_rss_mb_after_large_soak'] = rss_mb(node)
                results['node_rss_mb_peak'] = peak_rss_mb(process.pid)
            probe.destroy_node()
    finally:
        rclpy.shutdown()
    results = {key: round(value, 1) for key, value in results.items()}
    results['node_rss_large_size'] = args.large_size
    results['node_rss_params'] = list(args.param)
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--checkpoint', type=Path, default=default_checkpoint(),
                        help='model file (default: the bundled model)')
    parser.add_argument('--out', type=Path, default=Path('build/bench.json'),
                        help='JSON file to merge the results into')
    parser.add_argument('--input-size', default='checkpoint',
                        help='node parameter input_size (default: %(default)s)')
    parser.add_argument('--frames', type=int, default=200,
                        help='640x480 frames before and after the huge ones')
    parser.add_argument('--large', type=int, default=4, help='huge frames')
    parser.add_argument('--large-size', default='4096x4096', help='WxH of the huge frames')
    parser.add_argument('--param', action='append', default=[], metavar='NAME:=VALUE',
                        help='a further node parameter (repeatable)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float | str]:
    """Run the benchmark and merge its results into ``--out``."""
    return run_and_merge(run, parse_args(argv), 'bench_memory.')


if __name__ == '__main__':
    exit_with_status('python -m multitask_seg.ros.bench_memory', main)
