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
Run an .onnx export of a checkpoint with ONNX Runtime on the CPU or a CUDA device.

An export describes itself like a checkpoint: its metadata_props hold the ModelConfig and
ModelInfo as JSON under ``MODEL_KEY`` and ``INFO_KEY`` (see ``multitask_seg.export``).
"""

from dataclasses import asdict
import json
from pathlib import Path

import dacite
import numpy as np
import torch

from ..checkpoint import CheckpointError, ModelInfo
from ..model import ModelConfig

MODEL_KEY = 'multitask_seg.model'
INFO_KEY = 'multitask_seg.info'
INPUT_NAME = 'image'


def description_metadata(config: ModelConfig, info: ModelInfo) -> dict[str, str]:
    """Return the metadata_props entries that make an export self-describing."""
    return {MODEL_KEY: json.dumps(asdict(config)), INFO_KEY: json.dumps(asdict(info))}


def description_from_metadata(metadata: dict[str, str],
                              path: str | Path) -> tuple[ModelConfig, ModelInfo]:
    """Parse and check ``description_metadata``'s entries; CheckpointError names ``path``."""
    if MODEL_KEY not in metadata or INFO_KEY not in metadata:
        raise CheckpointError(f'{path} has no {MODEL_KEY!r} / {INFO_KEY!r} metadata: it was '
                              f'not written by multitask_seg_export')
    strict = dacite.Config(strict=True)
    try:
        config = dacite.from_dict(ModelConfig, json.loads(metadata[MODEL_KEY]), config=strict)
        config.validate()
        info = dacite.from_dict(ModelInfo, json.loads(metadata[INFO_KEY]), config=strict)
        info.check(config)
    except (ValueError, dacite.DaciteError) as exc:
        raise CheckpointError(f'{path} has an invalid description: {exc}') from exc
    return config, info


class OnnxBackend:
    """
    An exported network in an ONNX Runtime session, ready for normalised image batches.

    :param path: an .onnx file written by ``multitask_seg.export``.
    :param device: 'cpu', 'cuda' or 'cuda:N' (needs onnxruntime-gpu).
    :param precision: 'fp32' only: the file's own types decide (an int8-quantised export
        runs as int8); reduced precision is chosen when exporting, not here.
    :param num_threads: intra-op CPU threads (None: ONNX Runtime's default, one per core).
    """

    def __init__(self, path: str | Path, device: str = 'cpu', precision: str = 'fp32',
                 num_threads: int | None = None) -> None:
        if precision != 'fp32':
            raise ValueError(f'the ONNX backend runs the file as exported; precision must be '
                             f"'fp32', got {precision!r}")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f'ONNX model {path} does not exist')
        self.session = open_session(path, device, num_threads)
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.config, self.info = description_from_metadata(metadata, path)
        self.output_names = [o.name for o in self.session.get_outputs()]
        if sorted(self.output_names) != sorted(self.config.tasks):
            raise CheckpointError(f'{path}: outputs {self.output_names} do not match the '
                                  f'described tasks {list(self.config.tasks)}')

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Map a (N, 3, h, w) float32 CPU batch to {task: (N, C, h/4, w/4) float32 CPU}."""
        image = np.ascontiguousarray(batch.detach().cpu().numpy(), dtype=np.float32)
        outputs = self.session.run(self.output_names, {INPUT_NAME: image})
        return {name: torch.from_numpy(out) for name, out in zip(self.output_names, outputs)}


def open_session(path: Path, device: str, num_threads: int | None):
    """Open an ONNX Runtime session with every graph optimisation; errors name the file."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if num_threads:
        options.intra_op_num_threads = num_threads
    try:
        return ort.InferenceSession(
            str(path), options, providers=_providers(torch.device(device), ort))
    except Exception as exc:  # ORT reports a bad file as several exception types
        raise CheckpointError(f'{path} is not a loadable ONNX model: {exc}') from exc


def _providers(device: torch.device, ort) -> list:
    if device.type == 'cpu':
        return ['CPUExecutionProvider']
    if device.type != 'cuda':
        raise ValueError(f"device must be 'cpu' or 'cuda[:N]', got {device}")
    if 'CUDAExecutionProvider' not in ort.get_available_providers():
        raise ValueError(f'device {device} asked for, but this onnxruntime has no CUDA '
                         f'provider (install onnxruntime-gpu)')
    return [('CUDAExecutionProvider', {'device_id': device.index or 0}),
            'CPUExecutionProvider']
