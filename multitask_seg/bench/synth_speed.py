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
"""Rendering speed benchmark, pinned to one CPU core."""

import os
import sys
import time
from typing import Callable

from ..synthetic.render import render_frame, render_sequence


def pin_to_one_core() -> None:
    """Restrict this process to a single CPU core (and torch, if loaded, to one thread)."""
    if hasattr(os, 'sched_setaffinity'):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if 'torch' in sys.modules:
        sys.modules['torch'].set_num_threads(1)


Clock = Callable[[], float]


def measure(domain: str, frames: int = 30, *, sequence: bool = False, height: int = 240,
            width: int = 320,
            clocks: tuple[Clock, Clock] = (time.perf_counter, time.process_time)
            ) -> tuple[float, float]:
    """
    Render `frames` frames and return (wall-clock frames/s, CPU-time frames/s).

    Independent frames build a new scene per frame; a sequence reuses one scene. The CPU-time
    figure is immune to other processes competing for the core. One untimed frame comes
    first (warm-up).

    :param clocks: (wall clock, CPU clock) in seconds; tests pass their own.
    """
    wall_clock, cpu_clock = clocks
    render_frame(domain, 0, height=height, width=width)
    wall, cpu = wall_clock(), cpu_clock()
    if sequence:
        for _ in render_sequence(domain, 1, frames, height=height, width=width):
            pass
    else:
        for seed in range(1, frames + 1):
            render_frame(domain, seed, height=height, width=width)
    return frames / (wall_clock() - wall), frames / (cpu_clock() - cpu)


def report(frames: int = 30, height: int = 240, width: int = 320) -> str:
    """Pin to one core, measure both domains and both modes; return a printable table."""
    pin_to_one_core()
    lines = [f'frames/s at {width}x{height}, one core (wall clock / CPU time):']
    for domain in ('indoor', 'outdoor'):
        for sequence in (False, True):
            wall, cpu = measure(domain, frames, sequence=sequence, height=height, width=width)
            mode = 'sequence' if sequence else 'independent'
            lines.append(f'  {domain:8s} {mode:12s} {wall:6.1f} / {cpu:6.1f}')
    return '\n'.join(lines)
