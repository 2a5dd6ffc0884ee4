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
Precision 'auto': the fastest reduced precision whose measured accuracy passes a gate.

``multitask_seg_optimize`` measures every precision against fp32 on held-out frames and
stores the figures in the model (``FIGURES_KEY`` in the OpenVINO IR's rt_info)::

    {"bf16": {"labels_agree_pct": 99.3, "miou_change_pct": -0.1,
              "depth_mean_abs_m": 0.021, "depth_p99_abs_m": 0.12}, "int8": {...}}

A precision without figures, or whose figures fail the gate, is never chosen; fp32 needs
none. A model without figures therefore runs fp32. Where more than one reduced precision
passes, each is timed on this CPU and the fastest taken: which is faster depends on the
CPU and on how much of the int8 model stayed float (one with float layers ran slower than
bf16 on an AMX Xeon, while plain int8 ran 0.75x bf16 on a Zen 5 without AMX).
"""

from dataclasses import dataclass
import json
import logging
from pathlib import Path
import statistics
import time
from typing import Any, Callable, Mapping, Sequence

FIGURES_KEY = 'multitask_seg.figures'
# Fastest first on CPUs that have the instructions for them.
FASTEST_FIRST = ('int8', 'bf16', 'fp32')
# Timed runs per candidate (after an untimed one that compiles) when several pass.
TIMING_RUNS = 5
# The network size candidates are timed at for input size 'native': a VGA camera's.
NATIVE_TIMING_SIZE = (480, 640)
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gate:
    """
    The accuracy a reduced precision must keep against fp32 to be chosen automatically.

    :ivar min_labels_agree_pct: least share of pixels whose class matches fp32's (%).
    :ivar max_depth_mean_abs_m: largest mean absolute depth change (metres).
    """

    min_labels_agree_pct: float = 99.0
    max_depth_mean_abs_m: float = 0.03

    def failures(self, figures: Mapping[str, float]) -> list[str]:
        """Return why ``figures`` fail the gate (empty when they pass)."""
        problems = []
        agree = figures.get('labels_agree_pct')
        if agree is not None and agree < self.min_labels_agree_pct:
            problems.append(f'labels agree {agree:.2f} % < {self.min_labels_agree_pct} %')
        depth = figures.get('depth_mean_abs_m')
        if depth is not None and depth > self.max_depth_mean_abs_m:
            problems.append(f'mean depth change {depth:.4f} m > {self.max_depth_mean_abs_m} m')
        if agree is None and depth is None:
            problems.append('no measured figures')
        return problems


def passing_precisions(figures: Mapping[str, Mapping[str, float]], available: Sequence[str],
                       gate: Gate) -> list[str]:
    """Return the reduced precisions of ``available`` whose ``figures`` pass ``gate``."""
    passing = []
    for precision in FASTEST_FIRST:
        if precision == 'fp32' or precision not in available:
            continue
        problems = gate.failures(figures.get(precision, {}))
        if problems:
            logger.info('precision %s not chosen: %s', precision, '; '.join(problems))
        else:
            passing.append(precision)
    return passing


def choose_precision(figures: Mapping[str, Mapping[str, float]], available: Sequence[str],
                     gate: Gate, seconds: Callable[[str], float] | None = None) -> str:
    """
    Return the fastest of ``available`` whose ``figures`` pass ``gate``; else 'fp32'.

    :param figures: precision -> its measured figures (see the module docstring).
    :param available: the precisions this model and CPU can run.
    :param seconds: precision -> seconds per inference on this CPU, called only when
        several pass; without it the order FASTEST_FIRST decides.
    """
    passing = passing_precisions(figures, available, gate)
    if not passing:
        return 'fp32'
    if len(passing) == 1 or seconds is None:
        return passing[0]
    timed = {precision: seconds(precision) for precision in passing}
    logger.info('precision auto: %s pass the gate; timed here: %s', ', '.join(passing),
                ', '.join(f'{p} {t * 1e3:.2f} ms' for p, t in timed.items()))
    return min(passing, key=timed.__getitem__)


def time_network(path: str | Path, precision: str, num_threads: int | None,
                 input_size: Any) -> float:
    """
    Return the median seconds of one inference of the IR ``path`` at ``precision`` here.

    The network alone (what differs between precisions), one image at the size
    ``input_size`` names for it (``input_size.network_size``; 'native': a VGA frame's).
    """
    import torch

    from .openvino_backend import OpenVinoBackend
    from ..input_size import network_size

    model = int8_variant(path) if precision == 'int8' else Path(path)
    backend = OpenVinoBackend(model, precision=precision, num_threads=num_threads)
    size = network_size(input_size, backend.info) or NATIVE_TIMING_SIZE
    batch = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(0))
    backend(batch)  # compiles: not timed
    times = []
    for _ in range(TIMING_RUNS):
        start = time.perf_counter()
        backend(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stored_figures(model) -> dict[str, dict[str, float]]:
    """Return the figures stored in an openvino.Model's rt_info ({} when it has none)."""
    if not model.has_rt_info([FIGURES_KEY]):
        return {}
    return json.loads(model.get_rt_info([FIGURES_KEY]).astype(str))


def resolve_precision(precision: str, engine: str, model_path: str | Path, gate: Gate,
                      num_threads: int | None = None, input_size: Any = 'checkpoint') -> str:
    """
    Return ``precision``, or for 'auto' what the model's stored figures allow on ``engine``.

    Only the OpenVINO engine runs measured reduced-precision models; 'auto' elsewhere, or
    for a model without figures, is fp32. ``num_threads`` and ``input_size`` (as the
    Predictor takes them) are what candidates are timed with when several pass.
    """
    if precision != 'auto':
        return precision
    if engine != 'openvino':
        return 'fp32'
    from .engines import openvino_model_file
    from .openvino_backend import core, cpu_capabilities

    path = openvino_model_file(model_path)
    if path is None:
        return 'fp32'
    model = core().read_model(str(path))
    available = [p for p in ('bf16', 'int8') if p.upper() in cpu_capabilities()]
    if not Path(int8_variant(path)).is_file():
        available = [p for p in available if p != 'int8']
    chosen = choose_precision(
        stored_figures(model), available, gate,
        lambda candidate: time_network(path, candidate, num_threads, input_size))
    logger.info('precision auto on %s: %s', path, chosen)
    return chosen


def int8_variant(path: str | Path) -> Path:
    """Return where the int8 model beside an fp32 IR lives: <stem>-int8.xml."""
    path = Path(path)
    return path.with_name(path.stem + '-int8.xml')
