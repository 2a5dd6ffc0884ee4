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

"""The shared results file: several benchmarks merge their keys into one JSON object."""

import fcntl
import json
from pathlib import Path
from typing import Any

from ..atomic import write_text_atomically


def merge_json(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """
    Merge ``values`` into the JSON object in ``path`` atomically; return the result.

    A lock file beside it serialises concurrent writers (the node benchmark uses the same
    one), and the temporary file + rename means readers never see half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        data.update(values)
        write_text_atomically(path, json.dumps(data, indent=2, sort_keys=True) + '\n')
    return data
