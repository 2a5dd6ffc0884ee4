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
NNCF int8 quantisation of an OpenVINO IR, plain or aimed at the precision gate.

Plain post-training quantisation of the bundled model loses too much (96 % labels
agreeing with fp32 at its training size, 9 cm mean depth change). Measured by hand, the
error sits in the first encoder layers, but which layers matter is a property of each
model, so ``quantise_to_gate`` lets NNCF's accuracy control find them: it quantises
everything, then keeps the operations whose quantisation costs most in float until the
model is back within ``margin`` of the gate on validation frames. Validation frames must
not be the frames the figures are later measured on.

NNCF is needed here only (``requirements/export.txt``), never by the node.
"""

from pathlib import Path
from typing import Sequence

import numpy as np

from .inference.openvino_backend import core, FLOAT_PARTS_KEY, QUANTISED_KEY
from .inference.openvino_ir import save_ir
from .inference.precision_gate import Gate


def quantise_batches(fp32: Path, target: Path, batches: Sequence[np.ndarray]) -> Path:
    """Write the plain NNCF int8 model of the IR ``fp32``; ``batches``: normalised NCHW."""
    import nncf

    model = core().read_model(str(fp32))
    quantised = nncf.quantize(model, nncf.Dataset(list(batches)), subset_size=len(batches),
                              preset=nncf.QuantizationPreset.MIXED)
    return save_quantised(model, quantised, target, 'f32')


def gate_score(agree_pct: float | None, depth_mean_abs_m: float | None, gate: Gate) -> float:
    """
    Return how far figures sit inside ``gate``: 1 for fp32 itself, 0 on the gate, < 0 out.

    Each limit counts as a share of its slack (labels: 100 % - the least agreement;
    depth: the largest change), so neither unit dominates; the worse of the two counts.
    """
    scores = []
    if agree_pct is not None:
        slack = 100.0 - gate.min_labels_agree_pct
        scores.append((agree_pct - gate.min_labels_agree_pct) / slack if slack > 0 else
                      (0.0 if agree_pct >= 100.0 else -1.0))
    if depth_mean_abs_m is not None:
        limit = gate.max_depth_mean_abs_m
        scores.append((limit - depth_mean_abs_m) / limit if limit > 0 else
                      (0.0 if depth_mean_abs_m <= 0 else -1.0))
    return min(scores) if scores else 1.0


class GateValidation:
    """
    NNCF's validation function: the gate score of a compiled model against fp32 outputs.

    Validation items are indices into ``batches``. Outputs are compared at the network's
    input size, as the deploy graph makes them (bilinear, half-pixel): labels as the argmax
    of the upsampled logits, depth in metres clamped to ``depth_range``. Compared at the
    output's quarter resolution, a randomised test network scored 0.81 where its labels
    and depth at full size scored 0.66.
    """

    def __init__(self, fp32_model, batches: Sequence[np.ndarray], gate: Gate,
                 depth_range: Sequence[float], threads: int | None) -> None:
        self.batches, self.gate, self.depth_range = list(batches), gate, depth_range
        options = {'INFERENCE_PRECISION_HINT': 'f32'}
        if threads:
            options['INFERENCE_NUM_THREADS'] = int(threads)
        compiled = core().compile_model(fp32_model, 'CPU', options)
        self.reference = [self._outputs(compiled, batch) for batch in self.batches]

    def _outputs(self, compiled, batch: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        from .tasks import upsample

        found = {}
        for output, value in compiled(batch).items():
            name = output.get_any_name()
            if name not in ('segmentation', 'depth'):
                continue
            value = upsample(torch.from_numpy(np.ascontiguousarray(value)), batch.shape[2:])
            found[name] = (value.argmax(1) if name == 'segmentation' else
                           value.clamp(*self.depth_range)).numpy()
        return found

    def item_figures(self, compiled, index: int) -> tuple[float | None, float | None]:
        """Return (labels agreeing %, mean abs depth change m) of one validation item."""
        reference, outputs = self.reference[index], self._outputs(compiled, self.batches[index])
        agree = depth = None
        if 'segmentation' in reference:
            agree = float(np.mean(outputs['segmentation'] == reference['segmentation'])) * 100
        if 'depth' in reference:
            depth = float(np.mean(np.abs(outputs['depth'] - reference['depth'])))
        return agree, depth

    def __call__(self, compiled, items) -> tuple[float, list[float]]:
        figures = [self.item_figures(compiled, int(index)) for index in items]
        agree = [a for a, _ in figures if a is not None]
        depth = [d for _, d in figures if d is not None]
        overall = gate_score(float(np.mean(agree)) if agree else None,
                             float(np.mean(depth)) if depth else None, self.gate)
        return overall, [gate_score(a, d, self.gate) for a, d in figures]


def quantise_to_gate(fp32: Path, target: Path, calibration: Sequence[np.ndarray],
                     validation: Sequence[np.ndarray], gate: Gate, margin: float,
                     depth_range: Sequence[float], float_parts: str,
                     threads: int | None = None, ranking_items: int = 10) -> Path:
    """
    Write the int8 model of ``fp32`` that keeps in float what the gate needs.

    :param calibration, validation: normalised NCHW float32 batches (any sizes).
    :param margin: the gate score (see ``gate_score``) to reach on ``validation``: 0 is
        the gate itself; 0.5 leaves half of each limit's slack for frames not seen here and
        for the float parts' own rounding.
    :param float_parts: 'bf16' or 'f32', what the unquantised operations run as; stored
        in the model so the backend runs it as it was measured. (NNCF steers with f32; the
        margin covers bf16's own rounding: 0.2 points of labels for the bundled model.)
    :param ranking_items: validation items NNCF ranks the operations on (each ranking
        runs the model once per quantised operation on them: 115 for the bundled model).
    """
    import nncf

    model = core().read_model(str(fp32))
    validate = GateValidation(model, validation, gate, depth_range, threads)
    quantised = nncf.quantize_with_accuracy_control(
        model, nncf.Dataset(list(calibration)),
        # Items are indices (the validation function needs to know which frame it sees);
        # the transform gives NNCF the input itself where it runs the model on its own.
        nncf.Dataset(list(range(len(validate.batches))), lambda index: validate.batches[index]),
        validate, max_drop=1.0 - margin, preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(calibration),
        advanced_accuracy_restorer_parameters=nncf.AdvancedAccuracyRestorerParameters(
            ranking_subset_size=min(ranking_items, len(validation))))
    return save_quantised(model, quantised, target, float_parts)


def save_quantised(model, quantised, target: Path, float_parts: str) -> Path:
    """Write ``quantised`` as ``target`` with ``model``'s description, marked int8."""
    for key in model.get_rt_info().keys():
        quantised.set_rt_info(model.get_rt_info([key]).astype(str), [key])
    quantised.set_rt_info('int8', [QUANTISED_KEY])
    quantised.set_rt_info(float_parts, [FLOAT_PARTS_KEY])
    return save_ir(quantised, target)
