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
Convert a checkpoint to a self-describing OpenVINO IR (.xml + .bin).

The IR has one input, 'image' (N, 3, H, W) float32 normalised as the checkpoint's info says
(N, H and W dynamic; the backend fixes them per compile), one output per task named after
it, and the ModelConfig and ModelInfo as JSON in its rt_info, as an ONNX export has them in
its metadata. Weights stay float32: precision is chosen when compiling.
"""

from pathlib import Path

import torch

from .onnx_backend import description_metadata, INPUT_NAME
from .openvino_backend import QUANTISED_KEY
from ..atomic import atomic_path
from ..checkpoint import load_checkpoint
from ..model import MultiTaskNet
from ..model.multitask import TaskTuple


def convert_network(model: MultiTaskNet):
    """Return ``model`` as an openvino.Model with named inputs and outputs (not described)."""
    return convert_task_tuple(TaskTuple(model).eval())


def convert_task_tuple(wrapper: torch.nn.Module):
    """
    Convert a module answering a tuple in ``wrapper.tasks`` order, naming what it has.

    A TaskTuple, or one NNCF has fake-quantised (``qat``).
    """
    import openvino as ov

    example = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        converted = ov.convert_model(wrapper, example_input=example,
                                     input=[(INPUT_NAME, ov.PartialShape([-1, 3, -1, -1]))])
    converted.inputs[0].get_tensor().set_names({INPUT_NAME})
    for output, name in zip(converted.outputs, wrapper.tasks):
        output.get_tensor().set_names({name})
    return converted


def describe(model, config, info, quantised: str = 'none') -> None:
    """Write the self-description into an openvino.Model's rt_info."""
    for key, value in {**description_metadata(config, info), QUANTISED_KEY: quantised}.items():
        model.set_rt_info(value, [key])


def save_ir(model, output: str | Path) -> Path:
    """Write an openvino.Model as ``output`` (.xml) and its .bin, each atomically."""
    import openvino as ov

    output = Path(output)
    with atomic_path(output) as xml, atomic_path(output.with_suffix('.bin')) as weights:
        staged = xml.with_suffix('.xml')
        ov.save_model(model, str(staged), compress_to_fp16=False)
        staged.with_suffix('.bin').replace(weights)
        staged.replace(xml)
    return output


def convert_checkpoint(checkpoint: str | Path, output: str | Path) -> Path:
    """Convert ``checkpoint`` to the IR ``output`` (.xml, .bin beside it); return the path."""
    network, info, _ = load_checkpoint(checkpoint)
    converted = convert_network(network)
    describe(converted, network.config, info)
    return save_ir(converted, output)
