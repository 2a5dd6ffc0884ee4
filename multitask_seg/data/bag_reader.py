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
Read camera frames and ground truth from ROS bags (rosbag2 mcap/sqlite3, ROS 1 .bag).

An image topic (sensor_msgs/Image rgb8, bgr8, rgba8, bgra8 or mono8, or CompressedImage
JPEG/PNG) gives the samples; optional ground-truth Image topics (labels mono8/mono16,
depth 32FC1 metres / 16UC1 millimetres, per REP 118) join them by identical header stamp.
The bag is indexed once at open (stamps and receive times only); messages are read back
when a sample is asked for.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
import os
from pathlib import Path
import struct
from typing import Iterator, Optional, Sequence

import numpy as np
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.rosbag1 import ReaderError as Reader1Error
from rosbags.rosbag2 import ReaderError as Reader2Error
from rosbags.serde import SerdeError
from rosbags.typesys import get_typestore

from .bag_writer import ROS2_STORE
from .class_map import ClassMap, ClassMapSpec
from .folder_dataset import Sample
from .folder_format import DatasetFormatError, IGNORE_LABEL
from ..image_codecs import (depth_from_image, FrameError, labels_from_image, rgb_from_compressed,
                            rgb_from_image, TRUTH_DEPTH_ENCODINGS)

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
CAMERA_INFO = 'sensor_msgs/msg/CameraInfo'
MAX_PIXELS = 50_000_000
# What rosbags and the decoders raise on missing, truncated or corrupt bags.
BAG_ERRORS = (AnyReaderError, Reader1Error, Reader2Error, SerdeError, struct.error,
              EOFError, OSError, ValueError, KeyError, IndexError, AssertionError)


@dataclass
class BagFrame:
    """
    One image message of a bag with its ground truth, for replay and evaluation.

    The messages are decoded only when ``image``, ``targets`` or ``sample`` is first asked
    for (each once), so a replay that only forwards ``cdr`` decodes nothing. Decoding
    errors raise DatasetFormatError naming the bag, topic and stamp.

    :ivar index: sample index in the BagDataset.
    :ivar stamp_ns: header stamp in nanoseconds.
    :ivar log_time_ns: time the recorder received the image, in nanoseconds.
    :ivar topic: image topic.
    :ivar msgtype: e.g. 'sensor_msgs/msg/Image'.
    :ivar cdr: the image message serialized as ROS 2 CDR, ready to publish.
    """

    index: int
    stamp_ns: int
    log_time_ns: int
    topic: str
    msgtype: str
    cdr: bytes
    # role -> (msgtype, CDR) of the image and ground-truth messages, and their decoder.
    _parts: dict = field(repr=False)
    _dataset: 'BagDataset' = field(repr=False)

    @cached_property
    def image(self) -> np.ndarray:
        """Return the (H, W, 3) uint8 RGB image."""
        return self._dataset._decoded(self.index, 'image', self._parts['image'])

    @cached_property
    def targets(self) -> dict:
        """Return the ground truth (see ``Sample``), without decoding the image."""
        return self._dataset._targets(self.index, self._parts)

    @cached_property
    def sample(self) -> Sample:
        """Return image and ground truth, checked to be the same size."""
        return self._dataset._sample(self.index, self.image, self.targets)


@contextmanager
def reading(path: str | Path, what: str) -> Iterator[None]:
    """Turn errors of rosbags into DatasetFormatError naming the bag and `what` was read."""
    try:
        yield
    except DatasetFormatError:
        raise
    except BAG_ERRORS as err:
        raise DatasetFormatError(f'{path}: cannot read {what} ({err!r})') from err


def cdr_stamp(cdr: bytes) -> int:
    """Return the header stamp (ns) of a CDR-serialized message that starts with a Header."""
    # 4-byte encapsulation (byte 1: 1 = little endian), then int32 sec and uint32 nanosec.
    sec, nanosec = struct.unpack_from('<iI' if cdr[1] else '>iI', cdr, 4)
    return sec * 10**9 + nanosec


def raw_stamp(raw: bytes, is2: bool) -> int:
    """Return the header stamp (ns) of a serialized message whose first field is a Header."""
    if is2:
        return cdr_stamp(raw)
    # ROS 1: uint32 seq, then uint32 secs, uint32 nsecs, little endian.
    sec, nsec = struct.unpack_from('<II', raw, 4)
    return sec * 10**9 + nsec


class BagDataset:
    """
    Samples from one image topic of a bag, with optional ground truth matched by stamp.

    :param path: rosbag2 folder, .mcap or .db3 file, or ROS 1 .bag file.
    :param image_topic: Image or CompressedImage topic giving the samples.
    :param label_topic: Image topic of class ids (mono8, or mono16 with a class_map).
    :param depth_topic: Image topic of depth (32FC1 or 16UC1).
    :param depth_scale: metres per depth unit; default REP 118 (1 for 32FC1, 0.001 for 16UC1).
    :param class_map: source id -> class name, dict or YAML path (see class_map).
    :param classes: class names in label id order (default: from class_map, else none).
    :param colors: one [r, g, b] per class (default: from class_map).
    :param camera_info_topic: CameraInfo topic whose first message gives K and size.
    :ivar names: header stamps in nanoseconds, as strings, in bag order.
    :ivar stamps: header stamps in nanoseconds, one per sample.
    :ivar K: (3, 3) intrinsics in pixels from camera_info_topic, else None.
    :ivar size: (height, width) from camera_info_topic, else None.
    """

    def __init__(self, path: str, image_topic: str, label_topic: Optional[str] = None,
                 depth_topic: Optional[str] = None, *, depth_scale: Optional[float] = None,
                 class_map: Optional[ClassMapSpec] = None,
                 classes: Optional[Sequence[str]] = None, colors: Optional[Sequence] = None,
                 camera_info_topic: Optional[str] = None):
        self.path, self.depth_scale = str(path), depth_scale
        self._store = get_typestore(ROS2_STORE)
        self._map = ClassMap(class_map, classes) if class_map is not None else None
        self.classes = self._map.classes if self._map else tuple(classes or ())
        self.colors = self._map.colors if self._map else tuple(colors or ())
        self._topics = {'image': image_topic, 'segmentation': label_topic,
                        'depth': depth_topic, 'camera_info': camera_info_topic}
        self._topics = {k: v for k, v in self._topics.items() if v}
        self._reader_handle, self._pid = None, None
        self.K, self.size = None, None
        with reading(self.path, 'bag'):
            self._index()

    def _index(self) -> None:
        reader = self._reader()
        expected = {'image': (IMAGE, COMPRESSED), 'segmentation': (IMAGE,),
                    'depth': (IMAGE,), 'camera_info': (CAMERA_INFO,)}
        topics = reader.topics
        for role, topic in self._topics.items():
            if topic not in topics:
                raise DatasetFormatError(f'{self.path}: no topic {topic!r}; the bag has '
                                         f'{sorted(topics)}')
            if topics[topic].msgtype not in expected[role]:
                raise DatasetFormatError(
                    f'{self.path}: {role} topic {topic!r} is {topics[topic].msgtype}, '
                    f'expected {" or ".join(expected[role])}')
        self._roles = {topic: role for role, topic in self._topics.items()}
        self._log = {role: {} for role in self._topics}
        self.stamps = []
        for connection, log_time, raw in reader.messages(self._connections(reader)):
            role, stamp = self._roles[connection.topic], raw_stamp(raw, reader.is2)
            if role == 'camera_info' and self.K is None:
                info = self._store.deserialize_cdr(self._cdr(raw, CAMERA_INFO), CAMERA_INFO)
                self.K, self.size = np.array(info.k, np.float64).reshape(3, 3), (
                    info.height, info.width)
            if role == 'image':
                if stamp in self._log['image']:
                    raise DatasetFormatError(f'{self.path}: two messages on {self._topics[role]!r}'
                                             f' have header stamp {stamp} ns')
                self.stamps.append(stamp)
            self._log[role].setdefault(stamp, log_time)
        if not self.stamps:
            raise DatasetFormatError(f'{self.path}: topic {self._topics["image"]!r} has no '
                                     f'messages')
        for task in ('segmentation', 'depth'):
            if task in self._topics and not set(self.stamps) & set(self._log[task]):
                raise DatasetFormatError(
                    f'{self.path}: no message on {self._topics[task]!r} has the header stamp '
                    f'of a message on {self._topics["image"]!r}')
        self.names = [str(s) for s in self.stamps]

    def _reader(self) -> AnyReader:
        # One open reader per process: file handles must not cross a DataLoader fork.
        if self._pid != os.getpid():
            reader = AnyReader([Path(self.path)], default_typestore=self._store)
            reader.open()
            self._reader_handle, self._pid = reader, os.getpid()
        return self._reader_handle

    def _connections(self, reader: AnyReader, roles: Sequence[str] = ()) -> list:
        topics = {t for r, t in self._topics.items() if not roles or r in roles}
        return [c for c in reader.connections if c.topic in topics]

    def _cdr(self, raw: bytes, msgtype: str) -> bytes:
        return bytes(raw) if self._reader().is2 else bytes(
            self._store.ros1_to_cdr(raw, msgtype))

    def __getstate__(self) -> dict:
        # DataLoader workers started by spawn get a copy that reopens the bag itself.
        return {**self.__dict__, '_reader_handle': None, '_pid': None, '_store': None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _store=get_typestore(ROS2_STORE))

    def close(self) -> None:
        """Close the bag file (it is reopened when needed)."""
        if self._reader_handle is not None and self._pid == os.getpid():
            self._reader_handle.close()
        self._reader_handle, self._pid = None, None

    def __len__(self) -> int:
        return len(self.stamps)

    def has(self, index: int, task: str) -> bool:
        """Return whether sample `index` has a `task` message with its stamp."""
        return task in self._log and task != 'image' and self.stamps[index] in self._log[task]

    def _parts(self, index: int) -> list:
        """Return the (topic, stamp) keys of the messages of sample `index`."""
        stamp = self.stamps[index]
        return [(self._topics[r], stamp) for r in ('image', 'segmentation', 'depth')
                if r in self._topics and stamp in self._log[r]]

    def __getitem__(self, index: int) -> Sample:
        reader, stamp = self._reader(), self.stamps[index]
        parts = {}
        with reading(self.path, f'sample at stamp {stamp}'):
            for topic, _ in self._parts(index):
                role = self._roles[topic]
                log_time = self._log[role][stamp]
                for connection, _, raw in reader.messages(
                        self._connections(reader, [role]), log_time, log_time + 1):
                    if raw_stamp(raw, reader.is2) == stamp:
                        parts[role] = (connection.msgtype, self._cdr(raw, connection.msgtype))
                        break
            image = self._decoded(index, 'image', parts['image'])
            return self._sample(index, image, self._targets(index, parts))

    def label_ids(self) -> set[int]:
        """
        Return every class id the label topic holds (before any class map), 255 included.

        Only messages with the stamp of an image count: those are the ones scored.
        """
        if 'segmentation' not in self._topics:
            return set()
        ids: set[int] = set()
        images = set(self.stamps)
        with reading(self.path, 'bag'):
            reader = self._reader()
            for connection, _, raw in reader.messages(
                    self._connections(reader, ['segmentation'])):
                stamp = raw_stamp(raw, reader.is2)
                if stamp not in images:
                    continue
                msg = self._store.deserialize_cdr(self._cdr(raw, connection.msgtype),
                                                  connection.msgtype)
                try:
                    ids.update(np.unique(labels_from_image(msg)).tolist())
                except FrameError as err:
                    raise DatasetFormatError(f'{self.path}: {self._topics["segmentation"]!r}'
                                             f' at stamp {stamp}: {err}') from err
        return ids

    def frames(self) -> Iterator[BagFrame]:
        """Yield every sample in bag order with its image message, reading the bag once."""
        with reading(self.path, 'bag'):
            reader = self._reader()
            wanted = {key for i in range(len(self)) for key in self._parts(i)}
            got, index = {}, 0
            roles = ['image', 'segmentation', 'depth']
            for connection, _, raw in reader.messages(self._connections(reader, roles)):
                key = (connection.topic, raw_stamp(raw, reader.is2))
                if key in wanted:
                    got[key] = (connection.msgtype, self._cdr(raw, connection.msgtype))
                # Ground truth may be recorded before or after its image: wait for all parts.
                while index < len(self) and all(k in got for k in self._parts(index)):
                    parts = {self._roles[k[0]]: got.pop(k) for k in self._parts(index)}
                    msgtype, cdr = parts['image']
                    stamp = self.stamps[index]
                    yield BagFrame(index=index, stamp_ns=stamp,
                                   log_time_ns=self._log['image'][stamp],
                                   topic=self._topics['image'], msgtype=msgtype, cdr=cdr,
                                   _parts=parts, _dataset=self)
                    index += 1

    def _decode(self, role: str, part: tuple) -> np.ndarray:
        msgtype, cdr = part
        msg = self._store.deserialize_cdr(cdr, msgtype)
        if role == 'image':
            convert = rgb_from_compressed if msgtype == COMPRESSED else rgb_from_image
            return convert(msg, MAX_PIXELS)
        if role == 'depth':
            return depth_from_image(msg, self.depth_scale, TRUTH_DEPTH_ENCODINGS)
        ids = labels_from_image(msg)
        if self._map is not None:
            return self._map(ids)
        bad = (ids >= len(self.classes)) & (ids != IGNORE_LABEL) if self.classes else ids > 255
        if bad.any():
            raise FrameError(f'label {int(ids[bad][0])} is neither a class id nor '
                             f'{IGNORE_LABEL}')
        return ids.astype(np.uint8)

    def _decoded(self, index: int, role: str, part: tuple) -> np.ndarray:
        where = f'{self._topics[role]!r} at stamp {self.stamps[index]}'
        # A BagFrame decodes after frames() has moved on, outside its reading() block.
        with reading(self.path, where):
            try:
                return self._decode(role, part)
            except FrameError as err:
                raise DatasetFormatError(f'{self.path}: {where}: {err}') from err

    def _targets(self, index: int, parts: dict) -> dict:
        return {role: self._decoded(index, role, part) for role, part in parts.items()
                if role != 'image'}

    def _sample(self, index: int, image: np.ndarray, targets: dict) -> Sample:
        for role, target in targets.items():
            if target.shape != image.shape[:2]:
                raise DatasetFormatError(f'{self.path}: {self._topics[role]!r} at stamp '
                                         f'{self.stamps[index]} is {target.shape}, its image '
                                         f'{image.shape[:2]}')
        return Sample(name=self.names[index], image=image, targets=targets)


def iter_frames(path: str, image_topic: str, label_topic: Optional[str] = None,
                depth_topic: Optional[str] = None, **options) -> Iterator[BagFrame]:
    """Yield the BagFrames of a bag in order; `options` are those of BagDataset."""
    data = BagDataset(path, image_topic, label_topic, depth_topic, **options)
    try:
        yield from data.frames()
    finally:
        data.close()
