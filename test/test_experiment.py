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

"""End to end on tiny generated data: teacher, labelling, students, joint model, table."""

import dataclasses
import hashlib
import json
from pathlib import Path

from distill import experiment, train
from distill.experiment import ExperimentConfig, main, run, RunSettings
import numpy as np
import pytest
import yaml


def finished_files(root) -> dict:
    """Return {path: (mtime_ns, sha256)} of every checkpoint and image below ``root``."""
    paths = [p for p in root.rglob('*') if p.suffix in ('.pt', '.png')]
    return {p.relative_to(root): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).digest())
            for p in paths if p.name != 'default.pt'}  # default.pt is re-exported each run


def test_label_train_evaluate_end_to_end(tmp_path, monkeypatch):
    tiny = RunSettings(epochs=1, epoch_size=4, batch_size=2)
    config = ExperimentConfig(
        output=str(tmp_path / 'exp'), height=32, width=48, source_frames=6,
        target_labelled={'indoor': 2, 'outdoor': 2}, target_unlabelled={'indoor': 6, 'outdoor': 4},
        sequence_length=4, val_frames=2, test_frames=3, teacher_encoder='resnet18',
        domains=['indoor'], seeds=[0], joint=True, teacher=tiny, student=tiny)
    results = run(config)
    titles = [r['title'] for r in results['rows']]
    assert titles[:2] == ['teacher resnet18 (indoor)', 'teacher resnet18 (outdoor)']
    assert any('student (a) indoor' in t for t in titles)
    assert any('student (b) indoor' in t for t in titles)
    joint = results['rows'][-1]
    assert {'test_indoor/miou', 'test_outdoor/miou', 'test_outdoor/rmse'} <= set(joint['scores'])
    # The teacher labelled exactly the target frames without segmentation.
    pseudo = list((tmp_path / 'exp' / 'pseudo' / 'indoor' / 'segmentation').glob('*.png'))
    assert len(pseudo) == 6
    table, families, times = (tmp_path / 'exp' / 'results.md').read_text().split('\n\n')
    assert table.count('\n') == 2 + 2 + 2 + 1  # header, 2 teachers, 2 students, 2 joint rows
    assert families.count('\n') == 2 and '`lwrefinenet_mobilenetv2` | indoor | 1 |' in families
    # Every step that worked says its wall time.
    steps = ['render indoor', 'render outdoor', 'teacher indoor', 'pseudo-labels indoor',
             'teacher outdoor', 'pseudo-labels outdoor', 'student_a_indoor_seed0',
             'student_b_indoor_seed0', 'student_joint']
    assert sorted(results['wall_seconds']) == sorted(steps)
    assert all(results['wall_seconds'][s] > 0 for s in steps if not s.startswith('pseudo'))
    assert all(f'| {s} |' in times for s in steps)
    assert json.loads((tmp_path / 'exp' / 'results.json').read_text())['rows']
    default = results['default']
    assert (tmp_path / 'exp' / 'default.pt').is_file()
    assert default['label_agreement_fp16_vs_fp32'] > 0.9 and default['depth_max_abs_diff_m'] < 0.5

    # A second run finds everything finished and only re-scores: it must not render or
    # train, the labeller skips every frame, and no checkpoint or image file is rewritten.
    before = finished_files(tmp_path / 'exp')
    assert sum(p.suffix == '.pt' for p in before) == 2 * 2 + 2 * 2 + 2  # last + best per run

    def refuse(*args, **kwargs):
        pytest.fail('the resumed experiment redid a finished step')

    for module, name in ((train, 'main'), (experiment, 'render_frame'),
                         (experiment, 'render_sequence')):
        monkeypatch.setattr(module, name, refuse)
    path = tmp_path / 'exp.yaml'
    path.write_text(yaml.safe_dump({**json.loads((tmp_path / 'exp' / 'results.json')
                                                 .read_text())['config']}))
    assert main(['--config', str(path)]) == 0
    assert finished_files(tmp_path / 'exp') == before
    for domain in ('indoor', 'outdoor'):
        manifest = tmp_path / 'exp' / 'pseudo' / domain / 'manifest.json'
        runs = json.loads(manifest.read_text())['runs']
        assert len(runs) == 2 and runs[-1]['written'] == 0
        assert runs[-1]['skipped_done'] == runs[0]['written']
    rescored = json.loads((tmp_path / 'exp' / 'results.json').read_text())
    # Same checkpoints, same test sets: the same scores (NaN for classes absent from both).
    np.testing.assert_equal([r['scores'] for r in rescored['rows']],
                            [r['scores'] for r in results['rows']])


def test_families_share_teachers_and_pair_seeds(tmp_path, monkeypatch):
    tiny = RunSettings(epochs=1, epoch_size=4, batch_size=2)
    config = ExperimentConfig(
        output=str(tmp_path / 'exp'), height=32, width=48, source_frames=6,
        target_labelled={'indoor': 2, 'outdoor': 2}, target_unlabelled={'indoor': 4, 'outdoor': 4},
        sequence_length=4, val_frames=2, test_frames=3, domains=['indoor'], joint=False,
        teacher=tiny, student=tiny)
    run(config)
    trained = []
    real_main = train.main

    def recording(argv):
        trained.append(yaml.safe_load(open(argv[argv.index('--config') + 1])))
        return real_main(argv)

    monkeypatch.setattr(train, 'main', recording)
    families = dataclasses.replace(config, families=['espnet'], domain_seeds={'indoor': [0, 1]},
                                   run_tag='_short')
    results = run(families)
    # The teachers and their pseudo-labels are reused: only the new family's students train.
    assert sorted(Path(t['output']).name for t in trained) == [
        'student_a_indoor_seed0_espnet_short', 'student_a_indoor_seed1_espnet_short',
        'student_b_indoor_seed0_espnet_short', 'student_b_indoor_seed1_espnet_short']
    assert {t['model']['architecture'] for t in trained} == {'espnet'}
    assert {t['seed'] for t in trained} == {0, 1}
    rows = [r for r in results['rows'] if r.get('family') == 'espnet']
    assert {(r['variant'], r['seed']) for r in rows} == {('a', 0), ('a', 1), ('b', 0), ('b', 1)}
    assert all(r['architecture'] == 'espnet' for r in rows)
    # The margin pairs (b) and (a) of the same seed.
    score = {(r['variant'], r['seed']): r['scores']['test_indoor/miou'] for r in rows}
    margins = [score['b', seed] - score['a', seed] for seed in (0, 1)]
    summary = results['families']['espnet']['indoor']
    assert summary['margin_miou']['mean'] == pytest.approx(np.mean(margins))
    assert summary['margin_miou']['std'] == pytest.approx(np.std(margins, ddof=1))
    assert summary['margin_miou']['n'] == 2 and len(summary['a']) == 2
    assert '| `espnet` | indoor | 2 |' in (tmp_path / 'exp' / 'results_short.md').read_text()
    # The paper's students' record is kept beside the tagged run's.
    paper = json.loads((tmp_path / 'exp' / 'results.json').read_text())
    assert [r['title'] for r in paper['rows']] == [
        'teacher resnet18 (indoor)', 'student (a) indoor: target labels only',
        'student (b) indoor: + pseudo-labels']


def test_publishing_keeps_both_experiments(tmp_path):
    def results(run_tag, family, miou):
        row = {'title': f'{family} (b)', 'family': family, 'domain': 'indoor', 'variant': 'b',
               'seed': 0, 'params': 1, 'gmacs': 1.0, 'train_minutes': 1.0,
               'scores': {'test_indoor/miou': miou, 'test_indoor/rmse': 1.0}}
        return {'config': {'run_tag': run_tag, 'width': 48, 'height': 32}, 'rows': [row],
                'families': experiment.family_summary([row]), 'wall_seconds': {'x': 1.0}}

    record = tmp_path / 'doc' / 'results.json'
    experiment.publish(results('', 'lwrefinenet_mobilenetv2', 0.25), record)
    experiment.publish(results('_families', 'espnet', 0.5), record)
    # The paper's rows stay; the tagged run gives the families summary.
    published = json.loads(record.read_text())
    assert [r['family'] for r in published['rows']] == ['lwrefinenet_mobilenetv2']
    assert list(published['families']) == ['espnet']
    assert [r['family'] for r in published['families_run']['rows']] == ['espnet']
    # Re-running the paper's experiment replaces its rows and keeps the families.
    experiment.publish(results('', 'lwrefinenet_mobilenetv2', 0.75), record)
    published = json.loads(record.read_text())
    assert published['rows'][0]['scores']['test_indoor/miou'] == 0.75
    assert published['families']['espnet']['indoor']['b_miou']['mean'] == 0.5
    markdown = record.with_suffix('.md').read_text()
    assert '75.0' in markdown and '| `espnet` | indoor |' in markdown
