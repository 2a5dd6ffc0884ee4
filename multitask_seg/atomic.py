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

"""Files that appear whole or not at all: written beside their target, then renamed."""

import contextlib
import os
from pathlib import Path
import tempfile
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """
    Yield a temporary path beside ``path``; when the block succeeds, move it over ``path``.

    The data is flushed to disk before the rename, so a crash or kill at any moment leaves
    the old file or the new one, never part of one; on failure the temporary is removed.
    Killed hard, a hidden '.<name>.*.tmp' file may stay behind (see ``stale_temporaries``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
        # mkstemp makes files private (0600); give the usual umask-based permissions, so a
        # node running as another user can read a model or a label written here.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through ``atomic_path``: the old file or the new, whole."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def stale_temporaries(folder: str | Path) -> list[Path]:
    """Return the temporaries that killed writers left under ``folder`` (recursively)."""
    return sorted(Path(folder).rglob('.*.tmp'))
