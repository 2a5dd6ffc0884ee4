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

"""The demo in a fast configuration: a joint model, a few tiny frames of both domains."""

import json

from multitask_seg.checkpoint import default_info, save_checkpoint
from multitask_seg.data.bag_reader import BagDataset
from multitask_seg.data.bag_writer import BagTopics
from multitask_seg.demo import main
from multitask_seg.model import build_model, ModelConfig
from multitask_seg.synthetic.classes import CLASSES
import numpy as np


def test_demo_evaluates_both_domains_of_a_joint_model(tmp_path, running_nodes):
    classes = [*CLASSES['indoor'], *CLASSES['outdoor']]
    config = ModelConfig(tasks={'segmentation': len(classes), 'depth': 1})
    checkpoint = save_checkpoint(tmp_path / 'joint.pt', build_model(config), default_info(
        config, classes=classes, input_size=[48, 64], depth_range=[0.1, 80.0]))
    out = tmp_path / 'demo_output'
    status = main(['--checkpoint', str(checkpoint), '--frames', '4', '--height', '48',
                   '--width', '64', '--out', str(out)])
    assert not running_nodes(), 'the node is still running'
    assert status == 0
    results = json.loads((out / 'results.json').read_text())
    assert results['complete'] and results['live']['sent'] == 4
    for name in ('summary.md', 'samples.png', 'latency.png', 'streaming.png', 'stability.png',
                 'small_objects.png', 'reliability.png'):
        assert (out / name).is_file(), name
    # Two frames per domain: one consecutive pair each, and the first frame of each
    # scored one period late against the second.
    assert results['stability']['pairs'] == results['stability']['warped_pairs'] == 2
    assert results['streaming']['curve'][1]['frames'] == 2
    assert results['streaming']['streaming'] is not None
    assert 0 <= results['calibration']['ece'] <= 1 and results['small_objects']['available']
    # Outdoor ground truth (frames 2 and 3) is in the joint model's ids: 12 and up.
    topics = BagTopics()
    truth = BagDataset(str(out / 'sequence'), topics.image, topics.segmentation)
    indoor, outdoor = (truth[i].targets['segmentation'] for i in (0, 3))
    assert np.all((indoor < len(CLASSES['indoor'])) | (indoor == 255))
    assert np.all((outdoor >= len(CLASSES['indoor'])) | (outdoor == 255))


def test_demo_refuses_a_model_of_no_synthetic_domain(tiny_checkpoint, tmp_path, capsys):
    assert main(['--checkpoint', str(tiny_checkpoint), '--out', str(tmp_path)]) == 2
    assert 'no synthetic domain' in capsys.readouterr().err
