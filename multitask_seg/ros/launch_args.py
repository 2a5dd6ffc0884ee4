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
What launch/node.launch.py makes of its arguments. No launch or launch_ros imports here.

The launch file hands ``node_options`` the arguments as strings and passes what it returns
to launch_ros's LifecycleNode action, so the logic is tested without a ROS install. A bad
argument raises ValueError naming it and what is allowed; launch prints that message.
"""

from typing import Any

import yaml

NODE_NAME = 'multitask_seg'
# rcutils' severities (rclpy.logging.LoggingSeverity), which --log-level accepts in any case.
LOG_LEVELS = ('debug', 'info', 'warn', 'error', 'fatal', 'unset')
# How ROS command lines and launch conditions spell booleans, compared case-insensitively.
BOOLEANS = {'true': True, '1': True, 'yes': True, 'false': False, '0': False, 'no': False}

# name: (default, description); params_file's default is the package's own file, a
# substitution only the launch file can build.
ARGUMENTS = {
    'params_file': (None, 'YAML file with the node parameters'),
    'checkpoint': ('', 'model file (.pt or .onnx); empty keeps the params file value'),
    'cameras': ('', "camera names, 'front,rear' or '[front, rear]'; empty keeps the params "
                    'file value'),
    'namespace': ('', 'namespace of the node and its topics'),
    'use_sim_time': ('false', 'use /clock instead of the system clock (true/false, 1/0, '
                              'yes/no)'),
    'log_level': ('info', f'level of the node\'s own logger: {", ".join(LOG_LEVELS)}'),
    'ros_log_level': ('info', f'level of every other logger (rcl, rmw): '
                              f'{", ".join(LOG_LEVELS)}'),
    'managed': ('false', 'true: the node waits for lifecycle transitions (configure loads '
                         'the model, activate subscribes); false: it configures and '
                         'activates itself'),
    'autostart': ('false', 'with managed:=true, launch itself configures and activates the '
                           'node; ignored otherwise'),
}


def _fail(name: str, problem: str) -> None:
    raise ValueError(f'launch argument {name}: {problem}')


def parse_bool(name: str, text: str) -> bool:
    """Return ``text`` as a boolean: true/false, 1/0 or yes/no in any case."""
    value = BOOLEANS.get(text.strip().lower())
    if value is None:
        _fail(name, f'{text!r} is not a boolean (true/false, 1/0 or yes/no)')
    return value


def parse_cameras(text: str) -> list[str]:
    """
    Return camera names from 'front,rear', '[front, rear]' (a YAML list) or 'front'.

    An empty text returns [] (keep the params file's value); the node checks the names.
    """
    if not text.strip():
        return []
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        _fail('cameras', f'{text!r} is neither a YAML list nor comma-separated names: {exc}')
    if isinstance(value, str):
        value = [name.strip() for name in value.split(',')]
    if not isinstance(value, list) or not all(isinstance(n, str) and n for n in value):
        _fail('cameras', f'{text!r} is not a list of camera names (e.g. front,rear or '
                         f'"[front, rear]")')
    if not value:
        _fail('cameras', 'empty list; name at least one camera or leave it empty')
    return value


def parse_log_level(name: str, text: str) -> str:
    """Return ``text`` as one of ``LOG_LEVELS`` (lower case)."""
    level = text.strip().lower()
    if level not in LOG_LEVELS:
        _fail(name, f'{text!r} is not a log level; use one of {", ".join(LOG_LEVELS)}')
    return level


def node_logger_name(namespace: str) -> str:
    """Return the node's logger name: rcl joins namespace and node name with dots."""
    parts = [part for part in namespace.split('/') if part]
    return '.'.join([*parts, NODE_NAME])


def node_options(values: dict[str, str]) -> dict[str, Any]:
    """
    Return the keyword arguments of launch_ros's LifecycleNode for the node.

    :param values: every name of ``ARGUMENTS`` with its (substituted) string value.

    :raises: ValueError: 'launch argument <name>: <problem>'.
    """
    managed = parse_bool('managed', values['managed'])
    autostart = parse_bool('autostart', values['autostart'])
    overrides: dict[str, Any] = {
        'use_sim_time': parse_bool('use_sim_time', values['use_sim_time']),
        'managed': managed}
    if values['checkpoint']:
        overrides['checkpoint'] = values['checkpoint']
    cameras = parse_cameras(values['cameras'])
    if cameras:
        overrides['cameras'] = cameras
    namespace = values['namespace']
    node_level = parse_log_level('log_level', values['log_level'])
    ros_level = parse_log_level('ros_log_level', values['ros_log_level'])
    return {
        'package': 'multitask_seg',
        'executable': 'multitask_seg_node',
        'name': NODE_NAME,
        'namespace': namespace,
        'parameters': [values['params_file'], overrides],
        # The first sets every logger, the second only the node's own.
        'ros_arguments': ['--log-level', ros_level,
                          '--log-level', f'{node_logger_name(namespace)}:={node_level}'],
        # An unmanaged node configures itself; launch's transitions would then fail.
        'autostart': managed and autostart,
        'output': 'screen',
        'emulate_tty': True,
    }
