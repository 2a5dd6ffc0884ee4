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

"""The node as its own process, started the way ros2 run and launch start it."""

import contextlib
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Iterator

from multitask_seg.ros.frame_client import image_message, ProbeNode, spinning
from multitask_seg.ros.params import PARAMETERS
import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PARAMS_FILE = ROOT / 'config' / 'params.yaml'


def start_node(*ros_args: str) -> subprocess.Popen:
    # A session of its own, so a signal can go to the whole process group as a
    # terminal's Ctrl-C does.
    return subprocess.Popen(
        [sys.executable, '-m', 'multitask_seg.ros.node_main', '--ros-args',
         '--params-file', str(PARAMS_FILE), *ros_args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, 'PYTHONUNBUFFERED': '1'}, start_new_session=True)


def test_params_file_sets_every_parameter_to_its_default():
    values = yaml.safe_load(PARAMS_FILE.read_text())['/**']['ros__parameters']
    assert values == {name: spec.default for name, spec in PARAMETERS.items()}


def events_executor_available() -> bool:
    try:
        from rclpy.experimental import EventsExecutor  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def killed_at_exit(process: subprocess.Popen) -> Iterator[subprocess.Popen]:
    """Yield ``process``; kill it at the end if it is still running."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def node_process(*ros_args: str) -> contextlib.AbstractContextManager[subprocess.Popen]:
    """Start the node process; kill it at the end if it is still running."""
    return killed_at_exit(start_node(*ros_args))


def black_frame(probe: ProbeNode) -> Any:
    rgb = np.zeros((48, 64, 3), np.uint8)
    return image_message(rgb, probe.get_clock().now().to_msg(), 'front_optical')


@pytest.mark.parametrize('executor', ['events', 'single_threaded'])
def test_process_answers_a_frame_and_stops_on_sigterm(context, tiny_checkpoint, executor):
    with node_process('-p', f'checkpoint:={tiny_checkpoint}', '-p', 'cameras:=[front]',
                      '-p', f'executor:={executor}') as process:
        probe = ProbeNode(['front'], context=context)
        with spinning(probe, context=context):
            assert probe.wait_matched(timeout=30), 'node did not come up'
            sent = black_frame(probe)
            labels = probe.send_until_answered(probe.image_pubs['front'], sent,
                                               'front/segmentation/labels')
            depth = probe.send_until_answered(probe.image_pubs['front'], sent,
                                              'front/depth/image')
        probe.destroy_node()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert labels.header == sent.header and depth.header == sent.header
    assert (labels.height, labels.width, depth.encoding) == (48, 64, '32FC1')
    assert process.returncode == 0, output
    assert 'Traceback' not in output
    events = executor == 'events' and events_executor_available()
    assert f'executor: {"EventsExecutor" if events else "SingleThreadedExecutor"}' in output


def answer(client: Any, request: Any, process: subprocess.Popen,
           timeout: float = 120.0) -> Any:
    """
    Call a service from a node another thread spins; return the response.

    Configure converts and compiles the checkpoint, which on a loaded CI machine can take
    tens of seconds; when no answer comes, the node's own log says why.
    """
    future = client.call_async(request)
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    if not done.wait(timeout):
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f'{client.srv_name}: no response in {timeout} s; node output:\n{output}')
    return future.result()


def test_process_serves_lifecycle_and_parameter_services(context, tiny_checkpoint):
    """The default executor runs services too: transitions and a dynamic parameter."""
    from lifecycle_msgs.msg import Transition
    from lifecycle_msgs.srv import ChangeState
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters

    # A namespace of its own: an earlier test's node (same name, same domain) can still be
    # known to discovery, and a request sent to its services would never be answered.
    with node_process('-p', f'checkpoint:={tiny_checkpoint}', '-p', 'cameras:=[front]',
                      '-p', 'managed:=true', '-r', '__ns:=/lifecycle') as process:
        probe = ProbeNode(['front'], namespace='lifecycle', target='lifecycle/multitask_seg',
                          context=context)
        change = probe.create_client(ChangeState, '/lifecycle/multitask_seg/change_state')
        set_parameters = probe.create_client(SetParameters,
                                             '/lifecycle/multitask_seg/set_parameters')
        with spinning(probe, context=context):
            assert change.wait_for_service(timeout_sec=30), 'node did not come up'
            for transition in (Transition.TRANSITION_CONFIGURE, Transition.TRANSITION_ACTIVATE):
                request = ChangeState.Request(transition=Transition(id=transition))
                assert answer(change, request, process).success, f'transition {transition} failed'
            value = ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=0.25)
            results = answer(set_parameters, SetParameters.Request(
                parameters=[Parameter(name='deadline_ms', value=value)]), process).results
            assert results[0].successful, results[0].reason
            sent = black_frame(probe)
            labels = probe.send_until_answered(probe.image_pubs['front'], sent,
                                               'front/segmentation/labels')
        probe.destroy_node()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert labels.header == sent.header
    assert process.returncode == 0 and 'Traceback' not in output, output


def test_process_with_a_missing_checkpoint_exits_with_a_clear_error(tmp_path):
    process = start_node('-p', f'checkpoint:={tmp_path / "gone.pt"}')
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert 'parameter checkpoint: file' in output and 'gone.pt does not exist' in output
    assert 'Traceback' not in output


def test_process_with_a_file_that_is_not_a_checkpoint_says_so_once(tmp_path):
    path = tmp_path / 'notes.pt'
    path.write_text('not a checkpoint')
    process = start_node('-p', f'checkpoint:={path}')
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    lines = [line for line in output.splitlines() if 'notes.pt' in line]
    assert len(lines) == 1 and lines[0].startswith('[ERROR]'), output
    assert output.count(str(path)) == 1, output
    assert 'is not a torch file' in output
    assert 'FATAL' not in output and 'weights_only` set to `False' not in output
    assert 'Traceback' not in output


def wait_until(condition, process, timeout=60.0, poll=0.005):
    """Wait for ``condition`` (an event of ``process``), failing if it exits first."""
    end = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, 'the process exited before the event'
        assert time.monotonic() < end, 'timed out'
        time.sleep(poll)


def proc_text(pid: int, name: str) -> str:
    """Return /proc/<pid>/<name>, or '' once the process is gone."""
    try:
        return Path(f'/proc/{pid}/{name}').read_text()
    except OSError:
        return ''


def handlers_installed(process):
    """Tell whether the process catches SIGTERM (its handlers are in, imports begin)."""
    caught = next((line.split()[1] for line in proc_text(process.pid, 'status').splitlines()
                   if line.startswith('SigCgt:')), '0')
    return bool(int(caught, 16) & (1 << (signal.SIGTERM - 1)))


def importing_torch(process):
    return 'libtorch' in proc_text(process.pid, 'maps')


@contextlib.contextmanager
def streaming(probe, camera, period=0.02):
    """Publish a frame every ``period`` s from a thread while the block runs."""
    stop = threading.Event()
    rgb = np.zeros((48, 64, 3), np.uint8)

    def run():
        while not stop.wait(period):
            probe.image_pubs[camera].publish(image_message(
                rgb, probe.get_clock().now().to_msg(), camera))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


# (moment, signals): when the process group is signalled, and with what, in a row.
SIGINT, SIGTERM = signal.SIGINT, signal.SIGTERM
SCENARIOS = [
    ('handlers', [SIGTERM]),
    ('torch', [SIGINT]),
    ('idle', [SIGINT, SIGINT]),
    ('answers 1', [SIGTERM, SIGINT]),
    ('answers 5', [SIGINT, SIGINT]),
]
# The slow variant adds these and runs everything three times.
MORE_SCENARIOS = [
    ('torch', [SIGTERM, SIGINT]),
    ('idle', [SIGTERM]),
    ('answers 3', [SIGTERM]),
    ('answers 12', [SIGINT]),
]


def signal_run(context, checkpoint, index, moment, signals):
    namespace = f'run{index}'
    process = start_node('-p', f'checkpoint:={checkpoint}', '-p', 'cameras:=[front]',
                         '-r', f'__ns:=/{namespace}')
    try:
        probe = ProbeNode(['front'], ('segmentation/labels',), namespace=namespace,
                          target=f'{namespace}/multitask_seg', context=context)
        with spinning(probe, context=context), contextlib.ExitStack() as stack:
            if moment == 'handlers':
                wait_until(lambda: handlers_installed(process), process)
            elif moment == 'torch':
                wait_until(lambda: importing_torch(process), process)
            else:
                wait_until(lambda: probe.wait_matched(timeout=0.1), process, poll=0)
            if moment.startswith('answers'):
                stack.enter_context(streaming(probe, 'front'))
                count = int(moment.split()[1])
                wait_until(lambda: len(probe.received['front/segmentation/labels']) >= count,
                           process)
            for signum in signals:
                os.killpg(process.pid, signum)
            output, _ = process.communicate(timeout=30)
        probe.destroy_node()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, output


def check_signal_runs(context, checkpoint, scenarios):
    failures = []
    for index, (moment, signals) in enumerate(scenarios):
        code, output = signal_run(context, checkpoint, index, moment, signals)
        if code != 0 or 'Traceback' in output or 'context is invalid' in output:
            names = '+'.join(signal.Signals(s).name for s in signals)
            failures.append(f'{names} at {moment}: exit {code}\n{output}')
    assert not failures, '\n\n'.join(failures)


def test_sigint_and_sigterm_end_the_process_cleanly_at_any_moment(context, tiny_checkpoint):
    check_signal_runs(context, tiny_checkpoint, SCENARIOS)


@pytest.mark.slow
def test_many_signal_runs(context, tiny_checkpoint):
    check_signal_runs(context, tiny_checkpoint, (SCENARIOS + MORE_SCENARIOS) * 3)


def test_one_large_frame_sent_once_arrives_with_the_default_qos(context, tiny_checkpoint):
    # 4096 x 4096 rgb8 (48 MiB, the default max_pixels) between processes over the shipped
    # shared-memory profile: under best effort most such frames never arrived.
    with node_process('-p', f'checkpoint:={tiny_checkpoint}', '-p',
                      'cameras:=[front]') as process:
        probe = ProbeNode(['front'], outputs=('segmentation/labels',), headers_only=True,
                          context=context)
        with spinning(probe, context=context):
            assert probe.wait_matched(timeout=30), 'node did not come up'
            rgb = np.zeros((4096, 4096, 3), np.uint8)
            sent = image_message(rgb, probe.get_clock().now().to_msg(), 'front_optical')
            probe.image_pubs['front'].publish(sent)
            (_, header), = probe.wait_for('front/segmentation/labels', 1, 120)
        probe.destroy_node()
        assert header == sent.header
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
