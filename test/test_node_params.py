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

"""Parameter ranges as `ros2 param describe` and `ros2 param set` see them: over services."""

import math
import threading

from multitask_seg.ros.frame_client import image_message, ProbeNode, spinning
from multitask_seg.ros.node import SegmentationNode
import numpy as np
import pytest
from rcl_interfaces.msg import ParameterType
from rcl_interfaces.srv import DescribeParameters, GetParameters, SetParameters
from rclpy.parameter import Parameter

INT64_MAX = 2**63 - 1
# The ranges the node promises, written out by hand: (low, high), both inclusive.
INTEGER_RANGES = {'num_threads': (0, INT64_MAX), 'max_pixels': (1, INT64_MAX),
                  'input_depth': (1, INT64_MAX), 'output_depth': (1, INT64_MAX),
                  'cloud_decimation': (1, INT64_MAX)}
FLOAT_RANGES = {'overlay_alpha': (0.0, 1.0), 'deadline_ms': (0.0, math.inf),
                'diagnostics_period': (0.0, math.inf)}
UNRANGED = ['checkpoint', 'cameras', 'device', 'input_size', 'cloud_color', 'managed']


@pytest.fixture
def running(module_context, tiny_checkpoint):
    """Start the node, a probe and a parameter client on a background executor."""
    node = SegmentationNode(context=module_context, parameter_overrides=[
        Parameter('checkpoint', value=str(tiny_checkpoint))])
    probe = ProbeNode(['camera'], ('segmentation/labels',), context=module_context)
    try:
        with spinning(node, probe, context=module_context):
            yield node, probe
    finally:
        probe.destroy_node()
        node.destroy_node()


def call(probe, service_type, name: str, request):
    """Call a service of the node as the ros2 command line does; wait on its answer."""
    client = probe.create_client(service_type, f'/multitask_seg/{name}')
    try:
        assert client.wait_for_service(timeout_sec=10.0)
        answered = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _: answered.set())
        assert answered.wait(10.0), f'no answer from {name}'
        return future.result()
    finally:
        probe.destroy_client(client)


def test_describe_shows_every_range(running):
    _, probe = running
    names = [*INTEGER_RANGES, *FLOAT_RANGES, *UNRANGED]
    answer = call(probe, DescribeParameters, 'describe_parameters',
                  DescribeParameters.Request(names=names))
    described = {d.name: d for d in answer.descriptors}
    assert list(described) == names
    for name, (low, high) in INTEGER_RANGES.items():
        d = described[name]
        assert d.type == ParameterType.PARAMETER_INTEGER and not d.floating_point_range
        assert [(r.from_value, r.to_value, r.step) for r in d.integer_range] == [(low, high, 0)]
    for name, (low, high) in FLOAT_RANGES.items():
        d = described[name]
        assert d.type == ParameterType.PARAMETER_DOUBLE and not d.integer_range
        assert [(r.from_value, r.to_value) for r in d.floating_point_range] == [(low, high)]
    for name in UNRANGED:
        assert not described[name].integer_range and not described[name].floating_point_range


def test_set_outside_a_range_is_refused_and_the_node_keeps_going(running):
    node, probe = running

    def set_value(name, value):
        message = Parameter(name, value=value).to_parameter_msg()
        request = SetParameters.Request(parameters=[message])
        return call(probe, SetParameters, 'set_parameters', request).results[0]

    for name, value in (('overlay_alpha', 1.5), ('overlay_alpha', -0.1),
                        ('cloud_decimation', 0), ('deadline_ms', -1.0)):
        result = set_value(name, value)
        assert not result.successful
        assert f'{name} out of range' in result.reason, result.reason
    # The ends of a range are inside it; 0 ms is not a deadline (checked by the node).
    assert set_value('overlay_alpha', 1.0).successful
    assert set_value('cloud_decimation', 3).successful
    refused = set_value('deadline_ms', 0.0)
    assert not refused.successful and 'deadline_ms: must be positive' in refused.reason
    values = call(probe, GetParameters, 'get_parameters', GetParameters.Request(
        names=['overlay_alpha', 'cloud_decimation', 'deadline_ms'])).values
    assert [v.double_value for v in values[::2]] == [1.0, 100.0]
    assert values[1].integer_value == 3
    assert (node.settings.overlay_alpha, node.settings.cloud_decimation) == (1.0, 3)

    assert probe.wait_matched()
    rgb = np.zeros((48, 64, 3), np.uint8)
    sent = image_message(rgb, node.get_clock().now().to_msg(), 'camera_optical')
    labels = probe.send_until_answered(probe.image_pubs['camera'], sent,
                                       'camera/segmentation/labels')
    assert labels.header == sent.header and (labels.height, labels.width) == (48, 64)


@pytest.mark.parametrize('name, value, message', [
    ('output_depth', 0, 'parameter output_depth: must be at least 1'),
    ('num_threads', -2, 'parameter num_threads: must be at least 0'),
    ('max_pixels', 0, 'parameter max_pixels: must be at least 1'),
    ('overlay_alpha', 1.5, r'parameter overlay_alpha: must be in \[0.0, 1.0\]'),
    ('diagnostics_period', -1.0, 'parameter diagnostics_period: must be at least 0.0'),
])
def test_start_up_outside_a_range_names_the_parameter(module_context, tiny_checkpoint, name, value,
                                                      message):
    overrides = [Parameter('checkpoint', value=str(tiny_checkpoint)), Parameter(name, value=value)]
    with pytest.raises(ValueError, match=message):
        SegmentationNode(context=module_context, parameter_overrides=overrides)
