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

"""The launch file's argument logic, checked against rcl and YAML (no launch_ros needed)."""

from multitask_seg.ros.launch_args import (ARGUMENTS, LOG_LEVELS, node_logger_name,
                                           node_options, parse_bool, parse_cameras,
                                           parse_log_level)
import pytest
import rclpy
from rclpy.context import Context
import rclpy.logging
from rclpy.node import Node
import yaml

DEFAULTS = {name: '/params.yaml' if default is None else default
            for name, (default, _) in ARGUMENTS.items()}


@pytest.mark.parametrize('text', ['[front, rear]', 'front,rear', ' front , rear ',
                                  "['front', 'rear']", '- front\n- rear'])
def test_camera_lists_in_yaml_and_comma_form(text):
    assert parse_cameras(text) == ['front', 'rear']


def test_one_camera_and_empty():
    assert parse_cameras('front') == ['front']
    assert parse_cameras('') == []


@pytest.mark.parametrize('text, message', [
    ('[]', 'empty list'), ('[front, 3]', 'not a list of camera names'),
    ('{front: 1}', 'not a list of camera names'), ('front,,rear', 'not a list'),
    ('[front', 'neither a YAML list'),
])
def test_bad_camera_lists_are_named(text, message):
    with pytest.raises(ValueError, match=f'launch argument cameras: .*{message}'):
        parse_cameras(text)


@pytest.mark.parametrize('text', ['true', 'True', 'TRUE', 'false', 'False', 'yes', 'No',
                                  'YES', 'no'])
def test_boolean_words_read_as_yaml_reads_them(text):
    assert parse_bool('use_sim_time', text) is yaml.safe_load(text)


def test_boolean_digits():
    assert parse_bool('use_sim_time', '1') is True
    assert parse_bool('use_sim_time', '0') is False


@pytest.mark.parametrize('text', ['ture', '', 'on', '2', 'enabled'])
def test_other_booleans_are_refused(text):
    with pytest.raises(ValueError, match='launch argument use_sim_time: .* not a boolean'):
        parse_bool('use_sim_time', text)


@pytest.mark.parametrize('text', ['debug', 'DEBUG', 'Info', 'warn', 'error', 'fatal',
                                  'unset', 'verbose', 'warning', 'critical', 'trace'])
def test_log_levels_are_exactly_rcutils_levels(text):
    try:
        rclpy.logging.get_logging_severity_from_string(text)
        accepted_by_rcl = True
    except RuntimeError:
        accepted_by_rcl = False
    if accepted_by_rcl:
        assert parse_log_level('log_level', text) == text.lower()
    else:
        with pytest.raises(ValueError, match=f"'{text}' is not a log level; use one of "
                                             f"{', '.join(LOG_LEVELS)}"):
            parse_log_level('log_level', text)


@pytest.mark.parametrize('namespace', ['', 'robot', '/robot/arm'])
def test_node_logger_name_is_rcl_s(namespace):
    context = Context()
    rclpy.init(context=context)
    try:
        node = Node('multitask_seg', namespace=namespace, context=context)
        assert node_logger_name(namespace) == node.get_logger().name
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)


def test_node_options_pass_on_what_is_set():
    values = {**DEFAULTS, 'checkpoint': '/m.pt', 'cameras': '[front, rear]',
              'use_sim_time': 'Yes', 'namespace': 'robot'}
    options = node_options(values)
    assert (options['package'], options['executable'], options['name'],
            options['namespace']) == ('multitask_seg', 'multitask_seg_node', 'multitask_seg',
                                      'robot')
    params_file, overrides = options['parameters']
    assert params_file == '/params.yaml'
    assert overrides == {'use_sim_time': True, 'managed': False, 'checkpoint': '/m.pt',
                         'cameras': ['front', 'rear']}
    assert options['autostart'] is False
    assert 'checkpoint' not in node_options(DEFAULTS)['parameters'][1]


@pytest.mark.parametrize('managed, autostart, launch_drives', [
    ('true', 'true', True), ('true', 'false', False), ('false', 'true', False),
    ('false', 'false', False)])
def test_launch_drives_the_lifecycle_only_of_a_managed_node(managed, autostart,
                                                            launch_drives):
    options = node_options({**DEFAULTS, 'managed': managed, 'autostart': autostart})
    assert options['autostart'] is launch_drives
    assert options['parameters'][1]['managed'] is (managed == 'true')


def test_log_levels_reach_rcl_for_the_node_logger_only():
    options = node_options({**DEFAULTS, 'namespace': 'robot', 'log_level': 'DEBUG',
                            'ros_log_level': 'warn'})
    context = Context()
    # rcl parses the arguments as the node process would.
    rclpy.init(args=['node', '--ros-args', *options['ros_arguments']], context=context)
    try:
        assert rclpy.logging.get_logger_effective_level('robot.multitask_seg') == \
            rclpy.logging.LoggingSeverity.DEBUG
        assert rclpy.logging.get_logger_effective_level('rcl') == \
            rclpy.logging.LoggingSeverity.WARN
    finally:
        rclpy.shutdown(context=context)
        rclpy.logging.set_logger_level('robot.multitask_seg',
                                       rclpy.logging.LoggingSeverity.UNSET)
        rclpy.logging.set_logger_level('', rclpy.logging.LoggingSeverity.INFO)


def test_bad_launch_arguments_name_themselves():
    with pytest.raises(ValueError, match="launch argument log_level: 'verbose'"):
        node_options({**DEFAULTS, 'log_level': 'verbose'})
    with pytest.raises(ValueError, match="launch argument managed: 'maybe'"):
        node_options({**DEFAULTS, 'managed': 'maybe'})
