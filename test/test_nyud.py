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
"""NYUDv2 readers on tiny files written in the real layouts (HDF5 .mat, MAT v5, PNG/JPG)."""

import pickle

import h5py
from multitask_seg.data.folder_format import DatasetFormatError, write_png
from multitask_seg.data.matfile import load_numeric
from multitask_seg.data.nyud import NYU40_CLASSES, NYU40_COLORS, NyudMat, NyudRaw
import numpy as np
from PIL import Image
import pytest
from scipy.io import savemat

H, W, N = 4, 5, 3


@pytest.fixture()
def labelled(tmp_path):
    """Write a 3-frame nyu_depth_v2_labeled.mat; return (path, images, depths, labels)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8)
    depths = rng.uniform(0.5, 9.0, (N, H, W)).astype(np.float32)
    depths[0, 0, 0] = 0.0
    labels = rng.integers(0, 7, (N, H, W)).astype(np.uint16)
    path = tmp_path / 'nyu_depth_v2_labeled.mat'
    with h5py.File(path, 'w') as f:
        # MATLAB's H x W x 3 x N array as h5py sees it: all axes reversed.
        f['images'] = images.transpose(0, 3, 2, 1)
        f['depths'] = depths.transpose(0, 2, 1).astype(np.float64)
        f['labels'] = labels.transpose(0, 2, 1)
    return path, images, depths, labels


@pytest.mark.parametrize('compress', [False, True])
def test_load_numeric_reads_v5_and_skips_non_numeric(tmp_path, compress):
    column = np.arange(1, 5, dtype=float).reshape(4, 1)
    grid = np.arange(6, dtype=np.uint8).reshape(2, 3)
    path = tmp_path / 'v5.mat'
    cell = np.array([1.0, 'two'], dtype=object)
    savemat(path, {'note': 'hello', 'cell': cell, 'col': column, 'grid': grid},
            do_compression=compress)
    found = load_numeric(str(path), ['col', 'grid'])
    np.testing.assert_array_equal(found['col'], column)
    np.testing.assert_array_equal(found['grid'], grid)
    for name in ('note', 'cell', 'absent'):
        with pytest.raises(DatasetFormatError, match=f"v5.mat: no numeric variable '{name}'"):
            load_numeric(str(path), [name])


def test_load_numeric_reads_v73_in_matlab_shape(tmp_path):
    map_class = np.array([[3, 1, 40, 3, 22, 0]], float)
    path = tmp_path / 'v73.mat'
    with h5py.File(path, 'w') as f:
        # MATLAB writes its column-major (1, 6) array; h5py sees it as (6, 1).
        f['mapClass'] = map_class.T
    np.testing.assert_array_equal(load_numeric(str(path), ['mapClass'])['mapClass'], map_class)
    with pytest.raises(DatasetFormatError, match="v73.mat: no numeric variable 'testNdxs'"):
        load_numeric(str(path), ['testNdxs'])


def test_labelled_mat_transposes_and_maps_to_nyu40(tmp_path, labelled):
    path, images, depths, labels = labelled
    # Raw ids 1..6 -> NYU40 ids 3, 1, 40, 3, 22, 0 (0 = no class) -> 0-based 2, 0, 39, 2, 21, 255.
    mapping = tmp_path / 'classMapping40.mat'
    savemat(mapping, {'mapClass': np.array([[3, 1, 40, 3, 22, 0]], float)})
    data = NyudMat(str(path), mapping=str(mapping))
    assert len(data) == N and data.names == ['0001', '0002', '0003']
    assert len(data.classes) == len(data.colors) == 40 and data.classes[21] == 'ceiling'
    sample = data[1]
    np.testing.assert_array_equal(sample.image, images[1])
    np.testing.assert_allclose(sample.targets['depth'], depths[1])
    lut = {0: 255, 1: 2, 2: 0, 3: 39, 4: 2, 5: 21, 6: 255}
    expected = np.vectorize(lut.get)(labels[1]).astype(np.uint8)
    np.testing.assert_array_equal(sample.targets['segmentation'], expected)
    assert sample.targets['segmentation'].dtype == np.uint8
    assert data[0].targets['depth'][0, 0] == 0.0
    assert data.has(0, 'segmentation') and data.has(0, 'depth')
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(data))[2].image, images[2])


def test_labelled_mat_without_mapping_is_depth_only_and_splits_select(tmp_path, labelled):
    path, images, _, _ = labelled
    splits = tmp_path / 'splits.mat'
    savemat(splits, {'trainNdxs': np.array([[1.0], [3.0]]), 'testNdxs': np.array([[2.0]])})
    train = NyudMat(str(path), splits=str(splits), split='train')
    assert train.names == ['0001', '0003'] and not train.has(0, 'segmentation')
    np.testing.assert_array_equal(train[1].image, images[2])
    assert set(train[1].targets) == {'depth'}
    assert NyudMat(str(path), splits=str(splits), split='test').names == ['0002']
    with pytest.raises(ValueError, match='split'):
        NyudMat(str(path), split='train')


def test_labelled_mat_errors_name_the_file(tmp_path):
    bad = tmp_path / 'bad.mat'
    with h5py.File(bad, 'w') as f:
        f['images'] = np.zeros((1, 3, 2, 2), np.uint8)
    with pytest.raises(DatasetFormatError, match='bad.mat'):
        NyudMat(str(bad))
    splits = tmp_path / 'splits.mat'
    splits.write_bytes(b'not a mat file')
    with pytest.raises(DatasetFormatError, match='splits.mat: cannot read MATLAB file'):
        load_numeric(str(splits), ['trainNdxs'])
    savemat(splits, {'trainNdxs': np.arange(1.0, 100.0)[:, None]})
    splits.write_bytes(splits.read_bytes()[:200])  # cut off inside the variable
    with pytest.raises(DatasetFormatError, match='splits.mat: cannot read MATLAB file'):
        load_numeric(str(splits), ['trainNdxs'])
    with pytest.raises(DatasetFormatError, match='absent.mat: cannot read MATLAB file'):
        load_numeric(str(tmp_path / 'absent.mat'), ['trainNdxs'])


def test_raw_frames_pair_by_name_and_by_timestamp(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    mm = rng.integers(0, 9000, (H, W)).astype(np.uint16)
    scene = tmp_path / 'raw' / 'bedroom_0001'
    scene.mkdir(parents=True)
    Image.fromarray(rgb).save(scene / 'rgb_00000.png')
    write_png(str(scene / 'depth_00000.png'), mm)
    Image.fromarray(rgb).save(scene / 'rgb_00001.jpg', quality=95)
    other = tmp_path / 'raw' / 'office_0002'
    other.mkdir()
    Image.fromarray(rgb).save(other / 'rgb_1294439283.377.png')
    write_png(str(other / 'sync_depth_1294439283.351.png'), mm)

    data = NyudRaw(str(tmp_path / 'raw'))
    assert data.names == ['bedroom_0001/00000'] and data.unmatched == 2
    sample = data[0]
    np.testing.assert_array_equal(sample.image, rgb)
    np.testing.assert_allclose(sample.targets['depth'], mm / 1000.0, rtol=1e-6)
    assert data.has(0, 'depth') and not data.has(0, 'segmentation')
    assert len(data.classes) == len(NYU40_COLORS) == len(NYU40_CLASSES)

    timed = NyudRaw(str(tmp_path / 'raw'), max_time_diff=0.05, depth_scale=1 / 5000)
    assert timed.names == ['bedroom_0001/00000', 'office_0002/1294439283.377']
    np.testing.assert_allclose(timed[1].targets['depth'], mm / 5000.0, rtol=1e-6)
    with pytest.raises(DatasetFormatError, match='no <scene>'):
        NyudRaw(str(tmp_path))


def test_labelled_mat_with_normals_pngs_written_by_pillow(tmp_path, labelled):
    path, images, _, _ = labelled
    rng = np.random.default_rng(2)
    truth = rng.normal(size=(N, H, W, 3))
    truth /= np.linalg.norm(truth, axis=-1, keepdims=True)
    folder = tmp_path / 'normals'
    folder.mkdir()
    for frame in (0, 2):  # frame 0002 has no normals file
        rgb = np.rint((truth[frame] + 1) * 127.5).astype(np.uint8)
        rgb[0, 0] = 0  # no normal here
        Image.fromarray(rgb, 'RGB').save(folder / f'{frame + 1:04d}.png')
    data = NyudMat(str(path), normals=str(folder))
    assert [data.has(i, 'normals') for i in range(N)] == [True, False, True]
    assert 'normals' not in data[1].targets
    normals = data[2].targets['normals']
    assert normals.shape == (H, W, 3) and normals.dtype == np.float32
    assert normals[0, 0].tolist() == [0, 0, 0]
    angle = np.degrees(np.arccos(np.clip((normals * truth[2]).sum(-1), -1, 1)))
    assert angle.ravel()[1:].max() < 0.5
    np.testing.assert_allclose(np.linalg.norm(normals, axis=-1).ravel()[1:], 1.0, rtol=1e-5)
    flipped = NyudMat(str(path), normals=str(folder), normals_signs=[1, -1, -1])[2]
    np.testing.assert_allclose(flipped.targets['normals'], normals * [1, -1, -1])
    with pytest.raises(DatasetFormatError, match='normals folder'):
        NyudMat(str(path), normals=str(tmp_path / 'none'))
    with pytest.raises(ValueError, match='normals_signs'):
        NyudMat(str(path), normals=str(folder), normals_signs=[1, 2, 1])
