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

"""Losses count only what a sample has, and match hand computations."""

from distill.losses import (
    berhu_loss, multitask_loss, normals_loss, segmentation_loss)
import pytest
import torch
import torch.nn.functional as F


def test_berhu_by_hand():
    pred = torch.tensor([[[[1.0, 2.0], [3.0, 9.0]]]])
    target = torch.tensor([[[1.5, 2.0], [0.0, 4.0]]])  # the 0 is invalid
    # Errors 0.5, 0, 5; c = 1: 0.5 -> 0.5, 0 -> 0, 5 -> (25 + 1) / 2 = 13.
    assert berhu_loss(pred, target).item() == pytest.approx((0.5 + 0 + 13) / 3)


def test_segmentation_ignores_255_and_upsamples():
    logits = torch.randn(2, 4, 3, 3, requires_grad=True)
    target = torch.full((2, 12, 12), 255, dtype=torch.long)
    target[0, :6] = 2
    expected = F.cross_entropy(
        F.interpolate(logits, size=(12, 12), mode='bilinear', align_corners=False)[0, :, :6]
        .reshape(4, -1).T, torch.full((72,), 2))
    assert segmentation_loss(logits, target).item() == pytest.approx(expected.item(), rel=1e-5)


def test_missing_everywhere_gives_zero_with_gradient_path():
    logits = torch.randn(1, 3, 4, 4, requires_grad=True)
    depth = torch.randn(1, 1, 4, 4, requires_grad=True)
    normals = torch.randn(1, 3, 4, 4, requires_grad=True)
    losses = [segmentation_loss(logits, torch.full((1, 8, 8), 255)),
              berhu_loss(depth, torch.zeros(1, 8, 8)),
              berhu_loss(depth, torch.full((1, 8, 8), float('nan'))),
              normals_loss(normals, torch.zeros(1, 3, 8, 8))]
    for loss in losses:
        assert loss.item() == 0.0
        loss.backward()
    assert logits.grad is not None and not logits.grad.any()


def test_normals_perfect_and_opposite():
    n = F.normalize(torch.randn(1, 3, 4, 4), dim=1)
    assert normals_loss(n, n).item() == pytest.approx(0.0, abs=1e-6)
    assert normals_loss(n, -n).item() == pytest.approx(2.0, abs=1e-6)


def test_multitask_weights_and_absent_task():
    outputs = {'segmentation': torch.randn(2, 3, 4, 4, requires_grad=True),
               'depth': torch.rand(2, 1, 4, 4, requires_grad=True) + 1}
    depth = torch.rand(2, 4, 4) + 1
    total, parts = multitask_loss(outputs, {'depth': depth}, {'segmentation': 0.5, 'depth': 2})
    assert set(parts) == {'depth'}
    assert total.item() == pytest.approx(2 * berhu_loss(outputs['depth'], depth).item())
    total.backward()
    assert outputs['segmentation'].grad is not None
