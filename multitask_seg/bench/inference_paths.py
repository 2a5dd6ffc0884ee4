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

"""The CPU inference paths a Predictor can take, by name, for the benchmark."""

from pathlib import Path
from typing import Any

from ..inference.onnx_backend import OnnxBackend
from ..inference.openvino_backend import cpu_capabilities, OpenVinoBackend
from ..inference.torch_backend import TorchBackend

# The first, float32 PyTorch, is the reference the others' outputs are compared with.
PATHS = ('torch_channels_last', 'torch_contiguous', 'torch_bf16', 'onnxruntime_fp32',
         'onnxruntime_int8', 'openvino_fp32', 'openvino_bf16', 'openvino_int8')
REDUCED_PRECISION = ('torch_bf16', 'onnxruntime_int8', 'openvino_bf16', 'openvino_int8')


def available_paths() -> tuple[str, ...]:
    """Return PATHS less those this CPU cannot run (OpenVINO bf16 without bf16 support)."""
    skip = () if 'BF16' in cpu_capabilities() else ('openvino_bf16',)
    return tuple(name for name in PATHS if name not in skip)


def open_path(name: str, files: dict[str, Path], threads: int) -> Any:
    """
    Return the backend for path ``name``.

    ``files`` maps 'pt' to a checkpoint and, for the ONNX paths, 'onnx' and 'onnx_int8'
    to its float32 and int8 exports; for the OpenVINO paths 'openvino' and 'openvino_int8'
    to its IR and the NNCF-quantised IR.
    """
    if name == 'torch_channels_last':
        return TorchBackend(files['pt'], channels_last=True)
    if name == 'torch_contiguous':
        return TorchBackend(files['pt'], channels_last=False)
    if name == 'torch_bf16':
        return TorchBackend(files['pt'], precision='bf16')
    if name == 'onnxruntime_fp32':
        return OnnxBackend(files['onnx'], num_threads=threads)
    if name == 'onnxruntime_int8':
        return OnnxBackend(files['onnx_int8'], num_threads=threads)
    if name in ('openvino_fp32', 'openvino_bf16'):
        return OpenVinoBackend(files['openvino'], precision=name.split('_')[1],
                               num_threads=threads)
    if name == 'openvino_int8':
        return OpenVinoBackend(files['openvino_int8'], precision='int8', num_threads=threads)
    raise ValueError(f'unknown path {name!r}; known: {PATHS}')
