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
launch/node.launch.py builds a description (needs launch_ros from a ROS install).

The argument logic it calls is tested without launch_ros in test_launch_args.py.
"""

import importlib.util
from pathlib import Path

from multitask_seg.ros.launch_args import ARGUMENTS
import pytest

LAUNCH_FILE = Path(__file__).resolve().parents[1] / 'launch' / 'node.launch.py'


def load_launch_file():
    spec = importlib.util.spec_from_file_location('node_launch', LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_launch_description_declares_arguments_and_node():
    pytest.importorskip('launch_ros', reason='launch_ros is not installed: it comes with a '
                                             'ROS 2 distribution, not with the PyPI wheels')
    from launch import LaunchContext
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch_ros.actions import LifecycleNode

    module = load_launch_file()
    description = module.generate_launch_description()
    declared = [e.name for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    assert declared == list(ARGUMENTS)
    assert any(isinstance(e, OpaqueFunction) for e in description.entities)
    context = LaunchContext()
    context.launch_configurations.update({
        'params_file': '/tmp/params.yaml', 'checkpoint': '/tmp/model.pt',
        'cameras': '[front, rear]', 'namespace': 'robot', 'use_sim_time': 'true',
        'log_level': 'debug', 'ros_log_level': 'warn', 'managed': 'true',
        'autostart': 'true'})
    node, = module.node_action(context)
    assert isinstance(node, LifecycleNode)
    assert (node.node_package, node.node_executable) == ('multitask_seg',
                                                         'multitask_seg_node')
