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

"""Static int8 quantisation of an export with ONNX Runtime (QDQ, per-channel weights)."""

from pathlib import Path
from typing import Iterable

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      quantize_static, QuantType)

from ..inference.onnx_backend import INPUT_NAME


class _Batches(CalibrationDataReader):

    def __init__(self, batches: Iterable[np.ndarray]) -> None:
        self.batches = iter(batches)

    def get_next(self) -> dict[str, np.ndarray] | None:
        batch = next(self.batches, None)
        return None if batch is None else {INPUT_NAME: batch}


def quantize_int8(source: Path, target: Path, calibration: Iterable[np.ndarray]) -> Path:
    """
    Write an int8 copy of the float32 export ``source`` to ``target``; return it.

    Activation ranges come from min/max over ``calibration``, (N, 3, H, W) float32 batches
    normalised like the network's input. The heads' last convolutions stay float32: the
    outputs keep full resolution in value, and int8 was slower there (one output channel).
    The export's description (metadata_props) is carried over.
    """
    model = onnx.load(str(source))
    outputs = {o.name for o in model.graph.output}
    keep_float = [n.name for n in model.graph.node if outputs.intersection(n.output)]
    quantize_static(str(source), str(target), _Batches(calibration),
                    quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax, nodes_to_exclude=keep_float)
    quantized = onnx.load(str(target))
    onnx.helper.set_model_props(
        quantized, {p.key: p.value for p in model.metadata_props})
    onnx.save(quantized, str(target))
    return Path(target)
