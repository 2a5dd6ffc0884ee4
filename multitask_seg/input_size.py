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
The network input size a user asks for, and what it means for one model.

'checkpoint' is the size the model was trained at (its ModelInfo.input_size), 'native'
each frame's own size, or an explicit (height, width). The node's parameter, the
evaluator's and the optimiser's options and the Predictor all read them here, so every
entry point accepts the same spellings.
"""

import re
from typing import Any

NAMED = ('checkpoint', 'native')


def parse_input_size(text: str) -> str | tuple[int, int]:
    """Parse 'checkpoint', 'native' or '<height>x<width>'; ValueError naming the text."""
    if text in NAMED:
        return text
    match = re.fullmatch(r'(\d+)x(\d+)', text)
    if not match or min(int(v) for v in match.groups()) < 1:
        raise ValueError(f"{text!r} is not 'checkpoint', 'native' or '<height>x<width>'")
    return int(match[1]), int(match[2])


def network_size(input_size: str | tuple[int, int], info: Any) -> tuple[int, int] | None:
    """
    Return the (height, width) the network runs at for ``input_size``; None: each frame's.

    :param info: the model's ModelInfo ('checkpoint' of a model without a training size
        is the frame's own).
    """
    if input_size == 'native':
        return None
    if input_size == 'checkpoint':
        return tuple(info.input_size) if info.input_size else None
    if (isinstance(input_size, (tuple, list)) and len(input_size) == 2
            and all(isinstance(v, int) and v >= 1 for v in input_size)):
        return tuple(input_size)
    raise ValueError(f"input_size must be 'checkpoint', 'native' or (height, width), "
                     f'got {input_size!r}')
