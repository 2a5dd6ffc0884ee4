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
Where converted models and compiled OpenVINO blobs are kept between runs.

The root is ``$MULTITASK_SEG_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/multitask_seg``, else
``~/.cache/multitask_seg``. A checkpoint converted for another engine is stored under its
content hash, so an edited file is converted again and an unchanged one never is.
"""

import functools
import hashlib
import os
from pathlib import Path

CACHE_ENV = 'MULTITASK_SEG_CACHE_DIR'


def cache_root() -> Path:
    """Return the cache folder (not created here)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    xdg = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(xdg) / 'multitask_seg'


@functools.cache
def _digest(path: Path, size: int, mtime_ns: int) -> str:
    hasher = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            hasher.update(block)
    return hasher.hexdigest()[:24]


def content_hash(path: str | Path) -> str:
    """Return a hex digest of the file's bytes (memoised per size and modification time)."""
    path = Path(path).resolve()
    stat = path.stat()
    return _digest(path, stat.st_size, stat.st_mtime_ns)


def converted_path(checkpoint: str | Path, kind: str, suffix: str) -> Path:
    """Return ``<root>/<kind>/<content hash>/<checkpoint stem><suffix>`` for a conversion."""
    return cache_root() / kind / content_hash(checkpoint) / (Path(checkpoint).stem + suffix)
