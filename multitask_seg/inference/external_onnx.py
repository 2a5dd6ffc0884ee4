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
Run a foreign ONNX model (e.g. a large teacher from elsewhere) described by a small YAML.

    onnx: teacher.onnx            # relative to this file
    input_name: pixels            # (N, 3, H, W) float32, normalised with mean/std
    outputs: {segmentation: logits, depth: depth}   # NCHW, any resolution
    classes: [wall, floor, ...]   # one per logit channel
    colors: [[r, g, b], ...]      # optional
    mean: [0.485, 0.456, 0.406]   # optional, of RGB in [0, 1]
    std: [0.229, 0.224, 0.225]
    input_size: [480, 640]        # optional: resize to this; null = each image's size
    depth_scale: 1.0              # metres per unit of the depth output
    depth_range: [0.0, 10.0]
"""

from dataclasses import dataclass, field
from pathlib import Path

import torch

from .onnx_backend import open_session
from ..checkpoint import CheckpointError, default_info, IMAGENET_MEAN, IMAGENET_STD
from ..config_io import load_config
from ..model import ModelConfig


@dataclass
class ExternalOnnx:
    """The YAML description of a foreign ONNX model (see the module docstring)."""

    onnx: str
    input_name: str
    outputs: dict[str, str]
    classes: list[str] = field(default_factory=list)
    colors: list[list[int]] | None = None
    mean: list[float] = field(default_factory=lambda: list(IMAGENET_MEAN))
    std: list[float] = field(default_factory=lambda: list(IMAGENET_STD))
    input_size: list[int] | None = None
    depth_scale: float = 1.0
    depth_range: list[float] = field(default_factory=lambda: [0.0, 80.0])

    def validate(self) -> None:
        """Raise ValueError when the description cannot work."""
        if not self.outputs:
            raise ValueError('outputs: name at least one task output')
        if 'segmentation' in self.outputs and not self.classes:
            raise ValueError('classes: a segmentation output needs its class names')


class ExternalOnnxBackend:
    """
    A foreign ONNX model behind the same interface as the package's own backends.

    :param path: the YAML description.
    :param device: 'cpu' or 'cuda[:N]'.
    :param precision: 'fp32' only (the file's own types decide).
    :param num_threads: intra-op CPU threads.
    """

    def __init__(self, path: str | Path, device: str = 'cpu', precision: str = 'fp32',
                 num_threads: int | None = None) -> None:
        if precision != 'fp32':
            raise ValueError(f"a foreign ONNX model runs as exported; precision must be 'fp32',"
                             f' got {precision!r}')
        path = Path(path)
        described = load_config(ExternalOnnx, path)
        onnx_path = path.parent / described.onnx
        if not onnx_path.is_file():
            raise FileNotFoundError(f'{path}: ONNX file {onnx_path} does not exist')
        self.session = open_session(onnx_path, device, num_threads)
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        missing = [n for n in [described.input_name, *described.outputs.values()]
                   if n not in inputs + outputs]
        if missing:
            raise CheckpointError(f'{path}: {onnx_path.name} has no tensor(s) {missing}; '
                                  f'inputs {inputs}, outputs {outputs}')
        tasks = {task: len(described.classes) if task == 'segmentation' else
                 {'depth': 1, 'normals': 3}.get(task, 0) for task in described.outputs}
        self.config = ModelConfig(encoder=f'external:{onnx_path.name}', tasks=tasks)
        self.config.validate()
        info = {'mean': described.mean, 'std': described.std,
                'input_size': described.input_size, 'depth_range': described.depth_range,
                'provenance': {'onnx': str(onnx_path)}}
        if described.colors is not None:
            info['colors'] = described.colors
        if described.classes:
            info['classes'] = described.classes
        self.info = default_info(self.config, **info)
        self.info.check(self.config)
        self.described = described

    def __call__(self, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """Map a (N, 3, h, w) float32 CPU batch to {task: (N, C, h', w') float32 CPU}."""
        names = list(self.described.outputs.values())
        arrays = self.session.run(names, {self.described.input_name: batch.numpy()})
        outputs = {task: torch.from_numpy(array).float()
                   for task, array in zip(self.described.outputs, arrays)}
        if 'depth' in outputs:
            outputs['depth'] = outputs['depth'] * self.described.depth_scale
        return outputs
