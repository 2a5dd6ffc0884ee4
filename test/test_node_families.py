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

"""The node runs a speed-tier family from its checkpoint file alone."""

from multitask_seg.checkpoint import default_info, save_checkpoint
from multitask_seg.inference import Predictor
from multitask_seg.model import build_model, ModelConfig
from multitask_seg.ros.frame_client import image_message, ProbeNode, spinning
from multitask_seg.ros.node import SegmentationNode
import numpy as np
from random_weights import randomise
from rclpy.parameter import Parameter


def test_espnet_checkpoint_through_the_node(context, tmp_path):
    config = ModelConfig(architecture='espnet', tasks={'segmentation': 5, 'depth': 1})
    checkpoint = save_checkpoint(tmp_path / 'espnet.pt', randomise(build_model(config)),
                                 default_info(config, input_size=[48, 64],
                                              depth_range=[0.0, 10.0]))
    node = SegmentationNode(context=context, parameter_overrides=[
        Parameter('cameras', value=['cam']), Parameter('checkpoint', value=str(checkpoint))])
    probe = ProbeNode(['cam'], ('segmentation/labels', 'depth/image'), context=context)
    try:
        with spinning(node, probe, context=context):
            assert probe.wait_matched(transport='raw')
            rgb = np.random.default_rng(0).integers(0, 256, (47, 63, 3), dtype=np.uint8)
            probe.image_pubs['cam'].publish(
                image_message(rgb, node.get_clock().now().to_msg(), 'cam_optical'))
            (_, labels), = probe.wait_for('cam/segmentation/labels', 1, 30)
            (_, depth), = probe.wait_for('cam/depth/image', 1, 30)
    finally:
        probe.destroy_node()
        node.destroy_node()
    expected = Predictor(checkpoint).predict_one(rgb)
    assert len(np.unique(expected['segmentation'])) > 1
    got = np.frombuffer(labels.data, np.uint8).reshape(47, 63)
    assert (got == expected['segmentation']).mean() > 0.999
    # The node reports depth outside the open range (0, 10) m as invalid (NaN).
    valid = (expected['depth'] > 0) & (expected['depth'] < 10)
    want = np.where(valid, expected['depth'], np.nan)
    assert 0.2 < valid.mean() < 1
    np.testing.assert_allclose(np.frombuffer(depth.data, np.float32).reshape(47, 63), want,
                               rtol=1e-4, atol=1e-4)
