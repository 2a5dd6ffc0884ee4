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
Open any supported dataset by kind name, as configuration files name them.

Every reader returns `Sample`s and has `.classes`, `.colors`, `.names`, `len()` and
`.has(index, task)`.
"""

import inspect
from typing import Callable

from .bag_reader import BagDataset
from .folder_dataset import FolderDataset
from .kitti import KittiDepth, KittiSemantics
from .nyud import NyudMat, NyudRaw

READERS = {
    'folder': FolderDataset,
    'nyud_mat': NyudMat,
    'nyud_raw': NyudRaw,
    'kitti_depth': KittiDepth,
    'kitti_semantics': KittiSemantics,
    'bag': BagDataset,
}


def reader_parameters(reader: Callable) -> tuple:
    """Return (required, all) option names of a reader's constructor."""
    params = list(inspect.signature(reader).parameters.values())
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    return required, [p.name for p in params]


def open_dataset(kind: str, **options) -> object:
    """
    Return the dataset reader of `kind` built with `options` (its constructor arguments).

    :raises ValueError: unknown kind, unknown option or missing required option; the
        message lists what is accepted.
    """
    if kind not in READERS:
        raise ValueError(f'unknown dataset kind {kind!r}; expected one of {sorted(READERS)}')
    required, accepted = reader_parameters(READERS[kind])
    unknown = sorted(set(options) - set(accepted))
    missing = [name for name in required if name not in options]
    if unknown or missing:
        problem = f'unknown option(s) {unknown}' if unknown else f'missing option(s) {missing}'
        raise ValueError(f'dataset kind {kind!r}: {problem}; accepted: {accepted} '
                         f'(required: {required})')
    return READERS[kind](**options)
