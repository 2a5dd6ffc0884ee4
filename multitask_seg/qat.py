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
Quantisation-aware training (QAT) of a checkpoint's network for OpenVINO int8.

Post-training int8 leaves the bundled model at 95-96 % of fp32's labels and 8-30 cm of
depth change, with the error spread through the network (keeping layers float did not
fix it: README, Benchmark). Here NNCF puts its fake quantisers into the PyTorch network
(``nncf.quantize``, calibrated on the first frames), and the network is fine-tuned with
them in place to answer as the fp32 network does: its logits (squared error plus KL
divergence) and its depth in metres (L1, clamped to the model's range). That is
self-distillation, so the user's frames need no labels. The int8 IR is then exported
(``ov.convert_model``); ``optimize`` measures it against the fp32 model on held-out frames
it never trained on, as every precision is.

A run can be stopped and started again: each ``save_every`` steps, and at a stop signal
after the step in progress, the student's and optimiser's state and the random state go
to one file (written atomically); a run with the same checkpoint, frames and settings
continues from there (to as many steps as it now asks), and one whose inputs differ
starts afresh. NNCF and its PyTorch path are needed here only (requirements/export.txt),
never by the node.
"""

import copy
from dataclasses import asdict, dataclass
import hashlib
import json
import logging
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .atomic import atomic_path
from .checkpoint import load_checkpoint
from .inference.model_cache import content_hash
from .inference.preprocess import pixel_statistics, to_network_input
from .model.multitask import TaskTuple
from .stopping import GracefulStop, Stopped

logger = logging.getLogger(__name__)
# Frames NNCF sets its quantisers' ranges on, at every training size.
CALIBRATION_FRAMES = 50


@dataclass(frozen=True)
class QatSettings:
    """
    How the fake-quantised network is fine-tuned.

    :ivar steps: optimiser steps in all.
    :ivar lr: Adam's learning rate (1e-4 diverged on the bundled model; 1e-5 improved it
        steadily).
    :ivar sizes: network input sizes (height, width), one per step in turn.
    :ivar batch_pixels: network input pixels per step (8 frames at 120x160).
    :ivar depth_weight: the depth L1's weight against the logits' terms.
    :ivar save_every: steps between saved states.
    :ivar seed: frames, flips and order.
    """

    steps: int = 2000
    lr: float = 1e-5
    sizes: tuple[tuple[int, int], ...] = ((120, 160), (240, 320))
    batch_pixels: int = 8 * 120 * 160
    depth_weight: float = 5.0
    save_every: int = 100
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.save_every < 1 or self.batch_pixels < 1:
            raise ValueError(f'QAT steps, save_every and batch_pixels must be >= 1: {self}')
        if not self.lr > 0:
            raise ValueError(f'QAT learning rate must be > 0, got {self.lr}')
        if not self.sizes or any(min(size) < 1 for size in self.sizes):
            raise ValueError(f'QAT sizes must be (height, width) pairs >= 1, got {self.sizes}')


def run_key(checkpoint: Path, images: Sequence[np.ndarray], settings: QatSettings) -> str:
    """
    Return what a saved state must match to be continued: inputs and settings.

    Not the number of steps (nor how often to save): a stopped run may be continued to
    more steps than first asked, the learning rate being constant.
    """
    digest = hashlib.sha256(content_hash(checkpoint).encode())
    for image in images:
        digest.update(np.ascontiguousarray(image).data)
    kept = {k: v for k, v in asdict(settings).items() if k not in ('steps', 'save_every')}
    digest.update(json.dumps(kept).encode())
    return digest.hexdigest()


def fine_tune(checkpoint: Path, images: Sequence[np.ndarray], settings: QatSettings,
              state_path: Path, on_step: Callable[[int, float], None] | None = None):
    """
    Return the fake-quantised network of ``checkpoint`` fine-tuned on ``images``.

    :param images: (H, W, 3) uint8 RGB frames (never the ones measured on).
    :param state_path: where the run's state is saved and, if it matches, resumed from.
    :param on_step: called with (step, loss) after each step.
    :raises Stopped: at a stop signal, once the finished steps are saved.
    """
    import nncf

    network, info, _ = load_checkpoint(checkpoint)
    teacher = TaskTuple(network.float().eval()).eval()
    mean, std = pixel_statistics(info.mean, info.std)
    calibration = [to_network_input([image], size, mean, std)
                   for image in images[:CALIBRATION_FRAMES] for size in settings.sizes]
    student = nncf.quantize(TaskTuple(copy.deepcopy(teacher.model)).eval(),
                            nncf.Dataset(calibration), subset_size=len(calibration),
                            preset=nncf.QuantizationPreset.MIXED)
    # Eval mode throughout: BatchNorm keeps the fp32 network's statistics.
    student.eval()
    optimiser = torch.optim.Adam([p for p in student.parameters() if p.requires_grad],
                                 lr=settings.lr)
    rng = np.random.default_rng(settings.seed)
    key = run_key(checkpoint, images, settings)
    done = _resume(state_path, key, student, optimiser, rng)
    low, high = info.depth_range
    tasks = list(teacher.tasks)

    def save(step: int) -> None:
        with atomic_path(state_path) as staged:
            torch.save({'key': key, 'step': step, 'student': student.state_dict(),
                        'optimiser': optimiser.state_dict(),
                        'rng': json.dumps(rng.bit_generator.state)}, staged)

    with GracefulStop() as stop:
        for step in range(done + 1, settings.steps + 1):
            size = settings.sizes[(step - 1) % len(settings.sizes)]
            count = max(1, settings.batch_pixels // (size[0] * size[1]))
            chosen = rng.integers(0, len(images), count)
            flips = rng.random(count) < 0.5
            batch = to_network_input([np.ascontiguousarray(images[i][:, ::-1] if flip else
                                                           images[i])
                                      for i, flip in zip(chosen, flips)], size, mean, std)
            with torch.no_grad():
                targets = dict(zip(tasks, teacher(batch)))
            outputs = dict(zip(tasks, student(batch)))
            loss = _distillation_loss(outputs, targets, low, high, settings.depth_weight)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if on_step is not None:
                on_step(step, float(loss))
            if step % settings.save_every == 0 or step == settings.steps:
                save(step)
            if stop.signum is not None:
                save(step)
                raise Stopped(stop.signum)
    return student


def _distillation_loss(outputs: dict, targets: dict, low: float, high: float,
                       depth_weight: float) -> torch.Tensor:
    loss = outputs[next(iter(outputs))].new_zeros(())
    for task, out in outputs.items():
        target = targets[task]
        if task == 'segmentation':
            pixels = out.shape[2] * out.shape[3]
            loss = loss + F.mse_loss(out, target) + F.kl_div(
                out.log_softmax(1), target.log_softmax(1), log_target=True,
                reduction='batchmean') / pixels
        elif task == 'depth':
            loss = loss + depth_weight * (out.clamp(low, high) -
                                          target.clamp(low, high)).abs().mean()
        else:
            loss = loss + F.mse_loss(out, target)
    return loss


def _resume(state_path: Path, key: str, student, optimiser, rng) -> int:
    # The steps a matching saved state has done (0: none, or it was another run's).
    if not state_path.is_file():
        return 0
    state = torch.load(state_path, map_location='cpu', weights_only=True)
    if state.get('key') != key:
        logger.warning('%s is from another QAT run (checkpoint, frames or settings differ): '
                       'starting afresh', state_path)
        return 0
    student.load_state_dict(state['student'])
    optimiser.load_state_dict(state['optimiser'])
    rng.bit_generator.state = json.loads(state['rng'])
    logger.info('resuming QAT from step %d (%s)', state['step'], state_path)
    return int(state['step'])


def export_int8(student, fp32_ir: Path, target: Path, float_parts: str) -> Path:
    """Write the fine-tuned network as the int8 IR ``target``, described as ``fp32_ir`` is."""
    from .inference.openvino_backend import core
    from .inference.openvino_ir import convert_task_tuple
    from .quantise import save_quantised

    return save_quantised(core().read_model(str(fp32_ir)), convert_task_tuple(student.eval()),
                          target, float_parts)
