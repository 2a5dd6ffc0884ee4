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
Which predicted depths are trusted: the one rule the node, validation and scoring share.

The predictor clips depth to the range the model was trained on (``ModelInfo.depth_range``),
so a value at either end of it stands for 'somewhere outside the range', not a measurement.
"""

from typing import Sequence

import numpy as np


def valid_depth(depth: np.ndarray, depth_range: Sequence[float]) -> np.ndarray:
    """
    Return (H, W) float32 metres with NaN where the prediction is not trusted.

    :param depth: (H, W) metres as ``Predictor`` returns them (clipped to ``depth_range``).
    :param depth_range: [low, high] metres; values <= low or >= high become NaN.
    """
    low, high = depth_range
    depth = depth.astype(np.float32, copy=True)
    with np.errstate(invalid='ignore'):
        depth[~((depth > low) & (depth < high))] = np.nan
    return depth
