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

"""One depth validity rule: the node's messages and the bag writer's records agree."""

from pathlib import Path

from multitask_seg.data.bag_writer import BagWriter
from multitask_seg.image_codecs import valid_depth
from multitask_seg.ros.convert import depth_message
import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from rosbags.typesys import get_typestore, Stores
from std_msgs.msg import Header

# Metres; REP 118 16UC1 holds 1-65535 mm, so 65.5355 m and more, or under 0.5 mm, are
# invalid (0) and never clipped to 65535.
DEPTH = np.array([[70.0, 65.535, 65.536, 0.0004, 2.0, np.nan, -1.0, 0.0]], np.float32)
MILLIMETRES = [0, 65535, 0, 0, 2000, 0, 0, 0]


def bag_depth_plane(path: Path) -> tuple[str, np.ndarray]:
    """Read the first depth record's encoding and raw uint16 plane with rosbags."""
    with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_KILTED)) as reader:
        connection = next(c for c in reader.connections if 'depth' in c.topic)
        _, _, raw = next(reader.messages([connection]))
        msg = reader.deserialize(raw, connection.msgtype)
    plane = np.frombuffer(bytes(msg.data), '>u2' if msg.is_bigendian else '<u2')
    return msg.encoding, plane.reshape(msg.height, msg.width)


def test_unrepresentable_depth_is_0_in_16uc1_from_node_and_bag_writer(tmp_path):
    node = depth_message(DEPTH, Header(), '16UC1')
    assert np.frombuffer(node.data, np.uint16).tolist() == MILLIMETRES
    with BagWriter(str(tmp_path / 'bag'), depth_encoding='16UC1') as writer:
        writer.write(1, np.zeros((1, 8, 3), np.uint8), K=np.eye(3), depth=DEPTH)
    encoding, plane = bag_depth_plane(tmp_path / 'bag')
    assert encoding == '16UC1' and plane.ravel().tolist() == MILLIMETRES


def test_predictions_at_the_clamp_limits_are_invalid_in_both_encodings():
    # The inference core clamps to the model's range: its ends mean 'outside it'.
    clamped = np.array([[0.1, 0.1001, 40.0, 79.99, 80.0]], np.float32)
    depth = valid_depth(clamped, (0.1, 80.0))
    metres = np.frombuffer(depth_message(depth, Header(), '32FC1').data, np.float32)
    np.testing.assert_array_equal(np.isnan(metres), [True, False, False, False, True])
    millimetres = np.frombuffer(depth_message(depth, Header(), '16UC1').data, np.uint16)
    assert millimetres.tolist() == [0, 100, 40000, 0, 0]


@pytest.mark.parametrize('depth, nan_at', [
    ([[0.2, 5.0, 79.0]], []),            # all inside: the fast path
    ([[0.2, np.nan, 79.0]], [1]),        # an already invalid pixel
    ([[0.2, 5.0, 80.0]], [2]),           # one at the limit
    ([[0.05, 5.0, 79.0]], [0]),          # one beyond
])
def test_valid_depth_marks_exactly_the_untrusted_pixels_and_leaves_its_input(depth, nan_at):
    given = np.array(depth, np.float32)
    kept = given.copy()
    out = valid_depth(given, (0.1, 80.0))
    assert out.dtype == np.float32 and np.flatnonzero(np.isnan(out)).tolist() == nan_at
    np.testing.assert_array_equal(out[~np.isnan(out)],
                                  np.delete(kept.ravel(), nan_at))
    np.testing.assert_array_equal(given, kept)  # never written to
    assert valid_depth(np.array(depth, np.float64), (0.1, 80.0)).dtype == np.float32
