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
Write RGB frames, camera info and ground truth to a ROS bag as a camera driver would.

All messages of one frame share its header stamp (also used as the bag's receive time)
and frame_id. Ground truth follows REP 118: labels mono8 class ids (255 = ignore); depth
32FC1 metres (NaN = invalid) or 16UC1 millimetres (0 = invalid). Storage: rosbag2 mcap
(default) or sqlite3 (a bag folder), or a ROS 1 .bag file.
"""

from dataclasses import dataclass
import io
from typing import Optional

import numpy as np
from PIL import Image
from rosbags.rosbag1 import Writer as Writer1
from rosbags.rosbag2 import StoragePlugin, Writer as Writer2
from rosbags.typesys import get_typestore, Stores

from ..image_codecs import DEPTH_ENCODINGS, depth_plane

STORAGES = {'mcap': StoragePlugin.MCAP, 'sqlite3': StoragePlugin.SQLITE3, 'ros1': None}
COMPRESSIONS = (None, 'jpeg', 'png')
ROS2_STORE = Stores.ROS2_KILTED


@dataclass(frozen=True)
class BagTopics:
    """Topic names; the compressed topic is used instead of `image` when compressing."""

    image: str = '/camera/image_raw'
    compressed: str = '/camera/image_raw/compressed'
    camera_info: str = '/camera/camera_info'
    segmentation: str = '/camera/segmentation/ground_truth'
    depth: str = '/camera/depth/ground_truth'


class BagWriter:
    """
    A bag being written frame by frame; use as a context manager or call close().

    :param path: rosbag2 folder to create, or a new .bag file for storage 'ros1'.
    :param storage: 'mcap', 'sqlite3' or 'ros1'.
    :param compression: None (sensor_msgs/Image rgb8), 'jpeg' or 'png' (CompressedImage).
    :param depth_encoding: '32FC1' (metres, NaN invalid) or '16UC1' (millimetres, 0 invalid).
    :param frame_id: header frame_id of every message.
    :param topics: topic names.
    :param jpeg_quality: JPEG quality 1-95.
    """

    def __init__(self, path: str, *, storage: str = 'mcap', compression: Optional[str] = None,
                 depth_encoding: str = '32FC1', frame_id: str = 'camera_optical_frame',
                 topics: BagTopics = BagTopics(), jpeg_quality: int = 90):
        for value, allowed, what in ((storage, tuple(STORAGES), 'storage'),
                                     (compression, COMPRESSIONS, 'compression'),
                                     (depth_encoding, DEPTH_ENCODINGS, 'depth_encoding')):
            if value not in allowed:
                raise ValueError(f'{what} must be one of {allowed}, got {value!r}')
        self._ros1 = storage == 'ros1'
        if self._ros1 != str(path).endswith('.bag'):
            # Readers tell ROS 1 bags from rosbag2 ones by this suffix alone.
            raise ValueError(f'{path}: ROS 1 bags, and only they, must end in .bag')
        self._store = get_typestore(Stores.ROS1_NOETIC if self._ros1 else ROS2_STORE)
        self._writer = Writer1(path) if self._ros1 else Writer2(
            path, version=Writer2.VERSION_LATEST, storage_plugin=STORAGES[storage])
        self._writer.open()
        self.compression, self.depth_encoding = compression, depth_encoding
        self.frame_id, self.topics, self.jpeg_quality = frame_id, topics, jpeg_quality
        self._connections = {}
        self._seq = 0

    def __enter__(self) -> 'BagWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Finish the bag (writes its index and metadata)."""
        self._writer.close()

    def write(self, stamp_ns: int, rgb: np.ndarray, *, K: Optional[np.ndarray] = None,
              labels: Optional[np.ndarray] = None, depth: Optional[np.ndarray] = None) -> None:
        """
        Write one frame; optional parts left as None are not written.

        :param stamp_ns: capture time in nanoseconds (header stamp and receive time).
        :param rgb: (H, W, 3) uint8 RGB.
        :param K: (3, 3) pinhole intrinsics in pixels, for camera_info.
        :param labels: (H, W) uint8 class ids, 255 = ignore.
        :param depth: (H, W) float metres, 0 or non-finite = invalid.
        """
        height, width = rgb.shape[:2]
        types = self._store.types
        header = self._header(stamp_ns)
        if self.compression:
            buffer = io.BytesIO()
            Image.fromarray(rgb).save(buffer, format=self.compression.upper(),
                                      quality=self.jpeg_quality)
            image = types['sensor_msgs/msg/CompressedImage'](
                header=header, format=f'rgb8; {self.compression} compressed bgr8',
                data=np.frombuffer(buffer.getvalue(), np.uint8))
            self._put(self.topics.compressed, image, stamp_ns)
        else:
            self._put(self.topics.image, self._image(header, rgb, 'rgb8'), stamp_ns)
        if K is not None:
            self._put(self.topics.camera_info, self._camera_info(header, K, height, width),
                      stamp_ns)
        if labels is not None:
            self._put(self.topics.segmentation, self._image(header, labels, 'mono8'), stamp_ns)
        if depth is not None:
            plane = depth_plane(depth, self.depth_encoding)
            self._put(self.topics.depth, self._image(header, plane, self.depth_encoding),
                      stamp_ns)
        self._seq += 1

    def _header(self, stamp_ns: int) -> object:
        types = self._store.types
        sec, nanosec = divmod(int(stamp_ns), 10**9)
        stamp = types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec)
        extra = {'seq': self._seq} if self._ros1 else {}
        return types['std_msgs/msg/Header'](stamp=stamp, frame_id=self.frame_id, **extra)

    def _image(self, header: object, array: np.ndarray, encoding: str) -> object:
        array = np.ascontiguousarray(array)
        return self._store.types['sensor_msgs/msg/Image'](
            header=header, height=array.shape[0], width=array.shape[1], encoding=encoding,
            is_bigendian=0, step=array[0].nbytes, data=array.view(np.uint8).ravel())

    def _camera_info(self, header: object, K: np.ndarray, height: int, width: int) -> object:
        types = self._store.types
        K = np.asarray(K, np.float64).reshape(3, 3)
        matrices = {'d': np.zeros(5), 'k': K.ravel(), 'r': np.eye(3).ravel(),
                    'p': np.concatenate([K, np.zeros((3, 1))], axis=1).ravel()}
        # ROS 1 spells the matrices in capitals.
        matrices = {(k.upper() if self._ros1 else k): v for k, v in matrices.items()}
        roi = types['sensor_msgs/msg/RegionOfInterest'](
            x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
        return types['sensor_msgs/msg/CameraInfo'](
            header=header, height=height, width=width, distortion_model='plumb_bob',
            binning_x=0, binning_y=0, roi=roi, **matrices)

    def _put(self, topic: str, msg: object, stamp_ns: int) -> None:
        msgtype = msg.__msgtype__
        if topic not in self._connections:
            self._connections[topic] = self._writer.add_connection(
                topic, msgtype, typestore=self._store)
        serialize = self._store.serialize_ros1 if self._ros1 else self._store.serialize_cdr
        self._writer.write(self._connections[topic], stamp_ns, serialize(msg, msgtype))
