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
Surface normals, the third task, end to end through the task registry.

A tiny three-task model is trained by the distillation trainer on generated frames whose
normals come from their exact depth; it then labels frames as a teacher, is validated by
the evaluator's scorer, and the node publishes ``<cam>/normals/image`` and the cloud's
normal fields, compared with the inference core's own output.
"""

import contextlib
import json
from pathlib import Path

from distill import label, train
from multitask_seg.data import FolderWriter
from multitask_seg.data.folder_format import read_target
from multitask_seg.evaluation.scoring import Scorer
from multitask_seg.inference import Predictor
from multitask_seg.ros.frame_client import image_message, ProbeNode, spinning
from multitask_seg.ros.node import SegmentationNode
from multitask_seg.synthetic import CLASSES, COLORS, render_frame
from multitask_seg.tasks import TASKS
import numpy as np
import pytest
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, PointField
import yaml

H, W = 48, 64
TASK_CHANNELS = {'segmentation': len(CLASSES['indoor']), 'depth': 1, 'normals': 3}


def normals_from_depth(depth: np.ndarray, K: np.ndarray) -> np.ndarray:
    """
    Return (H, W, 3) unit normals facing the camera from exact z-depth, 0 where unknown.

    Independent of the package: the cross product of the back-projected points' image
    gradients, flipped towards the camera; pixels next to invalid depth get none.
    """
    v, u = np.mgrid[:depth.shape[0], :depth.shape[1]].astype(np.float64)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    points = rays * depth[..., None]
    du = np.gradient(points, axis=1)
    dv = np.gradient(points, axis=0)
    n = np.cross(du, dv)
    n *= -np.sign((n * points).sum(-1, keepdims=True))
    length = np.linalg.norm(n, axis=-1, keepdims=True)
    ok = depth > 0
    ok[1:] &= ok[:-1].copy()
    ok[:-1] &= ok[1:].copy()
    ok[:, 1:] &= ok[:, :-1].copy()
    ok[:, :-1] &= ok[:, 1:].copy()
    ok &= length[..., 0] > 0
    return np.where(ok[..., None], n / np.maximum(length, 1e-12), 0).astype(np.float32)


def write_frames(root: Path, seeds, with_normals: bool) -> list:
    writer = FolderWriter(str(root), classes=CLASSES['indoor'], colors=COLORS['indoor'],
                          K=np.eye(3), width=W, height=H, domain='indoor')
    frames = []
    for i, seed in enumerate(seeds):
        frame = render_frame('indoor', seed, height=H, width=W)
        normals = normals_from_depth(frame.depth, frame.K)
        writer.write(f'f{i:03d}', frame.rgb, segmentation=frame.labels, depth=frame.depth,
                     normals=normals if with_normals else None)
        frames.append((frame, normals))
    return frames


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Train three tasks for a few steps; return (checkpoint, validation frames, root)."""
    root = tmp_path_factory.mktemp('normals')
    write_frames(root / 'train', range(4), with_normals=True)
    val_frames = write_frames(root / 'val', range(2000, 2002), with_normals=True)
    config = {
        'output': str(root / 'run'),
        'model': {'tasks': TASK_CHANNELS, 'decoder_channels': 32},
        'datasets': [{'name': 'indoor', 'root': str(root / 'train')}],
        'val': [{'name': 'val', 'root': str(root / 'val')}],
        'augment': {'crop': [H, W], 'scale': [1.0, 1.0]},
        'batch_size': 2, 'epochs': 1, 'epoch_size': 4, 'inference_size': [H, W],
        'depth_range': [0.1, 20.0], 'device': 'cpu',
    }
    path = root / 'config.yaml'
    path.write_text(yaml.safe_dump(config))
    assert train.main(['--config', str(path)]) == 0
    # The normals targets reached the loss: the epoch's mean cosine loss was logged.
    logged = json.loads((root / 'run' / 'last_metrics.json').read_text())
    assert 0 < logged['train/normals'] <= 2
    return root / 'run' / 'last.pt', val_frames, root


def test_teacher_labels_normals_and_scorer_validates_them(trained, tmp_path):
    checkpoint, val_frames, root = trained
    predictor = Predictor(checkpoint)
    assert set(predictor.tasks) == set(TASK_CHANNELS)

    # The labeller writes the teacher's normals where a dataset has none.
    unlabelled = tmp_path / 'unlabelled'
    frames = write_frames(unlabelled, range(3000, 3002), with_normals=False)
    out = tmp_path / 'pseudo'
    assert label.main(['--teacher', str(checkpoint), '--input', str(unlabelled),
                       '--output', str(out), '--tasks', 'normals', '--device', 'cpu']) == 0
    assert sorted(p.name for p in (out / 'normals').iterdir()) == ['f000.png', 'f001.png']
    for i, (frame, _) in enumerate(frames):
        written = read_target(str(out / 'normals' / f'f{i:03d}.png'), 'normals')
        expected = predictor.predict_one(frame.rgb)['normals']
        cosine = np.clip((written * expected).sum(-1), -1, 1)
        assert np.degrees(np.arccos(cosine)).max() < 0.5

    # Validation: the scorer over what the node would publish, against numpy by hand.
    scorer = Scorer(predictor.info, frames=len(val_frames))
    angles = []
    for i, (frame, truth) in enumerate(val_frames):
        result = predictor.predict_one(frame.rgb)
        published = {t: TASKS[t].published(result[t], predictor.info) for t in predictor.tasks}
        scorer.add(i, frame.rgb, {'normals': truth, 'depth': frame.depth}, published)
        ok = np.abs(truth).sum(-1) > 0
        p = result['normals'][ok].astype(np.float64)
        t = truth[ok].astype(np.float64)
        cosine = (p * t).sum(-1) / np.linalg.norm(p, axis=-1) / np.linalg.norm(t, axis=-1)
        angles.append(np.degrees(np.arccos(np.clip(cosine, -1, 1))))
    angles = np.concatenate(angles)
    figures = scorer.result()['normals']
    assert figures['pixels'] == angles.size and figures['coverage'] == 1.0
    assert figures['mean_deg'] == pytest.approx(angles.mean(), rel=1e-6)
    for threshold in (11.25, 22.5, 30):
        assert figures[f'within_{threshold:g}'] == pytest.approx((angles < threshold).mean())
    assert 'depth' in scorer.result()


def test_node_publishes_the_cores_normals_and_cloud_normals(trained, context):
    checkpoint, val_frames, _ = trained
    frame, _ = val_frames[0]
    expected = Predictor(checkpoint).predict_one(frame.rgb)['normals']
    with contextlib.ExitStack() as stack:
        node = SegmentationNode(context=context, parameter_overrides=[
            Parameter('cameras', value=['cam']), Parameter('checkpoint', value=str(checkpoint))])
        stack.callback(node.destroy_node)
        probe = ProbeNode(['cam'], ('normals/image', 'points'), context=context)
        stack.callback(probe.destroy_node)
        stack.enter_context(spinning(node, probe, context=context))
        assert probe.wait_matched()
        assert node.count_publishers('/cam/normals/image') == 1
        info = CameraInfo(height=H, width=W, k=frame.K.ravel().tolist())
        info.header.frame_id = 'cam_optical'
        probe.info_pubs['cam'].publish(info)
        sent = image_message(frame.rgb, node.get_clock().now().to_msg(), 'cam_optical')
        msg = probe.send_until_answered(probe.image_pubs['cam'], sent, 'cam/points')
        (_, image), = probe.wait_for('cam/normals/image', 1, 10)[-1:]

    assert (image.encoding, image.height, image.width, image.step) == ('32FC3', H, W, W * 12)
    normals = np.frombuffer(bytes(image.data), '<f4').reshape(H, W, 3)
    np.testing.assert_allclose(normals, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=-1), 1.0, atol=1e-5)

    # Decoded as sensor_msgs_py.point_cloud2 does: a dtype built from the message's fields.
    names = [f.name for f in msg.fields]
    assert names[-3:] == ['normal_x', 'normal_y', 'normal_z']
    types = {PointField.FLOAT32: '<f4', PointField.UINT32: '<u4'}
    dtype = np.dtype({'names': names, 'formats': [types[f.datatype] for f in msg.fields],
                      'offsets': [f.offset for f in msg.fields], 'itemsize': msg.point_step})
    points = np.frombuffer(bytes(msg.data), dtype).reshape(msg.height, msg.width)
    cloud = np.stack([points['normal_x'], points['normal_y'], points['normal_z']], -1)
    np.testing.assert_allclose(cloud, expected, atol=1e-5)
