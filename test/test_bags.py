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
"""Bags: write with BagWriter (or rosbags directly) and read back through BagDataset."""

import io
import pickle

from multitask_seg.data.bag_reader import BagDataset, iter_frames
from multitask_seg.data.bag_writer import BagTopics, BagWriter
from multitask_seg.data.folder_format import DatasetFormatError
from multitask_seg.data.registry import open_dataset
from multitask_seg.synthetic import CLASSES
from multitask_seg.synthetic.to_bag import main as to_bag
import numpy as np
from PIL import Image
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import get_typestore, Stores

H, W = 6, 8
T0 = 1_700_000_000 * 10**9
TOPICS = BagTopics()
K = np.array([[50.0, 0, 4], [0, 50.0, 3], [0, 0, 1]])


def _frames(n=3):
    rng = np.random.default_rng(0)
    frames = []
    for i in range(n):
        labels = rng.integers(0, 4, (H, W)).astype(np.uint8)
        labels[0, 0] = 255
        depth = rng.uniform(0.3, 20.0, (H, W)).astype(np.float32)
        depth[1, :] = 0.0
        rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        frames.append((T0 + i * 100_000_000, rgb, labels, depth))
    return frames


def _jpeg(rgb):
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format='JPEG', quality=90)
    return np.array(Image.open(buffer).convert('RGB'))


def _write(path, storage='mcap', compression=None, depth_encoding='32FC1'):
    """Write three frames: the second has no labels, the third no depth."""
    frames = _frames()
    with BagWriter(str(path), storage=storage, compression=compression,
                   depth_encoding=depth_encoding) as writer:
        for i, (stamp, rgb, labels, depth) in enumerate(frames):
            writer.write(stamp, rgb, K=K, labels=None if i == 1 else labels,
                         depth=None if i == 2 else depth)
    return frames


@pytest.mark.parametrize('storage,compression,depth_encoding', [
    ('mcap', None, '32FC1'), ('sqlite3', 'png', '16UC1'), ('mcap', 'jpeg', '16UC1'),
    ('ros1', None, '32FC1')])
def test_round_trip(tmp_path, storage, compression, depth_encoding):
    path = tmp_path / ('frames.bag' if storage == 'ros1' else 'frames')
    frames = _write(path, storage, compression, depth_encoding)
    image_topic = TOPICS.compressed if compression else TOPICS.image
    data = BagDataset(str(path), image_topic, TOPICS.segmentation, TOPICS.depth,
                      classes=['a', 'b', 'c', 'd'], camera_info_topic=TOPICS.camera_info)
    assert len(data) == 3 and data.stamps == [f[0] for f in frames]
    assert data.names[0] == str(T0) and data.size == (H, W)
    np.testing.assert_array_equal(data.K, K)
    assert [data.has(i, 'segmentation') for i in range(3)] == [True, False, True]
    assert [data.has(i, 'depth') for i in range(3)] == [True, True, False]
    for i, (stamp, rgb, labels, depth) in enumerate(frames):
        sample = data[i]
        np.testing.assert_array_equal(sample.image, _jpeg(rgb) if compression == 'jpeg' else rgb)
        if i != 1:
            np.testing.assert_array_equal(sample.targets['segmentation'], labels)
        if i != 2:
            expected = np.round(depth * 1000) / 1000 if depth_encoding == '16UC1' else depth
            np.testing.assert_allclose(sample.targets['depth'], expected, atol=1e-6)
            assert sample.targets['depth'].dtype == np.float32
        assert set(sample.targets) == {t for t in ('segmentation', 'depth') if data.has(i, t)}
    data.close()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(data))[2].targets['segmentation'],
                                  frames[2][2])


def test_iter_frames_yields_cdr_in_order(tmp_path):
    frames = _write(tmp_path / 'bag')
    store = get_typestore(Stores.ROS2_KILTED)
    out = list(iter_frames(str(tmp_path / 'bag'), TOPICS.image, TOPICS.segmentation,
                           TOPICS.depth))
    assert [f.stamp_ns for f in out] == [f[0] for f in frames] == [f.log_time_ns for f in out]
    msg = store.deserialize_cdr(out[2].cdr, out[2].msgtype)
    assert msg.header.frame_id == 'camera_optical_frame' and msg.encoding == 'rgb8'
    assert msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec == frames[2][0]
    np.testing.assert_array_equal(out[2].sample.image, frames[2][1])
    assert set(out[1].sample.targets) == {'depth'}


def test_frames_decode_only_what_is_asked_for_once(tmp_path, monkeypatch):
    from multitask_seg.data import bag_reader

    frames = _write(tmp_path / 'bag', compression='jpeg')
    decoded = []
    original = bag_reader.rgb_from_compressed
    monkeypatch.setattr(bag_reader, 'rgb_from_compressed',
                        lambda *a: decoded.append(1) or original(*a))
    out = list(iter_frames(str(tmp_path / 'bag'), TOPICS.compressed, TOPICS.segmentation,
                           TOPICS.depth))
    assert [len(f.cdr) > 0 for f in out] == [True] * 3 and not decoded  # a replay's view
    np.testing.assert_array_equal(out[0].targets['segmentation'], frames[0][2])
    assert not decoded  # ground truth without the image
    assert out[0].sample.image is out[0].image and len(decoded) == 1
    np.testing.assert_array_equal(out[0].image, _jpeg(frames[0][1]))


def test_a_bad_part_is_named_when_decoded(tmp_path):
    with BagWriter(str(tmp_path / 'bag')) as writer:
        rgb, labels = _frames(1)[0][1:3]
        writer.write(T0, rgb, labels=labels[:3])
    frame = next(iter_frames(str(tmp_path / 'bag'), TOPICS.image, TOPICS.segmentation))
    assert frame.targets['segmentation'].shape == (3, W)
    with pytest.raises(DatasetFormatError, match=f"{TOPICS.segmentation}' at stamp {T0}"):
        frame.sample


def test_ros1_frames_are_converted_to_cdr(tmp_path):
    frames = _write(tmp_path / 'old.bag', 'ros1')
    frame = next(iter_frames(str(tmp_path / 'old.bag'), TOPICS.image))
    msg = get_typestore(Stores.ROS2_KILTED).deserialize_cdr(frame.cdr, frame.msgtype)
    np.testing.assert_array_equal(msg.data.reshape(H, W, 3), frames[0][1])


def _image(store, stamp, encoding, array, pad=0, big=False):
    types = store.types
    sec, nanosec = divmod(stamp, 10**9)
    header = types['std_msgs/msg/Header'](
        stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec), frame_id='cam')
    array = array.astype(array.dtype.newbyteorder('>' if big else '<'))
    rows = array.reshape(H, -1).view(np.uint8)
    data = np.concatenate([rows, np.zeros((H, pad), np.uint8)], axis=1).ravel()
    return types['sensor_msgs/msg/Image'](
        header=header, height=H, width=W, encoding=encoding, is_bigendian=int(big),
        step=rows.shape[1] + pad, data=data)


def _write_raw(path, messages):
    """Write (topic, stamp, Image) messages with rosbags directly."""
    store = get_typestore(Stores.ROS2_HUMBLE)
    with Writer(path, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        connections = {}
        for topic, stamp, make in messages:
            msg = make(store)
            if topic not in connections:
                connections[topic] = writer.add_connection(topic, msg.__msgtype__,
                                                           typestore=store)
            writer.write(connections[topic], stamp,
                         store.serialize_cdr(msg, msg.__msgtype__))


def test_bgr8_padded_step_mono16_class_map_big_endian_depth(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (H, W, 3), dtype=np.uint8)
    ids = np.full((H, W), 7, np.uint16)
    ids[0] = 26
    ids[1] = 1000
    mm = np.full((H, W), 2500, np.uint16)
    _write_raw(tmp_path / 'raw', [
        ('/bgr', T0, lambda s: _image(s, T0, 'bgr8', rgb[..., ::-1].copy(), pad=3)),
        ('/ids', T0, lambda s: _image(s, T0, 'mono16', ids, pad=2)),
        ('/depth', T0, lambda s: _image(s, T0, '16UC1', mm, big=True))])
    data = BagDataset(str(tmp_path / 'raw'), '/bgr', '/ids', '/depth',
                      class_map={7: 'road', 26: 'car'}, depth_scale=0.002)
    sample = data[0]
    np.testing.assert_array_equal(sample.image, rgb)
    assert data.classes == ('road', 'car')
    assert sample.targets['segmentation'][:3, 0].tolist() == [1, 255, 0]
    np.testing.assert_allclose(sample.targets['depth'], 5.0)


def test_errors_name_bag_and_topics(tmp_path):
    _write(tmp_path / 'ok')
    with pytest.raises(DatasetFormatError, match=r"no topic '/nope'.*/camera/image_raw"):
        BagDataset(str(tmp_path / 'ok'), '/nope')
    with pytest.raises(DatasetFormatError, match='CameraInfo'):
        BagDataset(str(tmp_path / 'ok'), TOPICS.image, label_topic=TOPICS.camera_info)
    with pytest.raises(DatasetFormatError, match='missing'):
        BagDataset(str(tmp_path / 'absent'), TOPICS.image)
    other = T0 + 1
    _write_raw(tmp_path / 'apart', [
        ('/rgb', T0, lambda s: _image(s, T0, 'rgb8', np.zeros((H, W, 3), np.uint8))),
        ('/ids', other, lambda s: _image(s, other, 'mono8', np.zeros((H, W), np.uint8)))])
    with pytest.raises(DatasetFormatError, match="no message on '/ids'"):
        BagDataset(str(tmp_path / 'apart'), '/rgb', '/ids')


def test_truncated_bag_is_reported(tmp_path):
    _write(tmp_path / 'cut')
    mcap = next((tmp_path / 'cut').glob('*.mcap'))
    mcap.write_bytes(mcap.read_bytes()[:mcap.stat().st_size // 2])
    with pytest.raises(DatasetFormatError, match='cut'):
        data = BagDataset(str(tmp_path / 'cut'), TOPICS.image, TOPICS.segmentation)
        for i in range(len(data)):
            data[i]


def test_synthetic_sequences_to_bag_cli(tmp_path):
    out = tmp_path / 'synth'
    assert to_bag(['--out', str(out), '--domain', 'outdoor', '--sequences', '2', '--frames',
                   '2', '--height', '24', '--width', '32', '--storage', 'sqlite3',
                   '--depth-encoding', '16UC1']) == 0
    data = open_dataset('bag', path=str(out), image_topic=TOPICS.image,
                        label_topic=TOPICS.segmentation, depth_topic=TOPICS.depth,
                        classes=CLASSES['outdoor'], camera_info_topic=TOPICS.camera_info)
    assert len(data) == 4 and data.size == (24, 32)
    gaps = np.diff(data.stamps)
    assert gaps[0] == gaps[2] == 100_000_000 and gaps[1] > 10**9
    sample = data[3]
    assert sample.image.shape == (24, 32, 3) and set(sample.targets) == {'segmentation',
                                                                         'depth'}
    assert sample.targets['depth'].max() > 0
    with pytest.raises(SystemExit):
        to_bag(['--out', str(tmp_path / 'x'), '--split', 'val', '--seed', '0'])


def test_registry_errors_list_what_is_accepted(tmp_path):
    with pytest.raises(ValueError, match='kitti_depth'):
        open_dataset('kitty')
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['mapping'\].*accepted"):
        open_dataset('bag', path='x', image_topic='/a', mapping='m')
    with pytest.raises(ValueError, match=r"missing option\(s\) \['image_topic'\]"):
        open_dataset('bag', path='x')
