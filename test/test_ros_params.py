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

"""Parameter validation, colourising and the diagnostics report (no ROS graph needed)."""

from diagnostic_msgs.msg import DiagnosticStatus
from multitask_seg.ros.colorize import colorize, palette_lut
from multitask_seg.ros.diagnostics import NodeStats
from multitask_seg.ros.params import PARAMETERS, parse_settings
import numpy as np
import pytest


@pytest.fixture
def values(tmp_path):
    model = tmp_path / 'model.pt'
    model.write_bytes(b'')
    values = {name: spec.default for name, spec in PARAMETERS.items()}
    values.update({'checkpoint': str(model), 'camera.transport': 'raw'})
    return values


def test_defaults_with_a_checkpoint_are_valid(values):
    settings = parse_settings(values)
    assert settings.cameras == ('camera',)
    assert settings.transports == {'camera': 'raw'}
    assert settings.input_size == 'checkpoint'
    assert not settings.managed


@pytest.mark.parametrize('change, message', [
    ({'cameras': []}, 'parameter cameras: empty'),
    ({'cameras': ['a', 'a'], 'a.transport': 'raw'}, 'parameter cameras: names repeat'),
    ({'cameras': ['bad name'], 'bad name.transport': 'raw'}, 'not a valid name'),
    ({'camera.transport': 'theora'}, 'parameter camera.transport:'),
    ({'input_qos': 'fastest'}, "parameter input_qos: 'fastest' is not one of"),
    ({'executor': 'multi'}, "parameter executor: 'multi' is not one of"),
    ({'output_qos': 'reliabel'}, 'parameter output_qos:'),
    ({'depth_encoding': '8UC1'}, 'parameter depth_encoding:'),
    ({'input_size': '640'}, 'parameter input_size:'),
    ({'precision': 'fp8'}, 'parameter precision:'),
    ({'engine': 'tensorrt'}, 'parameter engine:'),
    ({'deadline_ms': 0.0}, 'parameter deadline_ms: must be positive'),
    ({'diagnostics_period': 0.0}, 'parameter diagnostics_period: must be positive'),
])
def test_bad_values_name_the_parameter(values, change, message):
    values.update(change)
    with pytest.raises(ValueError, match=message):
        parse_settings(values)


def test_defaults_lie_inside_their_ranges():
    ranged = {name: spec for name, spec in PARAMETERS.items() if spec.bounds is not None}
    assert set(ranged) == {'num_threads', 'max_pixels', 'input_depth', 'output_depth',
                           'overlay_alpha', 'cloud_decimation', 'deadline_ms',
                           'diagnostics_period', 'retained_memory_mb', 'keep_memory_max_pixels'}
    for name, spec in ranged.items():
        low, high = spec.bounds
        assert low <= spec.default <= high, name
        # rclpy applies an integer range to integers only, a float range to doubles only.
        assert all(type(v) is type(spec.default) for v in (low, high)), name


def test_input_size_forms(values):
    values['input_size'] = '480x640'
    assert parse_settings(values).input_size == (480, 640)
    values['input_size'] = 'native'
    assert parse_settings(values).input_size == 'native'


def test_colorize_pure_and_blended():
    lut = palette_lut([[10, 20, 30], [200, 100, 0]], np.uint8)
    labels = np.array([[0, 1, 255]], np.uint8)
    np.testing.assert_array_equal(colorize(labels, lut), [[[10, 20, 30], [200, 100, 0],
                                                           [0, 0, 0]]])
    image = np.full((1, 3, 3), 100, np.uint8)
    half = colorize(labels, lut, image, alpha=0.5)
    np.testing.assert_array_equal(half, [[[55, 60, 65], [150, 100, 50], [50, 50, 50]]])
    assert palette_lut([[1, 2, 3]], np.uint16).shape == (65536, 3)


def test_report_counts_latency_and_deadline():
    stats = NodeStats(['front', 'rear'], 'seg', 'cpu')
    stats.received('front', dropped_waiting=False)
    stats.received('front', dropped_waiting=True)
    stats.published('front', stamp_latency=0.3, receive_latency=0.2)
    stats.received('rear', dropped_waiting=False)
    stats.bad('rear')
    stats.batch(1, {'convert': 0.001, 'infer': 0.1})
    inference, front, rear = stats.report(deadline=0.1)
    assert inference.name == 'seg: inference'
    values = {kv.key: kv.value for kv in inference.values}
    assert values['infer ms median'] == '100.0'
    assert front.level == DiagnosticStatus.WARN and 'deadline' in front.message
    front_values = {kv.key: kv.value for kv in front.values}
    assert front_values['dropped total'] == '1'
    assert front_values['receive_to_publish ms max'] == '200.0'
    assert rear.level == DiagnosticStatus.WARN and rear.message == '1 bad frames'
    assert stats.counts('front').received == 2
    # The next report covers only what came after this one.
    _, front, _ = stats.report(deadline=0.1)
    assert front.message.startswith('no frames')
    assert {kv.key: kv.value for kv in front.values}['dropped total'] == '1'


def test_empty_checkpoint_means_the_bundled_model(values, monkeypatch, tmp_path):
    from multitask_seg.ros import params

    bundled = tmp_path / 'default.pt'
    bundled.write_bytes(b'')
    monkeypatch.setattr(params, 'default_checkpoint', lambda: bundled)
    values['checkpoint'] = ''
    assert parse_settings(values).checkpoint == str(bundled)

    def none():
        raise FileNotFoundError('none bundled')

    monkeypatch.setattr(params, 'default_checkpoint', none)
    with pytest.raises(ValueError, match='parameter checkpoint: empty, and this installation'):
        parse_settings(values)
