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
Per-task losses that skip what a sample lacks; ``multitask_seg.tasks`` names each task's.

Targets come at the image's resolution and the network's outputs at a quarter of it: each
loss upsamples the output bilinearly to the target, as the authors' training did. Missing
annotations are marked, never zero-filled: segmentation 255, depth 0 (or NaN), normals all 0.
"""

from typing import Mapping

from multitask_seg.tasks import IGNORE_LABEL, TASKS
import torch
import torch.nn.functional as F


def _to(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    size = target.shape[-2:]
    if output.shape[-2:] == size:
        return output
    return F.interpolate(output, size=size, mode='bilinear', align_corners=False)


def _nothing(output: torch.Tensor) -> torch.Tensor:
    # A zero that still depends on the output, so every parameter gets a (zero) gradient and
    # DistributedDataParallel sees the same graph on every rank.
    return output.sum() * 0.0


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """
    Cross-entropy over labelled pixels.

    :param logits: (N, C, h, w) class scores.
    :param target: (N, H, W) int64 class ids, 255 = ignore.
    """
    if not (target != IGNORE_LABEL).any():
        return _nothing(logits)
    return F.cross_entropy(_to(logits, target).float(), target, ignore_index=IGNORE_LABEL)


def berhu_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """
    Inverse Huber (berHu) over pixels with valid depth.

    L1 below c and (e^2 + c^2) / 2c above, with c = 0.2 x the batch's largest error: small
    errors keep L1's steady pull, large ones a quadratic one.

    :param pred: (N, 1, h, w) depth in metres.
    :param target: (N, H, W) depth in metres; 0 or NaN = invalid.
    """
    valid = torch.isfinite(target) & (target > 0)
    if not valid.any():
        return _nothing(pred)
    error = (_to(pred, target[:, None])[:, 0].float() - target)[valid].abs()
    c = (0.2 * error.max()).detach().clamp(min=1e-6)
    return torch.where(error <= c, error, (error ** 2 + c ** 2) / (2 * c)).mean()


def normals_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """
    Mean of 1 - cosine similarity over pixels with a target normal.

    :param pred: (N, 3, h, w) unit normals.
    :param target: (N, 3, H, W) unit normals; all-zero = invalid (e.g. no depth there).
    """
    valid = target.abs().sum(1) > 0
    if not valid.any():
        return _nothing(pred)
    cosine = F.cosine_similarity(_to(pred, target).float(), target, dim=1)
    return (1 - cosine[valid]).mean()


# By the loss names of the task registry.
LOSSES = {'cross_entropy': segmentation_loss, 'berhu': berhu_loss, 'cosine': normals_loss}


def multitask_loss(outputs: Mapping[str, torch.Tensor], targets: Mapping[str, torch.Tensor],
                   weights: Mapping[str, float]) -> tuple[torch.Tensor, dict[str, float]]:
    """
    Weighted sum of the task losses of one batch.

    :param outputs: {task: network output}, as MultiTaskNet returns.
    :param targets: {task: target}; a task absent here (no sample of the batch has it)
        contributes nothing.
    :param weights: {task: loss weight}.
    :return: (total loss, {task: its unweighted value, for logging}).
    """
    total = sum(_nothing(out) for out in outputs.values())
    parts = {}
    for task, output in outputs.items():
        if task not in targets:
            continue
        loss = LOSSES[TASKS[task].loss](output, targets[task])
        parts[task] = float(loss.detach())
        total = total + weights.get(task, 1.0) * loss
    return total, parts
