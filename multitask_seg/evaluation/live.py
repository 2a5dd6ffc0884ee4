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
Live mode: replay a bag to the node over DDS and record what it publishes.

The node runs as its own process with the launch file's parameters (the package's
config/params.yaml, then the checkpoint and camera overrides), or ``attach`` uses one
already running. Image messages go out as stored (serialized bytes, no decoding) at the
bag's recorded rate times ``rate``; every output whose header stamp is that of a sent
frame is written, as received, into a bag (``predictions/`` in the output folder) that
recorded mode then scores. A frame is answered once every output of the node's tasks has
arrived; its latency runs from publishing the frame to receiving the last of them.
"""

import contextlib
from dataclasses import dataclass, field
import itertools
import json
import os
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import Callable, Iterable, Iterator

import rclpy
from rclpy.context import Context
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_typestore
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

from .predictions import restamp
from .recorded import output_topics
from ..checkpoint import ModelInfo
from ..data.bag_reader import BagDataset, BagFrame, cdr_stamp, COMPRESSED
from ..data.bag_writer import ROS2_STORE
from ..data.folder_format import DatasetFormatError
from ..ros.frame_client import spinning

NODE_NAME = 'multitask_seg'
# Seconds between warm-up frames: discovery matches the two ends of a topic at different
# moments, so the first best-effort frames may be lost.
WARM_UP_PERIOD = 0.5


class NodeError(RuntimeError):
    """The node did not start, stopped answering or exited."""


@dataclass
class LiveOptions:
    """
    How to run the node and replay the bag.

    :ivar camera: camera name: frames go to <camera>/image_raw[/compressed].
    :ivar rate: replay speed relative to the recorded rate.
    :ivar attach: use a node already running instead of starting one.
    :ivar node_name: the node's name, for its ~/class_info topic.
    :ivar settle: seconds without any output, after the last frame, before the frames
        not answered count as dropped.
    :ivar startup_timeout: seconds for the node to load its model and answer a frame.
    :ivar params_file: the node's parameter file (default: the package's params.yaml).
    :ivar confidence: also record <camera>/segmentation/confidence (the node then computes
        the softmax of every frame, which its latency includes).
    """

    camera: str
    rate: float = 1.0
    attach: bool = False
    node_name: str = NODE_NAME
    settle: float = 5.0
    startup_timeout: float = 120.0
    params_file: Path | None = None
    confidence: bool = False


@dataclass
class Replay:
    """
    What happened during a replay.

    :ivar info: the node's model description, from its ~/class_info topic.
    :ivar tasks: output tasks the node publishes.
    :ivar sent: header stamps (ns) of the frames sent, with the time each was published
        (time.monotonic seconds).
    :ivar answered: stamps of the frames answered, with their latency in seconds.
    :ivar seconds: from the first frame sent to the last answer.
    :ivar interrupted: stopped by Ctrl-C.
    :ivar error: why the replay stopped early, if it did.
    """

    info: ModelInfo | None = None
    tasks: list[str] = field(default_factory=list)
    sent: dict[int, float] = field(default_factory=dict)
    answered: dict[int, float] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False
    error: str | None = None


def params_file() -> Path:
    """Return the package's params.yaml, installed or in the source tree."""
    try:
        from ament_index_python.packages import get_package_share_directory

        installed = Path(get_package_share_directory('multitask_seg')) / 'config' / 'params.yaml'
        if installed.is_file():
            return installed
    except (ImportError, LookupError, OSError, ValueError):
        pass
    return Path(__file__).resolve().parents[2] / 'config' / 'params.yaml'


@contextlib.contextmanager
def node_process(checkpoint: Path, camera: str, transport: str, params: Path,
                 log: Path) -> Iterator[subprocess.Popen]:
    """
    Run multitask_seg_node as launch would, in a process group of its own.

    The whole group is stopped on exit (SIGINT, then SIGKILL after 20 s), so nothing it
    started outlives the evaluation.
    """
    with open(log, 'w') as out:
        process = subprocess.Popen(
            [sys.executable, '-m', 'multitask_seg.ros.node_main', '--ros-args',
             '--params-file', str(params), '-p', f'checkpoint:={checkpoint}',
             '-p', f'cameras:=[{camera}]', '-p', f'transport:={transport}'],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, 'PYTHONUNBUFFERED': '1'})
        try:
            yield process
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen) -> None:
    """Stop the process group led by ``process``: SIGINT, then SIGKILL after 20 s."""
    for sig, wait in ((signal.SIGINT, 20.0), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Recorder(Node):
    """
    Publish serialized frames to the node and write its outputs into a bag.

    :param camera: the node's camera name.
    :param compressed: publish CompressedImage instead of Image.
    :param writer: open rosbag2 writer for the outputs.
    :param node_name: the node's name, for ~/class_info.
    :param context: rclpy context.
    """

    def __init__(self, camera: str, compressed: bool, writer: Writer, node_name: str,
                 context: Context) -> None:
        super().__init__('multitask_seg_eval', context=context)
        self._cond = threading.Condition()
        self._writer = writer
        self._store = get_typestore(ROS2_STORE)
        self._connections: dict[str, object] = {}
        self.camera = camera
        self.class_info: dict | None = None
        self.sent: dict[int, float] = {}
        self.arrivals: dict[int, dict[str, float]] = {}
        self.answered: dict[int, float] = {}
        self._tasks: list[str] = []
        self.warm_up_stamp = -1
        self.warm_answers: set[str] = set()
        self.last_arrival = 0.0
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        msg_type, suffix = (CompressedImage, 'image_raw/compressed') if compressed else (
            Image, 'image_raw')
        self.images = self.create_publisher(msg_type, f'/{camera}/{suffix}', reliable)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(String, f'/{node_name}/class_info', self._on_class_info,
                                 latched)
        self.outputs = []

    def _on_class_info(self, msg: String) -> None:
        with self._cond:
            self.class_info = json.loads(msg.data)
            self._cond.notify_all()

    def record(self, tasks: list[str], confidence: bool = False) -> None:
        """
        Subscribe to the outputs of ``tasks`` and add their topics to the bag.

        With ``confidence`` the segmentation confidence is recorded too, but a frame is
        answered without it.
        """
        depth = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        self._tasks = list(tasks)
        for task, topic in output_topics(self.camera, tasks).items():
            self._connections[task] = self._writer.add_connection(
                topic, 'sensor_msgs/msg/Image', typestore=self._store)
            self.outputs.append(self.create_subscription(
                Image, topic, lambda raw, t=task: self._on_output(t, raw), depth, raw=True))
        if confidence and 'segmentation' in tasks:
            topic = f'/{self.camera.strip("/")}/segmentation/confidence'
            connection = self._writer.add_connection(topic, 'sensor_msgs/msg/Image',
                                                     typestore=self._store)
            self.create_subscription(Image, topic,
                                     lambda raw: self._on_confidence(connection, raw), depth,
                                     raw=True)

    def _on_confidence(self, connection: object, raw: bytes) -> None:
        with self._cond:
            if cdr_stamp(raw) in self.sent:
                self._writer.write(connection, time.time_ns(), raw)

    def _on_output(self, task: str, raw: bytes) -> None:
        now = time.monotonic()
        stamp = cdr_stamp(raw)
        with self._cond:
            if stamp == self.warm_up_stamp:
                self.warm_answers.add(task)
            elif stamp in self.sent:
                self._writer.write(self._connections[task], time.time_ns(), raw)
                arrived = self.arrivals.setdefault(stamp, {})
                arrived[task] = now
                self.last_arrival = now
                if len(arrived) == len(self._tasks):
                    self.answered[stamp] = now - self.sent[stamp]
            self._cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds (checked under the lock) or ``timeout`` s pass."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def send(self, frame: BagFrame) -> None:
        """Publish a frame's stored message and note when."""
        with self._cond:
            self.sent[frame.stamp_ns] = time.monotonic()
        self.images.publish(frame.cdr)


def check_alive(process: subprocess.Popen | None, log: Path | None) -> None:
    """Raise NodeError with the end of the node's log if its process has exited."""
    if process is not None and process.poll() is not None:
        tail = log.read_text(errors='replace').strip().splitlines()[-5:] if log else []
        raise NodeError(f'the node exited with status {process.returncode}; last lines of '
                        f'{log}:\n' + '\n'.join(tail))


def start(recorder: Recorder, first: BagFrame, warm_up_stamp: int, options: LiveOptions,
          process: subprocess.Popen | None, log: Path | None) -> tuple[ModelInfo, list[str]]:
    """Wait for the node's class info, then send a warm-up frame until it is answered."""
    end = time.monotonic() + options.startup_timeout
    while not recorder.wait(lambda: recorder.class_info is not None, 0.5):
        check_alive(process, log)
        if time.monotonic() > end:
            raise NodeError(f'no class info on /{options.node_name}/class_info within '
                            f'{options.startup_timeout:.0f} s: is the node running?')
    data = recorder.class_info
    tasks = [t for t in ('segmentation', 'depth') if t in data.get('tasks', {})]
    info = ModelInfo(classes=list(data.get('classes', [])), colors=list(data.get('colors', [])),
                     depth_range=list(data.get('depth_range', [0.0, 80.0])))
    recorder.record(tasks, options.confidence)
    # The warm-up frame, stamped unlike any frame of the bag, also pays for the node's
    # first (slow) forward pass.
    recorder.warm_up_stamp = warm_up_stamp
    warm = restamp(first.cdr, warm_up_stamp)
    while not recorder.wait(lambda: recorder.warm_answers >= set(tasks)
                            and all(s.get_publisher_count() for s in recorder.outputs),
                            WARM_UP_PERIOD):
        check_alive(process, log)
        if time.monotonic() > end:
            raise NodeError(f'the node did not answer a frame on /{options.camera} within '
                            f'{options.startup_timeout:.0f} s')
        recorder.images.publish(warm)
    return info, tasks


def send_all(recorder: Recorder, frames: Iterable[BagFrame], rate: float,
             process: subprocess.Popen | None, log: Path | None) -> None:
    """Publish every frame at its recorded time, scaled by 1 / ``rate``."""
    start_time = first_log = None
    for frame in frames:
        if start_time is None:
            start_time, first_log = time.monotonic(), frame.log_time_ns
        delay = start_time + (frame.log_time_ns - first_log) * 1e-9 / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        check_alive(process, log)
        recorder.send(frame)


def wait_answers(recorder: Recorder, settle: float, process: subprocess.Popen | None,
                 log: Path | None) -> None:
    """Wait until every frame is answered or no output came for ``settle`` seconds."""
    last_sent = time.monotonic()
    while not recorder.wait(lambda: len(recorder.answered) == len(recorder.sent), 0.2):
        check_alive(process, log)
        if time.monotonic() - max(recorder.last_arrival, last_sent) > settle:
            return


def replay(images: BagDataset, options: LiveOptions, checkpoint: Path | None,
           out: Path) -> Replay:
    """
    Replay a bag's image topic to the node and record its outputs in ``out``/predictions.

    :param images: the bag, opened with its image topic only.
    :param checkpoint: the model the node loads (ignored with ``options.attach``).
    :param out: output folder; the node's log goes to node.log there.
    :return: what was sent and answered; ``info`` stays None if the node never came up.
    """
    result = Replay()
    frames = images.frames()
    first = next(frames)
    bag = out / 'predictions'
    if bag.exists():
        shutil.rmtree(bag)
    writer = Writer(bag, version=Writer.VERSION_LATEST, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    log = None if options.attach else out / 'node.log'
    compressed = first.msgtype == COMPRESSED
    context = Context()
    # The command's own signal handlers stop it (stopping.py); rclpy's would end the
    # context under the recorder instead.
    rclpy.init(args=[], context=context, signal_handler_options=SignalHandlerOptions.NO)
    recorder = Recorder(options.camera, compressed, writer, options.node_name, context)
    try:
        with contextlib.ExitStack() as stack:
            process = None if options.attach else stack.enter_context(node_process(
                checkpoint, options.camera, 'compressed' if compressed else 'raw',
                options.params_file or params_file(), log))
            with spinning(recorder, context=context):
                result.info, result.tasks = start(recorder, first, max(images.stamps) + 1,
                                                  options, process, log)
                send_all(recorder, itertools.chain([first], frames), options.rate, process,
                         log)
                wait_answers(recorder, options.settle, process, log)
    except KeyboardInterrupt:
        result.interrupted = True
    except (NodeError, DatasetFormatError) as exc:
        result.error = str(exc)
    finally:
        recorder.destroy_node()
        rclpy.try_shutdown(context=context)
        writer.close()
        frames.close()
    result.sent = dict(recorder.sent)
    result.answered = dict(recorder.answered)
    if result.answered:
        result.seconds = max(recorder.last_arrival - min(result.sent.values()), 1e-9)
    return result
