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

"""The task registry's rules against hand-computed values."""

from types import SimpleNamespace

from distill.augment import random_crop
from distill.losses import LOSSES
from distill.mixing import collate
from multitask_seg.data.folder_format import read_target, TASK_DIRS
from multitask_seg.model import ModelConfig, TASK_KINDS
from multitask_seg.tasks import IGNORE_LABEL, TASKS
import numpy as np
from PIL import Image
import pytest
import torch

INFO = SimpleNamespace(depth_range=[0.1, 10.0], temperature=1.0)


def test_table_covers_three_tasks_with_their_channels_and_fills():
    assert TASK_KINDS == ('segmentation', 'depth', 'normals')
    assert {n: t.channels for n, t in TASKS.items()} == {
        'segmentation': None, 'depth': 1, 'normals': 3}
    assert {n: t.fill for n, t in TASKS.items()} == {
        'segmentation': 255, 'depth': 0.0, 'normals': 0.0}
    assert IGNORE_LABEL == 255
    assert TASK_DIRS == {'segmentation': 'segmentation', 'depth': 'depth',
                         'normals': 'normals'}
    assert all(t.loss in LOSSES for t in TASKS.values())
    with pytest.raises(ValueError, match='normals: must have 3 channels'):
        ModelConfig(tasks={'normals': 1}).validate()


def test_segmentation_finish_is_argmax_with_softmax_confidence():
    # Two classes, scores (0, ln 3) and (ln 4, 0): argmax 1 and 0, softmax 3/4 and 4/5.
    logits = torch.tensor([[[[0.0, np.log(4.0)]], [[np.log(3.0), 0.0]]]], dtype=torch.float32)
    out = TASKS['segmentation'].finish(logits, (1, 2), INFO, True)
    assert out['segmentation'].tolist() == [[1, 0]] and out['segmentation'].dtype == np.uint8
    np.testing.assert_allclose(out['segmentation_confidence'], [[0.75, 0.8]], rtol=1e-6)
    many = TASKS['segmentation'].finish(torch.zeros(1, 300, 1, 1), (1, 1), INFO, False)
    assert set(many) == {'segmentation'} and many['segmentation'].dtype == np.uint16


def test_depth_finish_clamps_to_the_checkpoint_range_and_publishes_nan_at_its_ends():
    output = torch.tensor([[[[0.05, 2.0], [20.0, 10.0]]]])
    depth = TASKS['depth'].finish(output, (2, 2), INFO, False)['depth']
    np.testing.assert_allclose(depth, [[0.1, 2.0], [10.0, 10.0]], rtol=1e-6)
    published = TASKS['depth'].published(depth, INFO)
    assert np.isnan(published).tolist() == [[True, False], [True, True]]
    assert TASKS['depth'].valid(published).tolist() == [[False, True], [False, False]]


def test_normals_finish_normalises_after_upsampling():
    output = torch.tensor([3.0, 0.0, 4.0]).view(1, 3, 1, 1).expand(1, 3, 2, 2).contiguous()
    normals = TASKS['normals'].finish(output, (4, 6), INFO, False)['normals']
    assert normals.shape == (4, 6, 3)
    np.testing.assert_allclose(normals, np.broadcast_to([0.6, 0.0, 0.8], (4, 6, 3)),
                               atol=1e-6)


def test_validity_rules():
    assert TASKS['segmentation'].valid(np.array([0, 4, 255], np.uint8)).tolist() == [
        True, True, False]
    assert TASKS['depth'].valid(np.array([0.0, -1.0, np.nan, np.inf, 0.5])).tolist() == [
        False, False, False, False, True]
    normals = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [np.nan, 0.0, 1.0]])
    assert TASKS['normals'].valid(normals).tolist() == [False, True, False]


def test_normals_png_codec_by_hand_and_read_back_through_pillow(tmp_path):
    normals = np.array([[[0.28, 0.0, 0.96], [0.0, 0.0, 0.0]],
                        [[-0.28, -0.96, 0.0], [0.0, 0.0, -1.0]]], np.float32)
    png = TASKS['normals'].codec.encode(normals)
    # v = round((n + 1) / 2 * 255): 0.28 -> 163.2, 0 -> 127.5 -> 128 (half to even),
    # 0.96 -> 249.9, -0.28 -> 91.8, -0.96 -> 5.1, -1 -> 0; no normal -> (0, 0, 0).
    assert png.tolist() == [[[163, 128, 250], [0, 0, 0]], [[92, 5, 128], [128, 128, 0]]]
    # Written by Pillow itself, plus a mid-grey pixel some releases use for 'no normal'.
    rgb = png.copy()
    rgb[1, 1] = 128
    path = tmp_path / 'n.png'
    Image.fromarray(rgb, 'RGB').save(path)
    back = read_target(str(path), 'normals')
    decoded = rgb[0, 0] / 255.0 * 2 - 1
    np.testing.assert_allclose(back[0, 0], decoded / np.linalg.norm(decoded), atol=1e-6)
    assert back[0, 1].tolist() == [0, 0, 0] and back[1, 1].tolist() == [0, 0, 0]
    np.testing.assert_allclose(np.linalg.norm(back[[0, 1], [0, 0]], axis=-1), 1.0, rtol=1e-6)
    # 8 bits per channel keep the direction within half a degree.
    cosine = (back[0, 0] * normals[0, 0]).sum()
    assert np.degrees(np.arccos(min(cosine, 1.0))) < 0.5


def test_depth_and_label_png_codecs():
    codec = TASKS['depth'].codec
    assert codec.encode(np.array([[1.5, 0.0, np.nan, -1.0]])).tolist() == [[1500, 0, 0, 0]]
    assert codec.decode(np.array([[2500]], np.uint16)).tolist() == [[2.5]]
    # A depth millimetres cannot hold is refused, never written as another value; at
    # KITTI's 1/256 m, 70 m is 17920 units.
    for unrepresentable in (70.0, 0.0004):
        with pytest.raises(ValueError, match='cannot be stored'):
            codec.encode(np.array([[unrepresentable]]))
    assert codec.encode(np.array([[70.0]]), 256.0).tolist() == [[17920]]
    assert codec.decode(np.array([[17920]], np.uint16), 256.0).tolist() == [[70.0]]
    with pytest.raises(ValueError, match='uint8'):
        TASKS['segmentation'].codec.encode(np.zeros((1, 1), np.int32))


def test_ros_planes_and_topics():
    assert {n: t.ros.topic for n, t in TASKS.items()} == {
        'segmentation': 'segmentation/labels', 'depth': 'depth/image',
        'normals': 'normals/image'}
    ros = TASKS['segmentation'].ros
    assert ros.plane(np.zeros((1, 1), np.uint8), None)[1] == 'mono8'
    assert ros.plane(np.zeros((1, 1), np.uint16), None)[1] == 'mono16'
    ros = TASKS['depth'].ros
    assert ros.encoding_parameter == 'depth_encoding'
    plane, encoding = ros.plane(np.array([[2.5, np.nan]], np.float32), '16UC1')
    assert (plane.tolist(), plane.dtype, encoding) == ([[2500, 0]], np.uint16, '16UC1')
    assert ros.plane(np.array([[2.5]], np.float32), None)[1] == '32FC1'
    plane, encoding = TASKS['normals'].ros.plane(np.zeros((2, 3, 3), np.float64), None)
    assert (plane.shape, plane.dtype, encoding) == ((2, 3, 3), np.float32, '32FC3')


def test_padding_and_batches_use_each_tasks_fill_and_layout():
    sample = {'image': np.zeros((2, 2, 3), np.uint8), 'targets': {
        'segmentation': np.zeros((2, 2), np.uint8), 'depth': np.ones((2, 2), np.float32),
        'normals': np.tile(np.float32([0, 0, 1]), (2, 2, 1))}}
    cropped = random_crop(sample, (3, 3), np.random.default_rng(0))['targets']
    assert cropped['segmentation'][2].tolist() == [255, 255, 255]
    assert cropped['depth'][:, 2].tolist() == [0, 0, 0]
    assert cropped['normals'][2].tolist() == [[0, 0, 0]] * 3
    bare = {'image': sample['image'], 'targets': {}}
    batch = collate([sample, bare], mean=[0, 0, 0], std=[1, 1, 1])['targets']
    assert batch['segmentation'].dtype == torch.int64
    assert batch['segmentation'][1].unique().tolist() == [255]
    assert batch['normals'].shape == (2, 3, 2, 2)
    assert batch['normals'][0, :, 0, 0].tolist() == [0, 0, 1]
    assert batch['normals'][1].abs().sum() == 0 and batch['depth'][1].sum() == 0


def test_temperature_changes_the_confidence_not_the_labels():
    # Scores (0, ln 3) at T = 2 become (0, ln 3 / 2): softmax sqrt(3) / (1 + sqrt(3)).
    logits = torch.tensor([[[[0.0]], [[np.log(3.0)]]]], dtype=torch.float32)
    info = SimpleNamespace(depth_range=[0.1, 10.0], temperature=2.0)
    out = TASKS['segmentation'].finish(logits, (1, 1), info, True)
    assert out['segmentation'].tolist() == [[1]]
    np.testing.assert_allclose(out['segmentation_confidence'], [[3 ** 0.5 / (1 + 3 ** 0.5)]],
                               rtol=1e-6)
