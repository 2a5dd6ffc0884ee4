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
The package's bundled model: the distilled student the node and the demo use by default.

It is made by ``make experiment`` (see README) and stored with float16 weights.
"""

from pathlib import Path

DEFAULT_CHECKPOINT = Path(__file__).with_name('default.pt')


def default_checkpoint() -> Path:
    """
    Return the bundled checkpoint's path.

    :raises FileNotFoundError: when this installation has none.
    """
    if not DEFAULT_CHECKPOINT.is_file():
        raise FileNotFoundError(f'no bundled checkpoint at {DEFAULT_CHECKPOINT}; give a '
                                f'checkpoint file explicitly')
    return DEFAULT_CHECKPOINT
