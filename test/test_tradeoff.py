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

"""The accuracy-against-latency table and picture, from hand-written bench and results files."""

import json

from matplotlib.image import imread
from multitask_seg.bench import tradeoff
import pytest


def stat(mean, std, n):
    return {'mean': mean, 'std': std, 'n': n}


def figures(params, ms):
    return {'params': params, 'gmacs_640x480': 1.5, 'ms_640x480': ms, 'ms_320x240': ms / 4,
            'ms_640x480_torch': 2 * ms, 'ms_320x240_torch': ms / 2}


def entry(miou, rmse, n, std=None):
    return {'b_miou': stat(miou, std, n), 'b_rmse': stat(rmse, std, n)}


@pytest.fixture
def files(tmp_path):
    bench = {'tiers': {'small': figures(1_000, 10.0), 'large': figures(3_000_000, 80.0)},
             'tiers_default_engine': 'openvino_fp32'}
    results = {'families': {
        'small': {'indoor': entry(0.1, 0.9, 1), 'outdoor': entry(0.3, 4.0, 3, 0.02)},
        'large': {'indoor': entry(0.2, 0.7, 1), 'outdoor': entry(0.5, 3.5, 3, 0.01)}}}
    (tmp_path / 'bench.json').write_text(json.dumps(bench))
    (tmp_path / 'results.json').write_text(json.dumps(results))
    return tmp_path


def test_table_and_picture(files):
    out = files / 'pics' / 'tradeoff.png'
    text = tradeoff.main(['--bench', str(files / 'bench.json'),
                          '--results', str(files / 'results.json'), '--out', str(out)])
    lines = text.strip().split('\n')
    assert len(lines) == 4 and 'openvino_fp32 ms 640x480' in lines[0]
    assert 'bf16' not in lines[0]  # no family has bf16 figures
    # The large family: latency per path and size, then indoor and outdoor accuracy.
    assert lines[3] == ('| `large` | 3,000,000 | 1.50 | 80.0 | 20.0 | 160.0 | 40.0 | 20.0 | '
                        '0.700 | 1 | 50.0 ± 1.0 | 3.500 ± 0.010 | 3 |')
    image = imread(out)
    assert image.shape[0] > 400 and image.shape[1] > 600 and image[..., :3].std() > 0.05


def test_the_picture_shows_the_domain_with_error_bars(files):
    families = json.loads((files / 'results.json').read_text())['families']
    assert tradeoff.picture_domain(families) == 'outdoor'


def test_missing_inputs_say_what_to_run(files):
    (files / 'empty.json').write_text('{}')
    with pytest.raises(SystemExit, match='no `tiers`: run python -m multitask_seg.bench.tiers'):
        tradeoff.main(['--bench', str(files / 'empty.json'),
                       '--results', str(files / 'results.json')])
    with pytest.raises(SystemExit, match='no `families`: run make experiment-families'):
        tradeoff.main(['--bench', str(files / 'bench.json'),
                       '--results', str(files / 'empty.json')])


def test_bf16_latency_gets_columns_when_every_family_has_it(files):
    bench = json.loads((files / 'bench.json').read_text())
    for figures in bench['tiers'].values():
        figures.update(ms_640x480_bf16=figures['ms_640x480'] / 2,
                       ms_320x240_bf16=figures['ms_320x240'] / 2)
    (files / 'bench.json').write_text(json.dumps(bench))
    text = tradeoff.main(['--bench', str(files / 'bench.json'), '--results',
                          str(files / 'results.json'), '--out', str(files / 't.png')])
    head, _, _, large = text.strip().split('\n')
    assert 'openvino_bf16 ms 640x480 | openvino_bf16 ms 320x240 | torch ms 640x480' in head
    assert large.startswith('| `large` | 3,000,000 | 1.50 | 80.0 | 20.0 | 40.0 | 10.0 | 160.0 |')
