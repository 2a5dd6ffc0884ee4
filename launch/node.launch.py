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
Launch multitask_seg_node as a lifecycle node with the package's params file.

    ros2 launch multitask_seg node.launch.py checkpoint:=/path/model.pt cameras:=front,rear
    ros2 launch multitask_seg node.launch.py managed:=true autostart:=true log_level:=debug

Arguments left empty keep the value from params_file; multitask_seg.ros.launch_args says
what each argument accepts (and is where that logic is tested).
"""

from launch import LaunchContext, LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import LifecycleNode
from launch_ros.substitutions import FindPackageShare
from multitask_seg.ros.launch_args import ARGUMENTS, node_options

PARAMS_FILE = PathJoinSubstitution([FindPackageShare('multitask_seg'), 'config',
                                    'params.yaml'])


def node_action(context: LaunchContext) -> list[LifecycleNode]:
    """Build the node once the arguments are known, passing on only those that are set."""
    values = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    return [LifecycleNode(**node_options(values))]


def generate_launch_description() -> LaunchDescription:
    """Declare the launch arguments and the node."""
    arguments = [DeclareLaunchArgument(name, default_value=PARAMS_FILE if default is None
                                       else default, description=text)
                 for name, (default, text) in ARGUMENTS.items()]
    return LaunchDescription([*arguments, OpaqueFunction(function=node_action)])
