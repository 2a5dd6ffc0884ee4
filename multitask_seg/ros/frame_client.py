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
A node that feeds camera frames to multitask_seg and records what comes back.

The node benchmark and the ROS tests drive the node through it, over real DDS.
"""

import contextlib
import threading
import time
from typing import Any, Iterator

import numpy as np
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
from std_msgs.msg import String

OUTPUTS = {
    'segmentation/labels': Image,
    'segmentation/color': Image,
    'segmentation/confidence': Image,
    'depth/image': Image,
    'depth/camera_info': CameraInfo,
    'normals/image': Image,
    'points': PointCloud2,
}


def image_message(rgb: np.ndarray, stamp: Any, frame_id: str,
                  encoding: str = 'rgb8') -> Image:
    """Wrap an (H, W, C) uint8 array as an Image; ``stamp`` is a builtin_interfaces Time."""
    msg = Image()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = rgb.shape[:2]
    msg.encoding = encoding
    msg.step = rgb[0].nbytes
    msg.data = np.ascontiguousarray(rgb).tobytes()
    return msg


@contextlib.contextmanager
def spinning(*nodes: Node, context: Context | None = None) -> Iterator[SingleThreadedExecutor]:
    """Spin ``nodes`` on a background thread; stop and join it on exit."""
    executor = SingleThreadedExecutor(context=context)
    for node in nodes:
        executor.add_node(node)
    thread = threading.Thread(target=executor.spin, name='executor', daemon=True)
    thread.start()
    try:
        yield executor
    finally:
        executor.shutdown()
        thread.join(10.0)


class ProbeNode(Node):
    """
    Publish frames to cameras and record every output message with its arrival time.

    :param cameras: camera names, as given to the multitask_seg node.
    :param outputs: which of OUTPUTS to subscribe to (subscribing to colour and points makes
        the node compute them).
    :param target: the multitask_seg node's name, for ``~/class_info``.
    :param headers_only: record each output's header instead of the whole message, so long
        runs keep no image data alive.
    :param **kwargs: passed to rclpy's Node (context, namespace...).
    """

    def __init__(self, cameras: list[str],
                 outputs: tuple[str, ...] = ('segmentation/labels', 'depth/image'),
                 target: str = 'multitask_seg', name: str = 'multitask_seg_probe',
                 headers_only: bool = False, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._headers_only = headers_only
        self._cond = threading.Condition()
        self.received: dict[str, list[tuple[float, Any]]] = {}
        self.image_pubs = {c: self.create_publisher(Image, f'{c}/image_raw', 10)
                           for c in cameras}
        self.compressed_pubs = {
            c: self.create_publisher(CompressedImage, f'{c}/image_raw/compressed', 10)
            for c in cameras}
        self.info_pubs = {c: self.create_publisher(CameraInfo, f'{c}/camera_info', 10)
                          for c in cameras}
        self.subscriptions_ = []
        for camera in cameras:
            for output in outputs:
                topic = f'{camera}/{output}'
                self.received[topic] = []
                self.subscriptions_.append(self.create_subscription(
                    OUTPUTS[output], topic, lambda m, t=topic: self._record(t, m), 10))
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.received['class_info'] = []
        self.subscriptions_.append(self.create_subscription(
            String, f'/{target}/class_info', lambda m: self._record('class_info', m), latched))

    def _record(self, topic: str, msg: Any) -> None:
        if self._headers_only and hasattr(msg, 'header'):
            msg = msg.header
        with self._cond:
            self.received[topic].append((time.monotonic(), msg))
            self._cond.notify_all()

    def wait_for(self, topic: str, count: int, timeout: float) -> list[tuple[float, Any]]:
        """Wait until ``topic`` has ``count`` messages; return them (fewer on timeout)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.received[topic]) >= count, timeout)
            return list(self.received[topic])

    def wait_matched(self, timeout: float = 10.0, transport: str = 'raw') -> bool:
        """Wait until every output subscription and image publisher has found the node."""
        publishers = self.image_pubs if transport == 'raw' else self.compressed_pubs
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            subs = all(s.get_publisher_count() for s in self.subscriptions_)
            pubs = all(p.get_subscription_count() for p in publishers.values())
            if subs and pubs:
                return True
            time.sleep(0.02)
        return False

    def send_until_answered(self, publisher: Any, msg: Any, topic: str,
                            timeout: float = 20.0, period: float = 0.25) -> Any:
        """
        Publish ``msg`` every ``period`` s until ``topic`` receives a message; return it.

        Discovery matches the two sides of a topic at different moments, so a first
        best-effort message can be lost even after this side has seen the other.

        :raises: TimeoutError: nothing arrived within ``timeout`` seconds.
        """
        count = len(self.received[topic])
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            publisher.publish(msg)
            answers = self.wait_for(topic, count + 1, period)
            if len(answers) > count:
                return answers[count][1]
        raise TimeoutError(f'no message on {topic} within {timeout} s')

    def clear(self) -> None:
        """Forget every recorded message."""
        with self._cond:
            for messages in self.received.values():
                messages.clear()
