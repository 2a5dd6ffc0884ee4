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
The node's parameters: names, defaults, descriptions, ranges and validation. No rclpy here.

``PARAMETERS`` is the single list the node declares and config/params.yaml documents;
``parameter_descriptor`` turns a row into the ParameterDescriptor the node declares it
with, whose integer or floating-point range rclpy enforces (``ros2 param describe`` shows it);
``parse_settings`` checks what a range cannot say and turns the values into ``Settings``
or raises ValueError whose message starts with 'parameter <name>:'.
"""

from dataclasses import dataclass
import math
import re
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor

from .. import input_size
from ..bundled import default_checkpoint
from ..frame_limits import DEFAULT_MAX_PIXELS, KEEP_MEMORY_MAX_PIXELS
from ..image_codecs import DEPTH_ENCODINGS

QOS_NAMES = ('sensor_data', 'best_effort', 'reliable')
TRANSPORTS = ('raw', 'compressed')
PRECISIONS = ('auto', 'fp32', 'fp16', 'bf16', 'int8')
ENGINES = ('auto', 'torch', 'onnxruntime', 'openvino')
CLOUD_COLORS = ('image', 'class')
EXECUTORS = ('events', 'single_threaded')
CAMERA_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*$')
# rclpy's ranges need both ends: the upper end of an integer range without a real limit.
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Spec:
    """
    A declared parameter: default (which also fixes its type) and description.

    :ivar bounds: inclusive (low, high) of an integer or float parameter, or None.
    """

    default: Any
    description: str
    read_only: bool = True
    # rclpy gives an empty list override no element type, so '[]' would fail with a type
    # error instead of the clear 'empty' message; such parameters are checked here instead.
    any_type: bool = False
    bounds: tuple[float, float] | None = None

    def bounds_text(self) -> str:
        """Say the range in words, e.g. 'at least 1' or 'in [0.0, 1.0]'."""
        low, high = self.bounds
        return f'at least {low}' if high in (INT64_MAX, math.inf) else f'in [{low}, {high}]'


PARAMETERS = {
    'checkpoint': Spec('', 'model file: a .pt checkpoint or its .onnx export (empty: the '
                           'bundled model)'),
    'cameras': Spec(['camera'], 'camera names; <name>/image_raw and <name>/camera_info '
                                'are read, <name>/segmentation/... written', any_type=True),
    'transport': Spec('raw', "input transport of every camera: 'raw' (<name>/image_raw) or "
                             "'compressed' (<name>/image_raw/compressed, JPEG or PNG); "
                             '<name>.transport overrides it per camera'),
    'device': Spec('cpu', "inference device: 'cpu', 'cuda' or 'cuda:N'"),
    'engine': Spec('auto', "inference engine: 'auto' (OpenVINO, else ONNX Runtime, else "
                           "PyTorch; CUDA devices: PyTorch), 'torch', 'onnxruntime' or "
                           "'openvino'"),
    'precision': Spec('auto', "'auto' (the fastest precision whose figures stored in the "
                              "model pass the accuracy gate; fp32 without figures), 'fp32', "
                              "'fp16' (CUDA only), 'bf16' or 'int8' (OpenVINO, optimised "
                              'model)'),
    'auto_min_labels_agree_pct': Spec(99.0, "precision 'auto' takes a reduced precision "
                                            'only if at least this share of labels (%) '
                                            'agreed with fp32 when it was measured'),
    'auto_max_depth_change_m': Spec(0.03, "precision 'auto' takes a reduced precision only "
                                          'if its measured mean depth change (m) is at '
                                          'most this'),
    'input_size': Spec('checkpoint', "network input size: 'checkpoint' (the size the model "
                                     "was trained at), 'native' (each image's own) or "
                                     "'<height>x<width>'"),
    'num_threads': Spec(0, 'CPU inference threads; 0 keeps the library default',
                        bounds=(0, INT64_MAX)),
    'max_pixels': Spec(DEFAULT_MAX_PIXELS, 'larger input images are rejected as bad frames',
                       bounds=(1, INT64_MAX)),
    'keep_memory_max_pixels': Spec(KEEP_MEMORY_MAX_PIXELS, 'batches of more pixels give '
                                   "the engine's working memory back after inference "
                                   '(slower for them; bounds what huge frames leave '
                                   'behind)', bounds=(1, INT64_MAX)),
    'retained_memory_mb': Spec(256, 'freed memory (MiB) the process keeps for reuse: '
                                    'more spares page faults on every frame, less bounds '
                                    'what huge frames leave behind (buffers above '
                                    'min(this, 32 MiB) are always returned)',
                               bounds=(0, INT64_MAX)),
    'input_qos': Spec('reliable', f'input QoS, one of {QOS_NAMES}; reliable: no frame lost '
                                  f'in transport (large frames are lost under best effort), '
                                  f'but does not match best-effort publishers; sensor_data = '
                                  f'best effort, matches every publisher'),
    'input_depth': Spec(1, 'input queue depth; 1 keeps only the latest frame',
                        bounds=(1, INT64_MAX)),
    'output_qos': Spec('reliable', f'output QoS, one of {QOS_NAMES}'),
    'output_depth': Spec(5, 'output queue depth', bounds=(1, INT64_MAX)),
    'depth_encoding': Spec('32FC1', "'32FC1' (metres, NaN invalid) or '16UC1' (millimetres, "
                                    '0 invalid)'),
    'overlay_alpha': Spec(1.0, 'weight of the class colour in segmentation/color; below 1 '
                               'blends it over the camera image', read_only=False,
                          bounds=(0.0, 1.0)),
    'cloud_decimation': Spec(1, 'points: keep every n-th row and column', read_only=False,
                             bounds=(1, INT64_MAX)),
    'rectified_input': Spec(False, 'true: the images are rectified (image_rect), so points '
                                   'use camera_info P and no distortion; false: raw images, '
                                   'whose rays are undistorted with K and D'),
    'cloud_color': Spec('image', "points rgb field: 'image' (camera colour) or 'class'",
                        read_only=False),
    'deadline_ms': Spec(100.0, 'diagnostics WARN when the median receive-to-publish '
                               'latency exceeds it', read_only=False,
                        bounds=(0.0, math.inf)),
    'diagnostics_period': Spec(1.0, 'seconds between /diagnostics reports',
                               bounds=(0.0, math.inf)),
    'managed': Spec(False, 'true: wait for lifecycle transitions (configure loads the '
                           'model, activate subscribes); false: configure and activate at '
                           'start-up'),
    'executor': Spec('events', "'events': rclpy's C++ events executor (where this rclpy has "
                               'it; else the next), which leaves the CPU to inference; '
                               "'single_threaded': rclpy's Python executor"),
}


@dataclass(frozen=True)
class Settings:
    """Checked parameter values; see ``PARAMETERS`` for their meaning."""

    checkpoint: str
    cameras: tuple[str, ...]
    transports: dict[str, str]
    device: str
    engine: str
    precision: str
    auto_min_labels_agree_pct: float
    auto_max_depth_change_m: float
    input_size: str | tuple[int, int]
    num_threads: int
    max_pixels: int
    keep_memory_max_pixels: int
    retained_memory_mb: int
    input_qos: str
    input_depth: int
    output_qos: str
    output_depth: int
    depth_encoding: str
    overlay_alpha: float
    cloud_decimation: int
    rectified_input: bool
    cloud_color: str
    deadline_ms: float
    diagnostics_period: float
    managed: bool
    executor: str


def _fail(name: str, problem: str) -> None:
    raise ValueError(f'parameter {name}: {problem}')


def _one_of(values: dict[str, Any], name: str, choices: tuple[str, ...]) -> str:
    if values[name] not in choices:
        _fail(name, f'{values[name]!r} is not one of {", ".join(choices)}')
    return values[name]


def parameter_descriptor(spec: Spec) -> ParameterDescriptor:
    """Return the descriptor to declare ``spec`` with; its range (if any) fits the type."""
    result = ParameterDescriptor(description=spec.description, read_only=spec.read_only,
                                 dynamic_typing=spec.any_type)
    if spec.bounds is not None:
        low, high = spec.bounds
        if isinstance(spec.default, int):
            result.integer_range = [IntegerRange(from_value=low, to_value=high, step=0)]
        else:
            result.floating_point_range = [
                FloatingPointRange(from_value=low, to_value=high, step=0.0)]
    return result


def parse_input_size(text: str) -> str | tuple[int, int]:
    """Parse 'checkpoint', 'native' or '<height>x<width>' (see ``multitask_seg.input_size``)."""
    try:
        return input_size.parse_input_size(text)
    except ValueError as exc:
        _fail('input_size', str(exc))


def parse_settings(values: dict[str, Any]) -> Settings:
    """
    Check parameter values and return them as Settings.

    Values come from rclpy, which has already held them to the ranges of ``PARAMETERS``.

    :param values: every name of ``PARAMETERS`` plus '<camera>.transport' per camera.
        Whether the checkpoint file exists is configure's question (a managed node stays
        up and unconfigured without it), not this function's.

    :raises: ValueError: 'parameter <name>: <problem>' for the first bad value.
    """
    checkpoint = values['checkpoint']
    if not checkpoint:
        try:
            checkpoint = str(default_checkpoint())
        except FileNotFoundError:
            _fail('checkpoint', 'empty, and this installation bundles no model; set it to a '
                                'model file (.pt or .onnx), e.g. --ros-args -p '
                                'checkpoint:=/path/to/model.pt')
    cameras = values['cameras']
    if not isinstance(cameras, (list, tuple)) or not all(isinstance(c, str) for c in cameras):
        _fail('cameras', f'must be a list of camera names, got {cameras!r}')
    cameras = tuple(cameras)
    if not cameras:
        _fail('cameras', 'empty; name at least one camera')
    if len(set(cameras)) != len(cameras):
        _fail('cameras', f'names repeat in {list(cameras)}')
    for camera in cameras:
        if not CAMERA_NAME.match(camera):
            _fail('cameras', f'{camera!r} is not a valid name (letters, digits, _ and /)')
    transports = {camera: _one_of(values, f'{camera}.transport', TRANSPORTS)
                  for camera in cameras}
    # rclpy's ranges include their ends; these two must stay above 0.
    for name in ('deadline_ms', 'diagnostics_period'):
        if values[name] <= 0:
            _fail(name, f'must be positive, got {values[name]}')
    return Settings(
        checkpoint=checkpoint, cameras=cameras, transports=transports,
        device=values['device'], engine=_one_of(values, 'engine', ENGINES),
        precision=_one_of(values, 'precision', PRECISIONS),
        auto_min_labels_agree_pct=values['auto_min_labels_agree_pct'],
        auto_max_depth_change_m=values['auto_max_depth_change_m'],
        input_size=parse_input_size(values['input_size']),
        num_threads=values['num_threads'],
        max_pixels=values['max_pixels'],
        keep_memory_max_pixels=values['keep_memory_max_pixels'],
        retained_memory_mb=values['retained_memory_mb'],
        input_qos=_one_of(values, 'input_qos', QOS_NAMES),
        input_depth=values['input_depth'],
        output_qos=_one_of(values, 'output_qos', QOS_NAMES),
        output_depth=values['output_depth'],
        depth_encoding=_one_of(values, 'depth_encoding', DEPTH_ENCODINGS),
        overlay_alpha=values['overlay_alpha'],
        cloud_decimation=values['cloud_decimation'],
        rectified_input=values['rectified_input'],
        cloud_color=_one_of(values, 'cloud_color', CLOUD_COLORS),
        deadline_ms=values['deadline_ms'], diagnostics_period=values['diagnostics_period'],
        managed=values['managed'], executor=_one_of(values, 'executor', EXECUTORS))
