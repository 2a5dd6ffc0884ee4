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

"""The node as its own process, started the way ros2 run and launch start it."""

import os
from pathlib import Path
import signal
import subprocess
import sys

from multitask_seg.ros.frame_client import image_message, ProbeNode, spinning
from multitask_seg.ros.params import PARAMETERS
import numpy as np
import pytest
import rclpy
from rclpy.context import Context
import yaml

ROOT = Path(__file__).resolve().parents[1]
PARAMS_FILE = ROOT / 'config' / 'params.yaml'


def start_node(*ros_args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, '-m', 'multitask_seg.ros.node', '--ros-args',
         '--params-file', str(PARAMS_FILE), *ros_args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, 'PYTHONUNBUFFERED': '1'})


def test_params_file_sets_every_parameter_to_its_default():
    values = yaml.safe_load(PARAMS_FILE.read_text())['/**']['ros__parameters']
    assert values == {name: spec.default for name, spec in PARAMETERS.items()}


@pytest.fixture
def context():
    context = Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


def test_process_answers_a_frame_and_stops_on_sigterm(context, tiny_checkpoint):
    process = start_node('-p', f'checkpoint:={tiny_checkpoint}', '-p', 'cameras:=[front]')
    try:
        probe = ProbeNode(['front'], context=context)
        with spinning(probe, context=context):
            assert probe.wait_matched(timeout=30), 'node did not come up'
            rgb = np.zeros((48, 64, 3), np.uint8)
            sent = image_message(rgb, probe.get_clock().now().to_msg(), 'front_optical')
            labels = probe.send_until_answered(probe.image_pubs['front'], sent,
                                               'front/segmentation/labels')
            depth = probe.send_until_answered(probe.image_pubs['front'], sent,
                                              'front/depth/image')
        probe.destroy_node()
        assert labels.header == sent.header and depth.header == sent.header
        assert (labels.height, labels.width, depth.encoding) == (48, 64, '32FC1')
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert 'Traceback' not in output


def test_process_with_a_missing_checkpoint_exits_with_a_clear_error(tmp_path):
    process = start_node('-p', f'checkpoint:={tmp_path / "gone.pt"}')
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert 'parameter checkpoint: file' in output and 'gone.pt does not exist' in output
    assert 'Traceback' not in output


def test_one_large_frame_sent_once_arrives_with_the_default_qos(context, tiny_checkpoint):
    # 4096 x 4096 rgb8 (48 MiB, the default max_pixels) between processes over the shipped
    # shared-memory profile: under best effort most such frames never arrived.
    process = start_node('-p', f'checkpoint:={tiny_checkpoint}', '-p', 'cameras:=[front]')
    try:
        probe = ProbeNode(['front'], outputs=('segmentation/labels',), headers_only=True,
                          context=context)
        with spinning(probe, context=context):
            assert probe.wait_matched(timeout=30), 'node did not come up'
            rgb = np.zeros((4096, 4096, 3), np.uint8)
            sent = image_message(rgb, probe.get_clock().now().to_msg(), 'front_optical')
            probe.image_pubs['front'].publish(sent)
            (_, header), = probe.wait_for('front/segmentation/labels', 1, 120)
        probe.destroy_node()
        assert header == sent.header
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
