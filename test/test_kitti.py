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
"""KITTI readers on tiny PNGs written in the official layouts."""

from multitask_seg.data.class_map import ClassMap
from multitask_seg.data.folder_format import DatasetFormatError, write_png
from multitask_seg.data.kitti import KittiDepth, KittiSemantics
import numpy as np
import pytest
import yaml

H, W = 3, 4
DRIVE = '2011_09_26_drive_0001_sync'


def _depth_layout(tmp_path, source='groundtruth', frames=('0000000005', '0000000006')):
    rng = np.random.default_rng(0)
    written = {}
    for frame in frames:
        rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
        units = rng.integers(0, 80 * 256, (H, W)).astype(np.uint16)
        units[0, :] = 0
        depth_dir = tmp_path / 'depth' / 'train' / DRIVE / 'proj_depth' / source / 'image_02'
        rgb_dir = tmp_path / 'raw' / '2011_09_26' / DRIVE / 'image_02' / 'data'
        depth_dir.mkdir(parents=True, exist_ok=True)
        rgb_dir.mkdir(parents=True, exist_ok=True)
        write_png(str(depth_dir / f'{frame}.png'), units)
        write_png(str(rgb_dir / f'{frame}.png'), rgb)
        written[frame] = (rgb, units)
    return written


@pytest.mark.parametrize('source', ['groundtruth', 'velodyne_raw'])
def test_depth_completion_pngs_decode_to_metres(tmp_path, source):
    written = _depth_layout(tmp_path, source)
    data = KittiDepth(str(tmp_path / 'depth'), str(tmp_path / 'raw'), split='train',
                      source=source)
    assert data.names == [f'{DRIVE}/image_02/0000000005', f'{DRIVE}/image_02/0000000006']
    rgb, units = written['0000000006']
    sample = data[1]
    np.testing.assert_array_equal(sample.image, rgb)
    np.testing.assert_array_equal(sample.targets['depth'], units / np.float32(256.0))
    assert sample.targets['depth'].dtype == np.float32 and (sample.targets['depth'][0] == 0).all()
    assert data.has(0, 'depth') and not data.has(0, 'segmentation') and data.classes == ()


def test_depth_without_its_rgb_frame_is_named(tmp_path):
    _depth_layout(tmp_path)
    (tmp_path / 'raw' / '2011_09_26' / DRIVE / 'image_02' / 'data' / '0000000006.png').unlink()
    with pytest.raises(DatasetFormatError, match='0000000006.png'):
        KittiDepth(str(tmp_path / 'depth'), str(tmp_path / 'raw'), split='train')
    with pytest.raises(DatasetFormatError, match='velodyne_raw'):
        KittiDepth(str(tmp_path / 'depth'), str(tmp_path / 'raw'), split='train',
                   source='velodyne_raw')


def _semantics_layout(root):
    (root / 'image_2').mkdir(parents=True)
    (root / 'semantic').mkdir()
    rgb = np.full((H, W, 3), 9, np.uint8)
    ids = np.array([[7, 8, 11, 21], [26, 23, 0, 33], [24, 7, 7, 7]], np.uint8)
    write_png(str(root / 'image_2' / '000000_10.png'), rgb)
    write_png(str(root / 'semantic' / '000000_10.png'), ids)
    write_png(str(root / 'image_2' / '000001_10.png'), rgb)
    return rgb


def test_semantics_default_kitti6_map(tmp_path):
    rgb = _semantics_layout(tmp_path)
    data = KittiSemantics(str(tmp_path))
    assert data.classes == ('road', 'sidewalk', 'building', 'vegetation', 'car', 'sky')
    assert data.colors[0] == [128, 64, 128] and len(data.colors) == 6
    sample = data[0]
    np.testing.assert_array_equal(sample.image, rgb)
    np.testing.assert_array_equal(sample.targets['segmentation'], np.array(
        [[0, 1, 2, 3], [4, 5, 255, 255], [255, 0, 0, 0]], np.uint8))
    assert data.has(0, 'segmentation') and not data.has(1, 'segmentation')
    assert data[1].targets == {}


def test_semantics_yaml_class_map(tmp_path):
    _semantics_layout(tmp_path / 'sem')
    spec = tmp_path / 'map.yaml'
    spec.write_text(yaml.safe_dump({'classes': ['ground', 'thing'],
                                    'map': {7: 'ground', 8: 'ground', 26: 'thing'}}))
    data = KittiSemantics(str(tmp_path / 'sem'), class_map=str(spec))
    assert data.classes == ('ground', 'thing')
    assert data[0].targets['segmentation'][0].tolist() == [0, 0, 255, 255]
    assert data[0].targets['segmentation'][1, 0] == 1


def test_class_map_errors():
    with pytest.raises(DatasetFormatError, match='bus'):
        ClassMap({7: 'bus'}, classes=['road'])
    with pytest.raises(DatasetFormatError, match='mapping'):
        ClassMap({})
    assert ClassMap({1: 'x', 2: 'y', 3: 'x'}).classes == ('x', 'y')
