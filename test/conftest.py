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

"""Shared fixtures; also keeps every test's DDS traffic on this machine."""

import os
import random

import pytest

# Discovery stays on localhost and each run gets its own domain, so tests never multicast
# onto the network and two runs on one machine never hear each other.
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
# Shared memory only: whole camera frames arrive between processes, nothing leaves the host.
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'config', 'fastdds_shm.xml'))
os.environ.setdefault('ROS_DOMAIN_ID', str(random.SystemRandom().randint(1, 200)))


@pytest.fixture(scope='session', autouse=True)
def model_cache(tmp_path_factory):
    """Keep converted models and compiled blobs in this run's temporary folder."""
    from multitask_seg.inference.model_cache import CACHE_ENV

    previous = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(tmp_path_factory.mktemp('model_cache'))
    yield os.environ[CACHE_ENV]
    if previous is None:
        del os.environ[CACHE_ENV]
    else:
        os.environ[CACHE_ENV] = previous


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory):
    """Return a random MobileNet-v2 checkpoint: 5 classes + depth, trained at 64x80."""
    from multitask_seg.checkpoint import default_info, save_checkpoint
    from multitask_seg.model import build_model, ModelConfig
    import torch

    config = ModelConfig(tasks={'segmentation': 5, 'depth': 1})
    with torch.random.fork_rng():  # the same weights in every run, on every machine
        torch.manual_seed(0)
        model = build_model(config)
    path = tmp_path_factory.mktemp('ckpt') / 'tiny.pt'
    save_checkpoint(path, model, default_info(
        config, classes=['a', 'b', 'c', 'd', 'e'], input_size=[64, 80],
        depth_range=[0.1, 10.0]))
    return path


@pytest.fixture
def running_nodes():
    """Return a function listing this process's descendants that run the node."""
    import psutil

    def nodes() -> list:
        # Only the node counts: other children (a multiprocessing resource tracker an
        # earlier test left) are not the evaluator's to stop.
        return [p for p in psutil.Process().children(recursive=True)
                if 'multitask_seg.ros.node' in ' '.join(p.cmdline())]
    return nodes


def _rclpy_context():
    from rclpy.context import Context
    import rclpy

    context = Context()
    rclpy.init(context=context)
    yield context
    rclpy.shutdown(context=context)


@pytest.fixture
def context():
    """Return an rclpy context of this test's own, shut down afterwards."""
    yield from _rclpy_context()


@pytest.fixture(scope='module')
def module_context():
    """Return an rclpy context the tests of one module share (nodes there are their own)."""
    yield from _rclpy_context()
