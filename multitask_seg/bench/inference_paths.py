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
from ..inference.torch_backend import TorchBackend

# The first, float32 PyTorch, is the reference the others' outputs are compared with.
PATHS = ('torch_channels_last', 'torch_contiguous', 'torch_bf16', 'onnxruntime',
         'onnxruntime_int8')
REDUCED_PRECISION = ('torch_bf16', 'onnxruntime_int8')


def open_path(name: str, files: dict[str, Path], threads: int) -> Any:
    """
    Return the backend for path ``name``.

    ``files`` maps 'pt' to a checkpoint and, for the ONNX paths, 'onnx' and 'onnx_int8'
    to its float32 and int8 exports.
    """
    if name == 'torch_channels_last':
        return TorchBackend(files['pt'], channels_last=True)
    if name == 'torch_contiguous':
        return TorchBackend(files['pt'], channels_last=False)
    if name == 'torch_bf16':
        return TorchBackend(files['pt'], precision='bf16')
    if name == 'onnxruntime':
        return OnnxBackend(files['onnx'], num_threads=threads)
    if name == 'onnxruntime_int8':
        return OnnxBackend(files['onnx_int8'], num_threads=threads)
    raise ValueError(f'unknown path {name!r}; known: {PATHS}')
