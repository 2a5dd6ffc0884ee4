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

"""Training records: TensorBoard event files and a CSV with one row per epoch."""

import csv
import json
from pathlib import Path

from multitask_seg.atomic import atomic_path, write_text_atomically


class Logbook:
    """
    Write per-step losses to TensorBoard and per-epoch figures to TensorBoard and CSV.

    :param output: the run's folder; files go to ``tensorboard/`` and ``metrics.csv``.
    :param enabled: False on all but the first process of a distributed run.
    :param resume: keep the rows of an earlier run of the same output.
    """

    STEP_EVERY = 10

    def __init__(self, output: Path, enabled: bool = True, resume: bool = False) -> None:
        self.enabled = enabled
        self.csv_path = Path(output) / 'metrics.csv'
        self.writer = None
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        Path(output).mkdir(parents=True, exist_ok=True)
        self.writer = SummaryWriter(str(Path(output) / 'tensorboard'))
        if not resume and self.csv_path.exists():
            self.csv_path.unlink()

    def step(self, global_step: int, losses: dict[str, float]) -> None:
        """Record one iteration's losses (every STEP_EVERY-th, to keep files small)."""
        if self.enabled and global_step % self.STEP_EVERY == 0:
            for key, value in losses.items():
                self.writer.add_scalar(f'train/{key}', value, global_step)

    def epoch(self, epoch: int, losses: dict[str, float], metrics: dict[str, float],
              seconds: float) -> None:
        """Record an epoch's mean losses and validation metrics."""
        if not self.enabled:
            return
        row = {'epoch': epoch, 'seconds': round(seconds, 1),
               **{f'train/{k}': v for k, v in losses.items()}, **metrics}
        for key, value in row.items():
            if key != 'epoch':
                self.writer.add_scalar(key if '/' in key else f'time/{key}', value, epoch)
        self.writer.flush()
        self._append(row)

    def _append(self, row: dict) -> None:
        # Columns can only grow (a resumed run may validate more); rewrite when they do.
        rows = []
        if self.csv_path.exists():
            with open(self.csv_path, newline='') as f:
                rows = list(csv.DictReader(f))
        rows = [r for r in rows if int(r['epoch']) < row['epoch']] + [row]
        columns = list(dict.fromkeys(k for r in rows for k in r))
        with atomic_path(self.csv_path) as tmp, open(tmp, 'w', newline='') as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        write_text_atomically(self.csv_path.parent / 'last_metrics.json',
                              json.dumps(row, indent=1))

    def close(self) -> None:
        """Flush and close the event file."""
        if self.writer is not None:
            self.writer.close()
