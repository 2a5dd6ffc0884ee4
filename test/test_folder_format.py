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
"""Dataset folder layout: exact round trips, missing annotations, clear errors."""

from multitask_seg.data import DatasetFormatError, FolderDataset, FolderWriter
import numpy as np
from PIL import Image
import pytest
import yaml


CLASSES = ('wall', 'floor', 'chair')
COLORS = ([1, 2, 3], [4, 5, 6], [7, 8, 9])
K = np.array([[50.0, 0.0, 15.5], [0.0, 50.0, 11.5], [0.0, 0.0, 1.0]])


def _writer(root, size=(24, 32)):
    return FolderWriter(str(root), classes=CLASSES, colors=COLORS, K=K, width=size[1],
                        height=size[0], domain='indoor')


def _arrays(seed=0, size=(24, 32)):
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
    labels = rng.integers(0, 3, size, dtype=np.uint8)
    labels[0, :5] = 255
    depth = rng.uniform(0.2, 60.0, size).astype(np.float32)
    depth[1, :4] = 0.0
    return image, labels, depth


def test_round_trip_is_exact(tmp_path):
    image, labels, depth = _arrays()
    _writer(tmp_path).write('a', image, segmentation=labels, depth=depth)
    data = FolderDataset(str(tmp_path))
    assert len(data) == 1 and data.classes == CLASSES and list(data.colors) == list(COLORS)
    np.testing.assert_array_equal(data.K, K)
    sample = data[0]
    np.testing.assert_array_equal(sample.image, image)
    np.testing.assert_array_equal(sample.targets['segmentation'], labels)
    got = sample.targets['depth']
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got == 0, depth == 0)
    assert np.abs(got - depth).max() <= 0.0005 + 1e-6


def test_depth_png_is_16_bit_millimetres(tmp_path):
    image, _, depth = _arrays()
    depth[2, :2] = [np.nan, -1.0]
    _writer(tmp_path).write('a', image, depth=depth)
    with Image.open(tmp_path / 'depth' / 'a.png') as img:
        assert img.mode == 'I;16'
        mm = np.array(img)
    assert mm[5, 5] == round(float(depth[5, 5]) * 1000)
    assert (mm[2, :2] == 0).all(), 'invalid depth is written as 0'
    meta = yaml.safe_load((tmp_path / 'meta.yaml').read_text())
    assert meta['depth_png']['scale'] == 1000.0


def test_depth_the_scale_cannot_hold_is_refused_naming_file_and_value(tmp_path):
    image, _, depth = _arrays()
    depth[2, 3] = 70.0
    with pytest.raises(DatasetFormatError, match=r'depth/a\.png: depth 70 m cannot be stored'):
        _writer(tmp_path).write('a', image, depth=depth)
    assert not (tmp_path / 'depth' / 'a.png').exists()
    depth[2, 3] = 0.0001
    with pytest.raises(DatasetFormatError, match='depth 0.0001 m'):
        _writer(tmp_path).write('a', image, depth=depth)


def test_kitti_scale_keeps_outdoor_depth_to_80_m(tmp_path):
    image, _, depth = _arrays()
    depth[3, :4] = [65.6, 70.0, 79.99, 255.99]
    writer = FolderWriter(str(tmp_path), classes=CLASSES, colors=COLORS, K=K, width=32,
                          height=24, depth_scale=256.0)
    writer.write('a', image, depth=depth)
    with Image.open(tmp_path / 'depth' / 'a.png') as img:
        units = np.array(img)
    # KITTI's depth PNGs: metres = value / 256 (Uhrig et al. 2017, devkit readme).
    assert units[3, 2] == round(79.99 * 256)
    got = FolderDataset(str(tmp_path))[0].targets['depth']
    np.testing.assert_array_equal(got == 0, depth == 0)
    assert np.abs(got - depth).max() <= 0.5 / 256 + 1e-5
    assert yaml.safe_load((tmp_path / 'meta.yaml').read_text())['depth_png']['scale'] == 256.0


def test_folder_without_a_depth_scale_reads_as_millimetres(tmp_path):
    image, _, depth = _arrays()
    _writer(tmp_path).write('a', image, depth=depth)
    meta_path = tmp_path / 'meta.yaml'
    meta = yaml.safe_load(meta_path.read_text())
    del meta['depth_png']
    meta_path.write_text(yaml.safe_dump(meta))
    got = FolderDataset(str(tmp_path))[0].targets['depth']
    assert np.abs(got - depth).max() <= 0.0005 + 1e-6
    meta['depth_png'] = {'scale': 'mm'}
    meta_path.write_text(yaml.safe_dump(meta))
    with pytest.raises(DatasetFormatError, match='depth_png.scale'):
        FolderDataset(str(tmp_path))


def test_missing_annotations_are_absent_not_zero(tmp_path):
    image, labels, depth = _arrays()
    writer = _writer(tmp_path)
    writer.write('both', image, segmentation=labels, depth=depth)
    writer.write('depth_only', image, depth=depth)
    writer.write('image_only', image)
    writer.write('seg_only', image, segmentation=labels)
    data = FolderDataset(str(tmp_path))
    tasks = {data[i].name: data[i].tasks for i in range(len(data))}
    assert tasks == {'both': ('segmentation', 'depth'), 'depth_only': ('depth',),
                     'image_only': (), 'seg_only': ('segmentation',)}
    assert data.has(data.names.index('depth_only'), 'depth')
    assert not data.has(data.names.index('depth_only'), 'segmentation')


def test_normals_round_trip_within_half_a_degree_and_read_by_pillow(tmp_path):
    image, _, _ = _arrays()
    rng = np.random.default_rng(3)
    normals = rng.normal(size=image.shape).astype(np.float32)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    normals[0, :3] = 0.0
    _writer(tmp_path).write('a', image, normals=normals)
    with Image.open(tmp_path / 'normals' / 'a.png') as img:
        assert img.mode == 'RGB'
        rgb = np.asarray(img).astype(np.float64)
    # The documented encoding, decoded by hand: n = v / 255 * 2 - 1.
    by_hand = rgb / 255 * 2 - 1
    assert np.abs(by_hand[1:] - normals[1:]).max() <= 1 / 255 + 1e-6
    assert (rgb[0, :3] == 0).all()
    sample = FolderDataset(str(tmp_path))[0]
    assert sample.tasks == ('normals',)
    got = sample.targets['normals']
    assert got.dtype == np.float32 and (got[0, :3] == 0).all()
    angle = np.degrees(np.arccos(np.clip((got * normals).sum(-1)[1:], -1, 1)))
    assert angle.max() < 0.5
    with pytest.raises(ValueError, match=r'normals must have shape \(24, 32, 3\)'):
        _writer(tmp_path).write('b', image, normals=normals[..., :2])
    with pytest.raises(ValueError, match='unknown annotation'):
        _writer(tmp_path).write('b', image, edges=normals)


def _dataset_with(tmp_path, folder, array, mode=None):
    image, labels, depth = _arrays()
    _writer(tmp_path).write('a', image, segmentation=labels, depth=depth)
    path = tmp_path / folder / 'a.png'
    Image.fromarray(array, mode).save(path) if mode else Image.fromarray(array).save(path)
    return FolderDataset(str(tmp_path)), str(path)


def test_corrupt_image_error_names_the_file(tmp_path):
    data, path = _dataset_with(tmp_path, 'images', _arrays()[0])
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n not really a png')
    with pytest.raises(DatasetFormatError, match=path):
        data[0]


@pytest.mark.parametrize('folder,array', [
    ('images', np.zeros((24, 32), np.uint8)),
    ('segmentation', np.zeros((24, 32), np.uint16)),
    ('segmentation', np.zeros((24, 32, 3), np.uint8)),
    ('depth', np.zeros((24, 32), np.uint8)),
])
def test_wrong_png_type_error_names_the_file(tmp_path, folder, array):
    data, path = _dataset_with(tmp_path, folder, array)
    with pytest.raises(DatasetFormatError, match=f'{path}.*mode'):
        data[0]


@pytest.mark.parametrize('folder,array', [
    ('segmentation', np.zeros((24, 31), np.uint8)),
    ('depth', np.zeros((23, 32), np.uint16)),
])
def test_size_mismatch_error_names_the_file(tmp_path, folder, array):
    data, path = _dataset_with(tmp_path, folder, array)
    with pytest.raises(DatasetFormatError, match=f'{path}.*size'):
        data[0]


def test_bad_label_and_orphan_and_missing_meta(tmp_path):
    data, path = _dataset_with(tmp_path / 'a', 'segmentation', np.full((24, 32), 7, np.uint8))
    with pytest.raises(DatasetFormatError, match=f'{path}.*label 7'):
        data[0]
    (tmp_path / 'a' / 'depth' / 'ghost.png').write_bytes(b'')
    with pytest.raises(DatasetFormatError, match='ghost.png'):
        FolderDataset(str(tmp_path / 'a'))
    (tmp_path / 'b' / 'images').mkdir(parents=True)
    with pytest.raises(DatasetFormatError, match='meta.yaml'):
        FolderDataset(str(tmp_path / 'b'))


def test_writer_rejects_wrong_arrays(tmp_path):
    image, labels, depth = _arrays()
    writer = _writer(tmp_path)
    with pytest.raises(ValueError, match='image'):
        writer.write('a', image.astype(np.float32))
    with pytest.raises(ValueError, match='segmentation'):
        writer.write('a', image, segmentation=labels[:-1])
    with pytest.raises(ValueError, match='not a class id'):
        writer.write('a', image, segmentation=np.full(labels.shape, 9, np.uint8))
