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

"""Stop signals in the batch commands: a safe point first, at once on a second signal."""

import os
import signal
import subprocess
import sys
import time

from multitask_seg.stopping import exit_with_status, GracefulStop, stoppable, Stopped
import pytest


def deliver(signum: int) -> None:
    """Send ``signum`` to this process; Python runs its handler before the next bytecode."""
    os.kill(os.getpid(), signum)
    for _ in range(1000):  # handlers run between bytecodes of the main thread
        pass


def test_first_signal_is_recorded_second_stops_at_once_handlers_restored():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with GracefulStop() as stop:
        deliver(signal.SIGTERM)
        assert stop.signum == signal.SIGTERM  # recorded; the work goes on
        with pytest.raises(Stopped) as stopped:
            deliver(signal.SIGINT)
        with pytest.raises(Stopped):
            stop.check()
    assert stopped.value.status == 130 and str(stopped.value) == 'stopped by SIGINT'
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_stoppable_command_exits_with_the_shell_status_and_one_line(capsys):
    @stoppable('some_command')
    def main() -> int:
        deliver(signal.SIGTERM)
        raise AssertionError('not stopped at once')

    assert main() == 143
    assert capsys.readouterr().err == 'some_command: stopped by SIGTERM\n'


def test_a_command_returning_results_exits_0_or_with_the_signal_status(capsys):
    with pytest.raises(SystemExit) as finished:
        exit_with_status('bench', lambda: {'fps': 30.0})
    assert finished.value.code == 0

    def interrupted() -> dict:
        deliver(signal.SIGINT)
        raise AssertionError('not stopped at once')

    with pytest.raises(SystemExit) as stopped:
        exit_with_status('bench', interrupted)
    assert stopped.value.code == 130
    assert capsys.readouterr().err == 'bench: stopped by SIGINT\n'


def test_a_real_command_stopped_by_sigterm_prints_no_traceback(tmp_path):
    """multitask_seg_synth writing many frames, stopped from outside as a supervisor would."""
    out = tmp_path / 'd'
    proc = subprocess.Popen([sys.executable, '-m', 'multitask_seg.synthetic.cli', '--out',
                             str(out), '--num', '100000'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(out.glob('images/*.png')) and time.monotonic() < deadline:
        time.sleep(0.02)  # until it writes frames
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert 'multitask_seg_synth: stopped by SIGTERM' in err and 'Traceback' not in err
