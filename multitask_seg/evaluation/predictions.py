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
Read the node's outputs back from a bag, by header stamp.

Labels are sensor_msgs/Image mono8 or mono16 class ids; depth is 32FC1 metres (NaN
invalid) or 16UC1 millimetres (0 invalid), as the node publishes them (REP 118).
rosbag2 (mcap, sqlite3) and ROS 1 bags are read alike.
"""

from pathlib import Path
import struct

import numpy as np
from rosbags.highlevel import AnyReader
from rosbags.typesys import get_typestore

from ..data.bag_reader import raw_stamp, reading
from ..data.bag_writer import ROS2_STORE
from ..data.folder_format import DatasetFormatError
from ..image_codecs import depth_from_image, labels_from_image

IMAGE = 'sensor_msgs/msg/Image'


def restamp(cdr: bytes, stamp_ns: int) -> bytes:
    """Return a copy of a CDR-serialized message with a Header, with another header stamp."""
    out = bytearray(cdr)
    struct.pack_into('<iI' if cdr[1] else '>iI', out, 4, *divmod(stamp_ns, 10**9))
    return bytes(out)


def bag_topics(path: str | Path) -> set[str]:
    """Return the topic names of a bag (DatasetFormatError if it cannot be read)."""
    reader = AnyReader([Path(path)], default_typestore=get_typestore(ROS2_STORE))
    with reading(str(path), 'bag'):
        reader.open()
    try:
        return set(reader.topics)
    finally:
        reader.close()


def decode(role: str, msg: object) -> np.ndarray:
    """
    Decode one output Image.

    :param role: 'segmentation', 'depth' or 'segmentation_confidence' (32FC1).
    :return: (H, W) class ids (uint8 or uint16), or (H, W) float32 metres, 0 where
        the node gives no depth, or (H, W) float32 probabilities.
    """
    if role == 'segmentation':
        return labels_from_image(msg)
    return depth_from_image(msg)


class PredictionBag:
    """
    A bag of node outputs, indexed once by header stamp; messages are read when asked for.

    :param path: rosbag2 folder, .mcap or .db3 file, or ROS 1 .bag file.
    :param topics: output topic per task, e.g. {'segmentation': '/camera/segmentation/labels',
        'depth': '/camera/depth/image'}.
    :param optional: roles of ``topics`` read when there, but not needed for ``stamps``.
    :ivar stamps: header stamps (ns) that have a message on every topic not optional.
    """

    def __init__(self, path: str | Path, topics: dict[str, str],
                 optional: tuple[str, ...] = ()) -> None:
        self.path, self.topics = str(path), dict(topics)
        self.optional = set(optional)
        self._reader = AnyReader([Path(path)], default_typestore=get_typestore(ROS2_STORE))
        with reading(self.path, 'bag'):
            self._reader.open()
            try:
                self._index()
            except BaseException:
                self._reader.close()
                raise

    def _index(self) -> None:
        found = self._reader.topics
        for role, topic in self.topics.items():
            if topic not in found:
                raise DatasetFormatError(f'{self.path}: no {role} topic {topic!r}; the bag has '
                                         f'{sorted(found)}')
            if found[topic].msgtype != IMAGE:
                raise DatasetFormatError(f'{self.path}: {role} topic {topic!r} is '
                                         f'{found[topic].msgtype}, expected {IMAGE}')
        self._roles = {topic: role for role, topic in self.topics.items()}
        self._log: dict[str, dict[int, int]] = {role: {} for role in self.topics}
        # Stamps come from the raw bytes: no message is deserialized to index the bag.
        for connection, log_time, raw in self._reader.messages(self._connections()):
            stamp = raw_stamp(raw, self._reader.is2)
            self._log[self._roles[connection.topic]].setdefault(stamp, log_time)
        stamps = [set(log) for role, log in self._log.items() if role not in self.optional]
        self.stamps = set.intersection(*stamps) if stamps else set()

    def _connections(self, role: str | None = None) -> list:
        topics = set(self.topics.values()) if role is None else {self.topics[role]}
        return [c for c in self._reader.connections if c.topic in topics]

    def get(self, stamp: int) -> dict[str, np.ndarray]:
        """
        Return the outputs with header stamp ``stamp`` (ns), decoded (see ``decode``).

        :raises KeyError: some topic has no message with that stamp.
        :raises DatasetFormatError: a message cannot be read or decoded; names the topic.
        """
        out = {}
        for role, topic in self.topics.items():
            if role in self.optional and stamp not in self._log[role]:
                continue
            log_time = self._log[role][stamp]
            with reading(self.path, f'{topic!r} at stamp {stamp}'):
                for connection, _, raw in self._reader.messages(
                        self._connections(role), log_time, log_time + 1):
                    if raw_stamp(raw, self._reader.is2) == stamp:
                        out[role] = decode(role, self._reader.deserialize(raw,
                                                                          connection.msgtype))
                        break
        return out

    def close(self) -> None:
        """Close the bag file."""
        self._reader.close()
