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
Temperature scaling (Guo et al. 2017): one scalar T that calibrates the softmax.

Dividing logits by T > 0 leaves every argmax, so every label, as it is, and only changes
the confidence. T is fitted on a validation set by minimising the negative log-likelihood
of the true classes; it is stored in the checkpoint's ``info.temperature`` and the
inference core applies it to the segmentation confidence.
"""

import numpy as np
import torch


def fit_temperature(logits: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor,
                    ignore: int = 255) -> float:
    """
    Return the T minimising the mean NLL of ``softmax(logits / T)`` at ``labels``.

    :param logits: (N, C) scores of N pixels (any float dtype).
    :param labels: (N,) true class ids; ``ignore`` and ids outside [0, C) are left out.
    :raises ValueError: no labelled pixel, or shapes that do not match.
    """
    logits = torch.as_tensor(logits).double()
    labels = torch.as_tensor(labels).long()
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f'logits must be (N, C) and labels (N,), got {tuple(logits.shape)} '
                         f'and {tuple(labels.shape)}')
    keep = (labels != ignore) & (labels >= 0) & (labels < logits.shape[1])
    if not keep.any():
        raise ValueError('no labelled pixel to fit a temperature on')
    logits, labels = logits[keep], labels[keep]
    # Optimise log T, so T stays positive without constraints.
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.5, max_iter=200, line_search_fn='strong_wolfe')

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(log_t.detach().exp())
