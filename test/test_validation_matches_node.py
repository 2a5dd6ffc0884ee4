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

"""The trainer's validation scores exactly what the node publishes, on the same weights."""

import contextlib

from builtin_interfaces.msg import Time
from distill import train
from distill.train_config import DatasetSpec
from distill.training_views import open_dataset
from multitask_seg.checkpoint import default_info, save_checkpoint
from multitask_seg.data import FolderWriter
from multitask_seg.evaluation.scoring import Scorer
from multitask_seg.image_codecs import depth_from_image, labels_from_image, plane
from multitask_seg.inference import Predictor
from multitask_seg.model import build_model, ModelConfig
from multitask_seg.ros.frame_client import image_message, ProbeNode, spinning
from multitask_seg.ros.node import SegmentationNode
from multitask_seg.synthetic import CLASSES, COLORS, render_frame
from multitask_seg.tasks import valid_depth
import numpy as np
import rclpy
from rclpy.context import Context
from rclpy.parameter import Parameter
import torch

# Two classes of another dataset come first in the head, as in a joint model.
OFFSET = 2
FRAMES = 3
# Frames at 48x64, the model at 64x80: both sides resize there and back.
HEIGHT, WIDTH = 48, 64
# Narrow enough that the spread-out depth head falls outside it at both ends.
DEPTH_RANGE = [0.5, 3.5]
LABELS, DEPTH = 'cam/segmentation/labels', 'cam/depth/image'


def spread_model(images: list[np.ndarray]):
    """Return a random network whose outputs vary: many classes, depth around 2 m."""
    torch.manual_seed(0)
    classes = ['other_a', 'other_b', *CLASSES['indoor']]
    config = ModelConfig(tasks={'segmentation': len(classes), 'depth': 1})
    model = build_model(config).eval()
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        out = model(x)
        for name, head in model.heads.items():
            std = out[name].std(dim=(0, 2, 3))
            mean = out[name].mean(dim=(0, 2, 3))
            head.out.weight.div_(std.view(-1, 1, 1, 1))
            head.out.bias.copy_((head.out.bias - mean) / std)
        model.heads['depth'].out.bias.add_(2.0)
    info = default_info(config, classes=classes, input_size=[64, 80],
                        depth_range=DEPTH_RANGE)
    return model, info


def test_validation_equals_scoring_the_nodes_outputs(tmp_path):
    writer = FolderWriter(str(tmp_path / 'val'), classes=CLASSES['indoor'],
                          colors=COLORS['indoor'], K=np.eye(3), width=WIDTH, height=HEIGHT)
    for i in range(FRAMES):
        frame = render_frame('indoor', 1000 + i, height=HEIGHT, width=WIDTH)
        writer.write(f'f{i}', frame.rgb, segmentation=frame.labels, depth=frame.sensor_depth)
    spec = DatasetSpec(name='val', root=str(tmp_path / 'val'), class_offset=OFFSET,
                       depth_cap=3.0)
    dataset = open_dataset(spec, ['segmentation', 'depth'], train=False)
    samples = [dataset[i] for i in range(FRAMES)]
    model, info = spread_model([s['image'] for s in samples])
    checkpoint = save_checkpoint(tmp_path / 'model.pt', model, info)

    validation = train.evaluate(model, {'val': dataset}, [spec], info, torch.device('cpu'))

    published = node_outputs(checkpoint, [s['image'] for s in samples])
    scorer = Scorer(info, FRAMES, depth_cap=spec.depth_cap, label_offset=OFFSET)
    for i, sample in enumerate(samples):
        labels, depth = published[i]
        scorer.add(i, sample['image'], sample['targets'],
                   {'segmentation': labels_from_image(labels), 'depth': depth_from_image(depth)})
    node = scorer.result()

    # What validation predicts, array for array, is what the node published.
    predictor = Predictor.from_network(model, info)
    for i, sample in enumerate(samples):
        predicted = predictor.predict_one(sample['image'])
        labels, depth = published[i]
        assert np.array_equal(labels_from_image(labels), predicted['segmentation'])
        assert np.array_equal(plane(depth, 'float32'),
                              valid_depth(predicted['depth'], DEPTH_RANGE), equal_nan=True)

    assert node['counts']['scored'] == FRAMES and not node['errors']
    seg, depth = node['segmentation'], node['depth']
    # The figures must be non-trivial for the comparison to mean anything: several classes
    # predicted, and depth both trusted and untrusted (outside DEPTH_RANGE) somewhere.
    assert sum(v is not None for v in seg['iou'].values()) > 3
    assert 0.2 < depth['coverage'] < 0.95
    assert validation['val/miou'] == seg['miou']
    assert validation['val/pixel_accuracy'] == seg['pixel_accuracy']
    for name, model_class in zip(CLASSES['indoor'], info.classes[OFFSET:]):
        expected = seg['iou'][model_class]
        assert np.array_equal(validation[f'val/iou/{name}'],
                              np.nan if expected is None else expected, equal_nan=True)
    for key in ('rmse', 'rmse_log', 'abs_rel', 'delta1'):
        assert validation[f'val/{key}'] == depth[key], key
    assert validation['val/depth_coverage'] == depth['coverage']


def node_outputs(checkpoint, images: list[np.ndarray]) -> dict[int, tuple]:
    """Send each image to a node in this process; return {frame: (labels, depth) messages}."""
    context = Context()
    rclpy.init(context=context)
    try:
        with contextlib.ExitStack() as stack:
            node = SegmentationNode(context=context, parameter_overrides=[
                Parameter('cameras', value=['cam']),
                # Validation runs the network on the torch engine; the other engines agree
                # with it within their parity tests' tolerance, not bit for bit.
                Parameter('engine', value='torch'),
                Parameter('checkpoint', value=str(checkpoint))])
            stack.callback(node.destroy_node)
            probe = ProbeNode(['cam'], (LABELS[4:], DEPTH[4:]), context=context)
            stack.callback(probe.destroy_node)
            stack.enter_context(spinning(node, probe, context=context))
            assert probe.wait_matched()
            out = {}
            for i, image in enumerate(images):
                msg = image_message(image, Time(sec=100 + i), 'cam_optical')
                # Best-effort input: resend until answered, then take the answer to this
                # stamp (a resent frame may be answered twice, identically).
                probe.send_until_answered(probe.image_pubs['cam'], msg, LABELS)
                count = len(probe.received[LABELS])
                # Depth is published right after the labels of the same frame.
                probe.wait_for(DEPTH, count, 10.0)
                out[i] = tuple(next(m for _, m in probe.received[topic]
                                    if m.header.stamp == msg.header.stamp)
                               for topic in (LABELS, DEPTH))
            return out
    finally:
        rclpy.shutdown(context=context)
