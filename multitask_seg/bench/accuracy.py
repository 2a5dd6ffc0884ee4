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

"""What a reduced-precision path changes in the outputs, against the float32 reference."""

import torch


def output_differences(reference: dict[str, torch.Tensor],
                       candidate: dict[str, torch.Tensor]) -> dict[str, float]:
    """
    Compare two backends' raw outputs for the same (N, 3, h, w) batch.

    Returns 'label_agreement_pct' (pixels whose arg-max class matches, in percent) and,
    for depth, 'depth_max_abs_m' and 'depth_mean_abs_m' (metres) with 'depth_mean_m', the
    reference's mean magnitude, for scale; all at the outputs' 1/4 resolution.
    """
    result = {}
    if 'segmentation' in reference:
        same = reference['segmentation'].argmax(1) == candidate['segmentation'].argmax(1)
        result['label_agreement_pct'] = round(same.float().mean().item() * 100.0, 3)
    if 'depth' in reference:
        error = (reference['depth'] - candidate['depth']).abs()
        result['depth_max_abs_m'] = round(error.max().item(), 6)
        result['depth_mean_abs_m'] = round(error.mean().item(), 6)
        result['depth_mean_m'] = round(reference['depth'].abs().mean().item(), 6)
    return result
