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
Benchmark the node against its own inference core, over DDS on this machine.

    python -m multitask_seg.ros.bench_node [--checkpoint model.pt] [--out build/bench.json]

Starts multitask_seg_node as its own process and measures, at 640 x 480 by default:

    node_overhead_ratio       the node's median receive-to-publish time (from its own
                              /diagnostics: the input message taken, every output
                              published) over the median Predictor.predict time on the same
                              frames in this run, one frame in flight
    node_round_trip_ratio     the same for the whole round trip seen from another process:
                              frame published, its depth image received (DDS both ways,
                              both sides' (de)serialisation)
    node_stages_ms_<W>x<H>    the node's median time per stage (wait, convert, preprocess,
                              infer, postprocess, publish), from its /diagnostics
    node_fps_<W>x<H>          depth images per second from one camera fed faster than the
                              node can keep up (the node drops the excess)
    node_fps_2cams_<W>x<H>    the same per camera, two cameras fed together (batched)
    node_default_path         the engine and precision the node chose ('auto' for both)
    node_speedup_vs_torch_fp32  one camera's fps x the bare PyTorch channels-last fp32
                              network time on the same frames, same run

plus the medians in milliseconds. Keys are merged into ``--out`` (read, update,
atomic replace, under a lock file) so other benchmarks can share the file. Without
``--checkpoint`` a randomly initialised model (5 classes + depth) runs at the image size.
DDS discovery stays on localhost, in a domain id of this run's own.
"""

import argparse
import contextlib
import json
from pathlib import Path
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Iterator

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np

from .dds import local_dds
from .diagnostics import STAGES
from ..bench.results import merge_json
from ..stopping import exit_with_status

# Untimed frames first: the first forward passes at a new size are several times slower.
WARM_UP = 3
PAUSE = 0.3


def random_checkpoint(folder: Path) -> Path:
    """Write a randomly initialised 5-class + depth model that runs at each image's size."""
    from ..checkpoint import default_info, save_checkpoint
    from ..model import build_model, ModelConfig

    config = ModelConfig(tasks={'segmentation': 5, 'depth': 1})
    return save_checkpoint(folder / 'random.pt', build_model(config),
                           default_info(config, depth_range=[0.1, 10.0]))


def timed(call: Any, *args: Any) -> float:
    """Return the seconds ``call(*args)`` took."""
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


@contextlib.contextmanager
def node_process(checkpoint: Path, cameras: list[str], input_size: str,
                 log: Path, params: tuple[str, ...] = ()) -> Iterator[subprocess.Popen]:
    """
    Run multitask_seg_node in its own process; stop it with SIGINT afterwards.

    It runs with its default QoS (reliable, keep last 1) over the package's
    shared-memory Fast DDS profile (see ``dds.local_dds``), as on a robot.
    ``params``: further 'name:=value' parameters.
    """
    with open(log, 'w') as out:
        process = subprocess.Popen(
            [sys.executable, '-m', 'multitask_seg.ros.node_main', '--ros-args',
             '-p', f'checkpoint:={checkpoint}', '-p', f'cameras:=[{",".join(cameras)}]',
             '-p', f'input_size:={input_size}',
             *[arg for param in params for arg in ('-p', param)]],
            stdout=out, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def node_latency(probe: Any, image: np.ndarray) -> float:
    """Seconds from publishing a frame to receiving its depth image, nothing else queued."""
    from .frame_client import image_message

    topic = 'cam0/depth/image'
    msg = image_message(image, probe.get_clock().now().to_msg(), 'bench')
    count = len(probe.received[topic])
    start = time.monotonic()
    probe.image_pubs['cam0'].publish(msg)
    answers = probe.wait_for(topic, count + 1, 60.0)
    if len(answers) <= count:
        raise TimeoutError('the node did not answer within 60 s')
    return answers[count][0] - start


def node_fps(probe: Any, frames: list[np.ndarray], cameras: list[str], rate: float,
             seconds: float) -> float:
    """Depth images per second per camera while each camera publishes at ``rate`` Hz."""
    from .frame_client import image_message

    messages = [image_message(image, probe.get_clock().now().to_msg(), 'bench')
                for image in frames]
    probe.clear()
    start = time.monotonic()
    i = 0
    while (now := time.monotonic()) < start + seconds:
        for camera in cameras:
            probe.image_pubs[camera].publish(messages[i % len(messages)])
        i += 1
        time.sleep(max(0.0, start + i / rate - now))
    counts = [sum(start <= t <= start + seconds for t, _ in probe.received[f'{c}/depth/image'])
              for c in cameras]
    return statistics.mean(counts) / seconds


def run(args: argparse.Namespace, work: Path) -> dict[str, float]:
    """Measure everything; return the JSON keys and values."""
    import rclpy
    from rclpy.signals import SignalHandlerOptions

    from .params import parse_input_size
    from .frame_client import image_message, ProbeNode, spinning
    from ..inference import Predictor

    height, width = args.height, args.width
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
              for _ in range(args.frames)]
    checkpoint = args.checkpoint or random_checkpoint(work)
    input_size = parse_input_size(args.input_size)
    # What the node runs by default (engine and precision 'auto'), and bare PyTorch
    # channels-last fp32 for the speed-up.
    predictor = Predictor(checkpoint, input_size=input_size, precision='auto')
    default_path = f'{predictor.engine}_{predictor.precision}'
    torch_fp32 = Predictor(checkpoint, input_size=input_size, engine='torch').backend
    cameras = ['cam0', 'cam1']
    # Not rclpy's signal handlers: they would end the context under the measurement and
    # leave the node running; the command's own stop the benchmark cleanly (stopping.py).
    rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
    try:
        with node_process(checkpoint, cameras, args.input_size, work / 'node.log'):
            probe = ProbeNode(cameras, outputs=('depth/image',), headers_only=True)
            with spinning(probe):
                if not probe.wait_matched(timeout=60):
                    raise RuntimeError(f'node did not come up; see {work / "node.log"}')
                probe.send_until_answered(probe.image_pubs['cam0'], image_message(
                    frames[0], probe.get_clock().now().to_msg(), 'warm-up'),
                    'cam0/depth/image', timeout=60)
                for image in frames[:WARM_UP]:
                    predictor.predict([image])
                    torch_fp32(network_input(predictor, image))
                    node_latency(probe, image)
                # Alternating keeps both measurements under the same machine load. The
                # pauses let the other process's OpenMP threads stop spin-waiting, which
                # otherwise steals the cores from the one being timed.
                diagnostics = []
                probe.create_subscription(DiagnosticArray, '/diagnostics',
                                          lambda m: diagnostics.append(m), 50)
                core, node, bare = [], [], []
                for image in frames:
                    time.sleep(PAUSE)
                    core.append(timed(predictor.predict, [image]))
                    time.sleep(PAUSE)
                    node.append(node_latency(probe, image))
                    time.sleep(PAUSE)
                    bare.append(timed(torch_fp32, network_input(predictor, image)))
                core, latency = statistics.median(core), statistics.median(node)
                bare = statistics.median(bare)
                time.sleep(1.5)  # the last frame's diagnostics window
                stages, receive = node_timings(diagnostics)
                print(f'inference core {core * 1e3:.1f} ms, node receive to publish '
                      f'{receive * 1e3:.1f} ms, round trip {latency * 1e3:.1f} ms per frame; '
                      f'stages {stages}', flush=True)
                del predictor
                # Feeding at twice what the node can do keeps it busy without flooding DDS.
                rate = 2.0 / latency
                fps = node_fps(probe, frames, cameras[:1], rate, args.seconds)
                # Untimed first: the node compiles its graph for batches of two.
                node_fps(probe, frames, cameras, rate, 1.0)
                fps2 = node_fps(probe, frames, cameras, rate, args.seconds)
            probe.destroy_node()
    finally:
        rclpy.shutdown()
    size = f'{width}x{height}'
    prefix = args.key_prefix
    return {
        f'{prefix}node_default_path': default_path,
        f'{prefix}node_overhead_ratio': round(receive / core, 3),
        f'{prefix}node_round_trip_ratio': round(latency / core, 3),
        f'{prefix}node_receive_to_publish_ms_{size}': round(receive * 1e3, 2),
        f'{prefix}node_stages_ms_{size}': stages,
        f'{prefix}node_fps_{size}': round(fps, 2),
        f'{prefix}node_fps_2cams_{size}': round(fps2, 2),
        f'{prefix}node_round_trip_ms_{size}': round(latency * 1e3, 2),
        f'{prefix}node_core_latency_ms_{size}': round(core * 1e3, 2),
        f'{prefix}torch_fp32_network_ms_{size}': round(bare * 1e3, 2),
        f'{prefix}node_speedup_vs_torch_fp32': round(fps * bare, 2),
    }


def node_timings(reports: list[Any]) -> tuple[dict[str, float], float]:
    """
    Return the node's median ms per stage and median receive-to-publish seconds.

    ``reports``: the DiagnosticArray messages of the timed frames. Each report holds the
    medians of one period; the medians of those are taken (about one frame a period here).
    """
    stages, receive = {}, []
    for report in reports:
        for status in report.status:
            values = {v.key: v.value for v in status.values}
            for key, value in values.items():
                if key.endswith(' ms median') and value != '-':
                    name = key[:-len(' ms median')]
                    if name == 'receive_to_publish':
                        receive.append(float(value) / 1e3)
                    elif name in STAGES:
                        stages.setdefault(name, []).append(float(value))
    if not receive:
        raise RuntimeError('the node reported no receive_to_publish latency in /diagnostics')
    return ({name: round(statistics.median(ms), 2) for name, ms in stages.items()},
            statistics.median(receive))


def network_input(predictor: Any, image: np.ndarray) -> Any:
    """Return ``image`` as the network's normalised input batch, as the Predictor makes it."""
    from ..inference.preprocess import to_network_input

    return to_network_input([image], predictor.network_size, predictor._mean, predictor._std)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--checkpoint', type=Path, help='model file (default: random model)')
    parser.add_argument('--out', type=Path, default=Path('build/bench.json'),
                        help='JSON file to merge the results into')
    parser.add_argument('--height', type=int, default=480)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--input-size', default='native',
                        help="node parameter input_size: 'native', 'checkpoint' or 'HxW'")
    parser.add_argument('--frames', type=int, default=20, help='frames timed one by one')
    parser.add_argument('--seconds', type=float, default=5.0, help='length of each fps run')
    parser.add_argument('--key-prefix', default='',
                        help="prefix of every key written, e.g. 'bundled_'")
    return parser.parse_args(argv)


def run_and_merge(measure: Any, args: argparse.Namespace, prefix: str) -> dict[str, Any]:
    """Run ``measure(args, work folder)`` on local DDS; merge its keys into ``args.out``."""
    with local_dds(), tempfile.TemporaryDirectory(prefix=prefix) as work:
        results = measure(args, Path(work))
    merge_json(args.out, results)
    print(json.dumps(results, indent=2))
    return results


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark and merge its results into ``--out``."""
    return run_and_merge(run, parse_args(argv), 'bench_node.')


if __name__ == '__main__':
    exit_with_status('python -m multitask_seg.ros.bench_node', main)
