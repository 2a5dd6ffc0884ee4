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
Launch multitask_seg_node with the package's params file and a few common overrides.

    ros2 launch multitask_seg node.launch.py checkpoint:=/path/model.pt cameras:=front,rear

Arguments left empty keep the value from params_file.
"""

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = {
    'params_file': (PathJoinSubstitution([FindPackageShare('multitask_seg'), 'config',
                                          'params.yaml']),
                    'YAML file with the node parameters'),
    'checkpoint': ('', 'model file (.pt or .onnx); empty keeps the params file value'),
    'cameras': ('', 'comma-separated camera names; empty keeps the params file value'),
    'namespace': ('', 'namespace of the node and its topics'),
    'use_sim_time': ('false', 'use /clock instead of the system clock'),
    'log_level': ('info', 'debug, info, warn, error or fatal'),
}


def node_action(context: LaunchContext) -> list[Node]:
    """Build the node once the arguments are known, passing on only those that are set."""
    def value(name: str) -> str:
        return LaunchConfiguration(name).perform(context)

    overrides = {'use_sim_time': value('use_sim_time').lower() in ('true', '1')}
    if value('checkpoint'):
        overrides['checkpoint'] = value('checkpoint')
    cameras = [name.strip() for name in value('cameras').split(',') if name.strip()]
    if cameras:
        overrides['cameras'] = cameras
    return [Node(
        package='multitask_seg',
        executable='multitask_seg_node',
        name='multitask_seg',
        namespace=value('namespace'),
        parameters=[value('params_file'), overrides],
        arguments=['--ros-args', '--log-level', value('log_level')],
        output='screen',
        emulate_tty=True,
    )]


def generate_launch_description() -> LaunchDescription:
    """Declare the launch arguments and the node."""
    arguments = [DeclareLaunchArgument(name, default_value=default, description=text)
                 for name, (default, text) in ARGUMENTS.items()]
    return LaunchDescription([*arguments, OpaqueFunction(function=node_action)])
