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

"""The experiment's wall time per step, kept across interrupted and resumed runs."""

import contextlib
import json
from pathlib import Path
import time
from typing import Iterator

from multitask_seg.atomic import write_text_atomically


class WallTimes:
    """
    Seconds per named step, summed over every run that worked on it, in a JSON file.

    A resumed step adds only the time this run spent on it, so the totals are what each
    step cost end to end however often the experiment was stopped; a step found finished
    adds (almost) nothing. Each step's total is written as soon as the step ends (or is
    interrupted), so a killed run keeps the time it spent.

    :param path: the JSON file ({step: seconds}); created on first use.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.seconds: dict[str, float] = (json.loads(self.path.read_text())
                                          if self.path.is_file() else {})

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step ``name``; print this run's and the total seconds."""
        started = time.monotonic()
        try:
            yield
        finally:
            spent = time.monotonic() - started
            self.seconds[name] = round(self.seconds.get(name, 0.0) + spent, 1)
            write_text_atomically(self.path, json.dumps(self.seconds, indent=1))
            print(f'[experiment] {name}: {spent:.0f} s this run, {self.seconds[name]:.0f} s '
                  f'in all', flush=True)
