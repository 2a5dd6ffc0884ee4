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
Export a checkpoint to a self-describing ONNX file (``multitask_seg_export``).

The file has one input, 'image' (N, 3, H, W) float32 normalised as the checkpoint's info
says, and one output per task named after it: the raw network output (N, C, ceil(H/4),
ceil(W/4)), logits for segmentation and metres for depth. N, H and W are dynamic. The
checkpoint's ModelConfig and ModelInfo travel in the file's metadata_props.
"""

import argparse
from pathlib import Path
from typing import Sequence

import onnx
import torch
from torch import nn

from .atomic import atomic_path
from .checkpoint import load_checkpoint
from .inference.onnx_backend import description_metadata, INPUT_NAME
from .model.multitask import TaskTuple
from .stopping import stoppable

DEFAULT_OPSET = 18


def export_onnx(checkpoint: str | Path, output: str | Path,
                opset: int = DEFAULT_OPSET) -> Path:
    """
    Write ``checkpoint``'s network to ``output`` as ONNX, atomically; return the path.

    Uses the torch.export-based exporter (the TorchScript one is deprecated) with batch,
    height and width declared dynamic.
    """
    model, info, _ = load_checkpoint(checkpoint)
    for module in model.modules():
        # In-place activations cost torch.export's functionalisation pass ~40% more time.
        if isinstance(module, (nn.ReLU, nn.ReLU6)):
            module.inplace = False
    wrapper = TaskTuple(model).eval()
    # A batch of 2 keeps torch.export from specialising the batch size to 1.
    example = torch.randn(2, 3, 64, 64)
    dynamic = {0: torch.export.Dim.DYNAMIC, 2: torch.export.Dim.DYNAMIC,
               3: torch.export.Dim.DYNAMIC}
    program = torch.onnx.export(
        wrapper, (example,), dynamo=True, input_names=[INPUT_NAME], output_names=wrapper.tasks,
        dynamic_shapes={'image': dynamic}, opset_version=opset, verbose=False)
    proto = program.model_proto
    onnx.helper.set_model_props(proto, description_metadata(model.config, info))
    with atomic_path(output) as tmp:
        tmp.write_bytes(proto.SerializeToString())
    return Path(output)


@stoppable('multitask_seg_export')
def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (--checkpoint, --output, --opset), export, and return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', required=True, help='a multitask_seg .pt checkpoint')
    parser.add_argument('--output', required=True, help='the .onnx file to write')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset version (default {DEFAULT_OPSET})')
    args = parser.parse_args(argv)
    if Path(args.output).suffix.lower() != '.onnx':
        parser.error(f'--output {args.output}: the Predictor needs the .onnx extension')
    path = export_onnx(args.checkpoint, args.output, args.opset)
    print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
