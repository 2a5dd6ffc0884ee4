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

"""Wall-clock medians, the machine's matrix-multiply throughput and peak memory."""

import multiprocessing
from pathlib import Path
import signal
import statistics
import time
from typing import Any, Callable

import torch


def sample_ms(call: Callable[[Any], Any], argument: Any, repeats: int) -> list[float]:
    """Return the milliseconds of each of ``repeats`` calls ``call(argument)``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(argument)
        times.append((time.perf_counter() - start) * 1000.0)
    return times


def median_ms(call: Callable[[Any], Any], argument: Any, warm_up: int = 3,
              repeats: int = 15) -> float:
    """Return the median milliseconds of ``call(argument)`` after ``warm_up`` untimed calls."""
    sample_ms(call, argument, warm_up)
    return statistics.median(sample_ms(call, argument, repeats))


def matmul_flops(size: int = 2048, repeats: int = 7, dtype: str = 'fp32') -> float:
    """
    Return FLOP/s of a (size x size) @ (size x size) matmul on this process's threads.

    A large square product is the best case for the CPU's vector units, so the latency it
    implies for the network's FLOPs is a generous lower bound. ``dtype``: 'fp32', 'bf16'
    or 'int8' (int8 x int8 -> int32, torch._int_mm).
    """
    if dtype == 'int8':
        a = torch.randint(-128, 128, (size, size), dtype=torch.int8)
        b = torch.randint(-128, 128, (size, size), dtype=torch.int8)
        product = torch._int_mm
    else:
        kind = torch.bfloat16 if dtype == 'bf16' else torch.float32
        a, b = torch.randn(size, size, dtype=kind), torch.randn(size, size, dtype=kind)
        product = torch.mm
    seconds = median_ms(lambda _: product(a, b), None, warm_up=2, repeats=repeats) / 1000.0
    return 2.0 * size ** 3 / seconds


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """
    Return ``function(*args)`` run in a new (spawned) process.

    A stop signal in this process (Ctrl-C, SIGTERM) ends the other at once: leaving the
    pool terminates it. It ignores Ctrl-C itself, which a terminal sends the whole process
    group, so the command prints its one line and the worker no traceback.
    """
    context = multiprocessing.get_context('spawn')
    with context.Pool(1, initializer=_ignore_ctrl_c) as pool:
        return pool.apply(function, args)


def _ignore_ctrl_c() -> None:
    # Not SIGTERM: that is how the pool ends its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def time_in_fresh_processes(name: str, files: dict[str, Path], threads: int,
                            argument: Any, sweeps: int = 2, repeats: int = 7,
                            warm_up: int = 3,
                            opener: Callable[..., Callable[[Any], Any]] | None = None
                            ) -> tuple[float, float]:
    """
    Time path ``name`` on ``argument`` in ``sweeps`` fresh processes.

    A process per measurement keeps one runtime's idle worker threads and cached memory
    from slowing another's. ``opener(name, files, threads)`` returns the call to time (a
    module-level function, so a fresh process can import it); default
    ``inference_paths.open_path``, the bare network on a (N, 3, h, w) batch. Returns (median
    ms over all samples, peak resident MiB of a process that loaded the path and ran it).
    """
    samples, peak = [], 0.0
    for _ in range(sweeps):
        times, memory = in_fresh_process(_time_path, name, files, threads, argument, repeats,
                                         warm_up, opener)
        samples += times
        peak = max(peak, memory)
    return statistics.median(samples), peak


def time_interleaved(name: str, files: dict[str, dict[str, Path]], threads: int,
                     argument: Any, sweeps: int = 2, repeats: int = 9, warm_up: int = 3,
                     opener: Callable[..., Callable[[Any], Any]] | None = None
                     ) -> dict[str, float]:
    """
    Time path ``name`` for several models on ``argument``, their calls interleaved.

    ``files`` maps a model's name to its files (as time_in_fresh_processes takes them).
    Each of ``sweeps`` fresh processes opens every model, then times one call of each in
    turn, ``repeats`` rounds, starting each round at the next model: a drift in the
    machine's speed (measured here: the same model 240 then 166 ms half an hour apart, on
    a shared host) then falls on every model alike, so the ratios between them hold.
    Returns {model: median ms over all its samples}.
    """
    samples: dict[str, list[float]] = {model: [] for model in files}
    for _ in range(sweeps):
        times = in_fresh_process(_time_models, name, files, threads, argument, repeats,
                                 warm_up, opener)
        for model, values in times.items():
            samples[model] += values
    return {model: statistics.median(values) for model, values in samples.items()}


def _time_models(name: str, files: dict[str, dict[str, Path]], threads: int, argument: Any,
                 repeats: int, warm_up: int,
                 opener: Callable[..., Callable[[Any], Any]] | None) -> dict[str, list[float]]:
    if opener is None:
        from .inference_paths import open_path as opener

    torch.set_num_threads(threads)
    calls = {model: opener(name, model_files, threads) for model, model_files in files.items()}
    for call in calls.values():
        sample_ms(call, argument, warm_up)
    order = list(calls)
    times: dict[str, list[float]] = {model: [] for model in order}
    for round_ in range(repeats):
        for model in order[round_ % len(order):] + order[:round_ % len(order)]:
            times[model] += sample_ms(calls[model], argument, 1)
    return times


def _time_path(name: str, files: dict[str, Path], threads: int, argument: Any,
               repeats: int, warm_up: int,
               opener: Callable[..., Callable[[Any], Any]] | None) -> tuple[list[float], float]:
    if opener is None:
        from .inference_paths import open_path as opener

    torch.set_num_threads(threads)
    call = opener(name, files, threads)
    sample_ms(call, argument, warm_up)
    return sample_ms(call, argument, repeats), peak_rss_mb()


def peak_rss_mb(pid: int | str = 'self') -> float:
    """Return a process's peak resident memory in MiB (VmHWM: since its last exec)."""
    status = Path(f'/proc/{pid}/status')
    for line in status.read_text().splitlines():
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024.0
    raise OSError(f'{status} has no VmHWM line (not Linux?)')
