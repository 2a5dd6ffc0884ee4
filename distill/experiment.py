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
The paper's experiment in miniature, on synthetic scenes, as one resumable command.

    python -m distill.experiment --config distill/configs/miniature.yaml

1. render a fully labelled source set per domain (its own scenes) and train a teacher;
2. render an uneven target set (few frames with segmentation, many with depth only,
   along robot trajectories) and held-out validation and test scenes;
3. the teacher pseudo-labels the target frames that lack segmentation;
4. train students of every family in ``families`` (LW-RefineNet on MobileNet-v2 by
   default; Fast-SCNN, ESPNet and the NAS decoders too): (a) target labels only, (b) plus
   pseudo-labels, with each domain's seeds; and one joint LW-RefineNet student over both
   domains with a union segmentation head;
5. score everything on the held-out test scenes as multitask_seg_eval would score the node's
   outputs (see train.evaluate); write results<run_tag>.json (with ``families``: per
   family and domain, (a) and (b) scores for each seed and the distillation margin, and
   ``wall_seconds``: each step's wall time, summed over interrupted runs) and .md;
6. store the joint student with float16 weights as default.pt (the package's bundled model:
   copy it to multitask_seg/bundled/default.pt).

Every step skips work already finished, so a killed run continues where it stopped.
"""

import argparse
import csv
from dataclasses import asdict, dataclass, field
import json
from pathlib import Path
import sys

from multitask_seg.atomic import write_text_atomically
from multitask_seg.bench.macs import count_macs, count_params
from multitask_seg.checkpoint import load_checkpoint, ModelInfo, read_checkpoint, save_checkpoint
from multitask_seg.config_io import load_config
from multitask_seg.data import FolderWriter
from multitask_seg.data.folder_format import depth_scale_for
from multitask_seg.inference.preprocess import pixel_statistics, to_network_input
from multitask_seg.model import MultiTaskNet
from multitask_seg.stopping import stoppable
from multitask_seg.synthetic import CLASSES, COLORS, render_frame, render_sequence, split_seeds
import numpy as np
import torch
import yaml

from . import label, train
from .train_config import DatasetSpec
from .training_views import open_dataset
from .wall_times import WallTimes

# Target scenes start here inside the train seed range, far from the source scenes.
TARGET_SEED_BASE = 500_000
# The paper's student; its runs keep their historical names (no family in them).
DEFAULT_FAMILY = 'lwrefinenet_mobilenetv2'


@dataclass
class RunSettings:
    """
    How one network trains: epochs x epoch_size samples in batches.

    The encoders start from random weights here (no ImageNet file can be fetched), so the
    encoder learns at the decoder's rate instead of the authors' 10x lower fine-tuning rate.
    """

    epochs: int = 10
    epoch_size: int = 800
    batch_size: int = 8
    encoder_lr: float = 1e-2
    decoder_lr: float = 1e-2


@dataclass
class ExperimentConfig:
    """
    Sizes of the miniature experiment (see distill/configs/miniature.yaml).

    :ivar height, width: rendered frame size; the networks train and test at it.
    :ivar source_frames: fully labelled frames per domain, for the teachers.
    :ivar target_labelled: domain -> target frames with segmentation (and depth).
    :ivar target_unlabelled: domain -> target frames with depth only.
    :ivar sequence_length: target frames come as robot trajectories of this many frames.
    :ivar val_frames, test_frames: held-out frames per domain (disjoint seed ranges).
    :ivar teacher_encoder: encoder of the teachers.
    :ivar domains: domains with an (a)/(b) student comparison.
    :ivar seeds: training seeds of the students; results report mean and spread.
    :ivar domain_seeds: domain -> its own seeds, in place of ``seeds`` (e.g. three seeds in
        one domain for error bars, one in the other).
    :ivar families: student architectures (keys of multitask_seg.model.architectures);
        every family trains with the same ``student`` settings and frame size.
    :ivar run_tag: appended to every student's run name, so experiments with other student
        settings share the rendered data, the teachers and their pseudo-labels but never
        each other's students.
    """

    output: str = 'build/experiment'
    height: int = 120
    width: int = 160
    source_frames: int = 1500
    target_labelled: dict[str, int] = field(
        default_factory=lambda: {'indoor': 300, 'outdoor': 100})
    target_unlabelled: dict[str, int] = field(
        default_factory=lambda: {'indoor': 3000, 'outdoor': 2000})
    sequence_length: int = 10
    val_frames: int = 50
    test_frames: int = 200
    teacher_encoder: str = 'resnet18'
    domains: list[str] = field(default_factory=lambda: ['indoor', 'outdoor'])
    seeds: list[int] = field(default_factory=lambda: [0])
    domain_seeds: dict[str, list[int]] = field(default_factory=dict)
    families: list[str] = field(default_factory=lambda: [DEFAULT_FAMILY])
    run_tag: str = ''
    joint: bool = True
    teacher: RunSettings = field(default_factory=RunSettings)
    student: RunSettings = field(default_factory=RunSettings)
    depth_cap: dict[str, float] = field(
        default_factory=lambda: {'indoor': 10.0, 'outdoor': 80.0})


def _writer(root: Path, domain: str, config: ExperimentConfig) -> FolderWriter:
    frame = render_frame(domain, 0, height=config.height, width=config.width)
    # Outdoor depth reaches past the 65.535 m of millimetre PNGs: KITTI's 1/256 m holds it.
    return FolderWriter(str(root), classes=CLASSES[domain], colors=COLORS[domain], K=frame.K,
                        width=config.width, height=config.height, domain=domain,
                        depth_scale=depth_scale_for(config.depth_cap[domain]))


def render_sets(config: ExperimentConfig, root: Path, clock: WallTimes) -> None:
    """Render source, target, validation and test sets for every domain (once)."""
    for domain in rendered_domains(config):
        if not rendered_marker(root, domain).exists():
            with clock.step(f'render {domain}'):
                render_domain(config, root, domain)


def render_domain(config: ExperimentConfig, root: Path, domain: str) -> None:
    """Render one domain's sets; a marker file says they are complete."""
    h, w = config.height, config.width
    source = _writer(root / f'source_{domain}', domain, config)
    for i, seed in enumerate(split_seeds('train')[:config.source_frames]):
        f = render_frame(domain, seed, height=h, width=w)
        source.write(f'{i:05d}', f.rgb, segmentation=f.labels, depth=f.sensor_depth)
    target = _writer(root / f'target_{domain}', domain, config)
    labelled = config.target_labelled[domain]
    total = labelled + config.target_unlabelled[domain]
    every = max(total // max(labelled, 1), 1)
    sequences = -(-total // config.sequence_length)
    n = 0
    for s in range(sequences):
        for f in render_sequence(domain, TARGET_SEED_BASE + s, config.sequence_length,
                                 height=h, width=w):
            if n == total:
                break
            keep = n % every == 0 and n // every < labelled
            target.write(f'{s:04d}_{f.index:03d}', f.rgb, depth=f.sensor_depth,
                         segmentation=f.labels if keep else None)
            n += 1
    for split, count in (('val', config.val_frames), ('test', config.test_frames)):
        writer = _writer(root / f'{split}_{domain}', domain, config)
        for i, seed in enumerate(split_seeds(split)[:count]):
            f = render_frame(domain, seed, height=h, width=w)
            # Indoor ground truth is dense (as NYUD's filled depth), outdoor sparse LiDAR
            # (as KITTI's).
            depth = f.depth if domain == 'indoor' else f.sensor_depth
            writer.write(f'{i:05d}', f.rgb, segmentation=f.labels, depth=depth)
    rendered_marker(root, domain).touch()


def rendered_domains(config: ExperimentConfig) -> list[str]:
    """Return the domains whose sets are rendered: the students' and, for the joint one, both."""
    return sorted({*config.domains, *(['indoor', 'outdoor'] if config.joint else [])})


def rendered_marker(root: Path, domain: str) -> Path:
    """Return the file whose presence says ``domain``'s sets are completely rendered."""
    return root / f'.{domain}_rendered'


def train_run(name: str, root: Path, datasets: list[dict], val: list[dict], model: dict,
              settings: RunSettings, config: ExperimentConfig, seed: int,
              classes: list[str], colors: list) -> Path:
    """Write a training config and train it (resuming a killed run); return last.pt."""
    output = root / 'runs' / name
    last = output / 'last.pt'
    if last.is_file() and read_checkpoint(last)['extra']['progress']['epoch'] >= settings.epochs:
        return last
    train_config = {
        'output': str(output), 'model': model, 'datasets': datasets, 'val': val,
        'classes': classes, 'colors': [list(c) for c in colors],
        'augment': {'crop': [config.height, config.width], 'scale': [0.8, 1.5]},
        'batch_size': settings.batch_size, 'epochs': settings.epochs,
        'epoch_size': settings.epoch_size, 'seed': seed, 'save_every': 50,
        'optimizer': {'encoder_lr': settings.encoder_lr, 'decoder_lr': settings.decoder_lr},
        'inference_size': [config.height, config.width], 'depth_range': [0.1, 80.0],
    }
    path = root / 'configs' / f'{name}.yaml'
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, yaml.safe_dump(train_config, sort_keys=False))
    status = train.main(['--config', str(path), '--resume'])
    if status:
        raise SystemExit(stopped(status))
    return last


def stopped(status: int) -> int:
    """Say how to go on after a step a signal stopped; return its exit status."""
    print('distill.experiment: stopped; the same command continues where it stopped',
          file=sys.stderr)
    return status


def score_test_split(model: MultiTaskNet, info: ModelInfo, specs: list[DatasetSpec]) -> dict:
    """Score a model on held-out test sets with the trainer's validation (see train.evaluate)."""
    datasets = {s.name: open_dataset(s, model.config.tasks, train=False) for s in specs}
    return train.evaluate(model, datasets, specs, info, torch.device('cpu'))


def run(config: ExperimentConfig) -> dict:
    """Run every step; return the results table as data."""
    root = Path(config.output)
    data = root / 'data'
    # Experiments sharing the folder share the rendering's and the teachers' entries; the
    # students' names carry their run_tag.
    clock = WallTimes(root / 'wall_times.json')
    render_sets(config, data, clock)
    results = {'config': asdict(config), 'rows': []}
    pseudo = {}

    def spec(domain: str, split: str, **kw) -> dict:
        return {'name': f'{split}_{domain}', 'root': str(data / f'{split}_{domain}'),
                'depth_cap': config.depth_cap[domain], **kw}

    for domain in rendered_domains(config):
        classes = list(CLASSES[domain])
        with clock.step(f'teacher {domain}'):
            teacher = train_run(
                f'teacher_{domain}', root, [spec(domain, 'source')], [spec(domain, 'val')],
                {'encoder': config.teacher_encoder, 'depthwise_last_crp': False,
                 'tasks': {'segmentation': len(classes), 'depth': 1}},
                config.teacher, config, 0, classes, COLORS[domain])
        results['rows'].append(_row(f'teacher {config.teacher_encoder} ({domain})', teacher,
                                    [DatasetSpec(**spec(domain, 'test'))], root))
        pseudo[domain] = root / 'pseudo' / domain
        with clock.step(f'pseudo-labels {domain}'):
            status = label.main(['--teacher', str(teacher),
                                 '--input', str(data / f'target_{domain}'),
                                 '--output', str(pseudo[domain]), '--tasks', 'segmentation',
                                 '--device', 'cpu'])
        if status > 128:
            raise SystemExit(stopped(status))
        if status:
            raise SystemExit(f'labelling {domain} with {teacher} failed (status {status})')

    for family in config.families:
        for domain in config.domains:
            classes = list(CLASSES[domain])
            student = {'architecture': family,
                       'tasks': {'segmentation': len(classes), 'depth': 1}}
            for seed in config.domain_seeds.get(domain, config.seeds):
                for variant, extra in (('a', {}),
                                       ('b', {'pseudo_labels': {'segmentation':
                                                                str(pseudo[domain])}})):
                    name = student_run(family, variant, domain, seed, config)
                    with clock.step(name):
                        last = train_run(name, root, [spec(domain, 'target', **extra)],
                                         [spec(domain, 'val')], student, config.student,
                                         config, seed, classes, COLORS[domain])
                    title = (f'{family_title(family)}student ({variant}) {domain}: '
                             + ('target labels only' if variant == 'a' else '+ pseudo-labels'))
                    results['rows'].append(
                        _row(title, last.parent / 'best.pt',
                             [DatasetSpec(**spec(domain, 'test'))], root, seed=seed,
                             family=family, domain=domain, variant=variant))
    results['families'] = family_summary(results['rows'])

    if config.joint:
        union = list(CLASSES['indoor']) + list(CLASSES['outdoor'])
        offsets = {'indoor': 0, 'outdoor': len(CLASSES['indoor'])}
        datasets = [spec(d, 'target', class_offset=offsets[d],
                         pseudo_labels={'segmentation': str(pseudo[d])}) for d in offsets]
        val = [spec(d, 'val', class_offset=offsets[d]) for d in offsets]
        with clock.step('student_joint'):
            last = train_run('student_joint', root, datasets, val,
                             {'encoder': 'mobilenet_v2',
                              'tasks': {'segmentation': len(union), 'depth': 1}},
                             config.student, config, config.seeds[0], union,
                             list(COLORS['indoor']) + list(COLORS['outdoor']))
        tests = [DatasetSpec(**spec(d, 'test', class_offset=offsets[d])) for d in offsets]
        results['rows'].append(_row('joint student, both domains, union head (b)',
                                    last.parent / 'best.pt', tests, root))
        results['default'] = export_default(last.parent / 'best.pt', root / 'default.pt',
                                            [DatasetSpec(**spec(d, 'test')) for d in offsets])
    results['wall_seconds'] = dict(clock.seconds)
    write_text_atomically(root / f'results{config.run_tag}.json', json.dumps(results, indent=1))
    write_text_atomically(root / f'results{config.run_tag}.md', markdown(results))
    return results


def publish(results: dict, path: Path) -> dict:
    """
    Merge ``results`` into the published record ``path`` (JSON, and Markdown beside it).

    The paper's experiment (no run_tag) gives the record's rows, default model and
    configuration; a tagged set of students (the speed tiers, ``families.yaml``) gives its
    ``families`` summary, with its own rows, configuration and wall times under
    ``families_run``. Either may be re-run without losing the other's figures.
    """
    record = json.loads(path.read_text()) if path.is_file() else {}
    if results['config']['run_tag']:
        record['families'] = results['families']
        record['families_run'] = {key: results[key]
                                  for key in ('config', 'rows', 'wall_seconds')}
    else:
        kept = {key: record[key] for key in ('families', 'families_run') if key in record}
        record = {**results, **kept}
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(record, indent=1))
    write_text_atomically(path.with_suffix('.md'), markdown(record))
    return record


def student_run(family: str, variant: str, domain: str, seed: int,
                config: ExperimentConfig) -> str:
    """Return a student's run name: student_<variant>_<domain>_seed<seed>[_<family>]<tag>."""
    name = f'student_{variant}_{domain}_seed{seed}'
    return name + ('' if family == DEFAULT_FAMILY else f'_{family}') + config.run_tag


def family_title(family: str) -> str:
    """Return the prefix of a family's row titles ('' for the paper's student)."""
    return '' if family == DEFAULT_FAMILY else f'{family} '


def family_summary(rows: list[dict]) -> dict:
    """
    Return {family: {domain: per-seed (a) and (b) scores and the distillation margin}}.

    The margin is (b) - (a) per seed, paired by seed (both variants of a seed start from
    the same initialisation and see the same target frames), then its mean and spread.
    """
    summary: dict = {}
    for row in rows:
        if 'family' not in row:
            continue
        domain = row['domain']
        test = f'test_{domain}'
        scores = {'seed': row['seed'], 'miou': row['scores'].get(f'{test}/miou'),
                  'rmse': row['scores'].get(f'{test}/rmse')}
        entry = summary.setdefault(row['family'], {}).setdefault(domain, {'a': [], 'b': []})
        entry[row['variant']].append(scores)
    for domains in summary.values():
        for entry in domains.values():
            by_seed = {s['seed']: s for s in entry['a']}
            for metric in ('miou', 'rmse'):
                for variant in ('a', 'b'):
                    values = [s[metric] for s in entry[variant] if s[metric] is not None]
                    entry[f'{variant}_{metric}'] = _mean_std(values)
                margins = [b[metric] - by_seed[b['seed']][metric] for b in entry['b']
                           if b['seed'] in by_seed and b[metric] is not None
                           and by_seed[b['seed']][metric] is not None]
                entry[f'margin_{metric}'] = _mean_std(margins)
    return summary


def _mean_std(values: list[float]) -> dict:
    if not values:
        return {'mean': None, 'std': None, 'n': 0}
    # Sample spread (n - 1): with three seeds the population formula understates it.
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return {'mean': float(np.mean(values)), 'std': std, 'n': len(values)}


def export_default(source: Path, target: Path, tests: list[DatasetSpec]) -> dict:
    """
    Store the joint student with float16 weights as the package's default model.

    The joint student is the one model that covers both domains the demo shows. Returns how
    far the float16 copy's outputs are from the float32 original on the test images.
    """
    model, info, _ = load_checkpoint(source)
    info.provenance['made_by'] = 'make experiment (distill/configs/miniature.yaml)'
    info.provenance['source_checkpoint'] = str(source)
    save_checkpoint(target, model, info, half=True)
    half, _, _ = load_checkpoint(target)
    agree, depth_diff, pixels = 0, 0.0, 0
    mean, std = pixel_statistics(info.mean, info.std)
    with torch.no_grad():
        for spec in tests:
            dataset = open_dataset(spec, model.config.tasks, train=False)
            for i in range(min(len(dataset), 50)):
                image = to_network_input([dataset[i]['image']], None, mean, std)
                a, b = model(image), half(image)
                agree += int((a['segmentation'].argmax(1) == b['segmentation'].argmax(1)).sum())
                depth_diff = max(depth_diff, float((a['depth'] - b['depth']).abs().max()))
                pixels += a['depth'].numel()
    return {'checkpoint': str(target), 'bytes': target.stat().st_size,
            'label_agreement_fp16_vs_fp32': agree / pixels,
            'depth_max_abs_diff_m': depth_diff}


def _row(title: str, checkpoint: Path, tests: list[DatasetSpec], root: Path,
         seed: int = 0, **labels: str) -> dict:
    model, info, _ = load_checkpoint(checkpoint)
    seconds = 0.0
    log = checkpoint.parent / 'metrics.csv'
    if log.is_file():
        with open(log) as f:
            seconds = sum(float(r['seconds']) for r in csv.DictReader(f))
    return {'title': title, 'checkpoint': str(checkpoint.relative_to(root)), 'seed': seed,
            'architecture': model.config.architecture, 'encoder': model.config.encoder,
            **labels, 'params': count_params(model),
            'gmacs': round(count_macs(model, *info.input_size) / 1e9, 3),
            'train_minutes': round(seconds / 60, 1),
            'scores': score_test_split(model, info, tests)}


def markdown(results: dict) -> str:
    """Render the results as a Markdown table (mean over seeds where several)."""
    grouped: dict[str, list[dict]] = {}
    for row in results['rows']:
        grouped.setdefault(row['title'], []).append(row)
    size = 'x'.join(str(v) for v in (results['config']['width'], results['config']['height']))
    # Depth errors count only pixels the node would publish a depth for; coverage says how
    # many of the ground truth's those are.
    lines = [f'| model | test set | mIoU % | RMSE lin (m) | RMSE log | depth coverage % | params '
             f'| GMACs at {size} | train min | seeds |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for title, rows in grouped.items():
        sets = sorted({k.split('/')[0] for k in rows[0]['scores']})
        for test_set in sets:
            def stat(key: str, scale: float = 1.0, digits: int = 3) -> str:
                values = [r['scores'].get(f'{test_set}/{key}') for r in rows]
                values = [v * scale for v in values if v is not None]
                if not values:
                    return '-'
                text = f'{np.mean(values):.{digits}f}'
                return text + (f' ± {np.std(values):.{digits}f}' if len(values) > 1 else '')
            lines.append(
                f'| {title} | {test_set} | {stat("miou", 100, 1)} | {stat("rmse")} | '
                f'{stat("rmse_log")} | {stat("depth_coverage", 100, 1)} | '
                f'{rows[0]["params"]:,} | {rows[0]["gmacs"]:.2f} | '
                f'{np.mean([r["train_minutes"] for r in rows]):.1f} | {len(rows)} |')
    if results.get('families'):
        lines += ['', family_markdown(results['families'])]
    if results.get('wall_seconds'):
        lines += ['', '| step | wall time (min, summed over resumed runs) |', '|---|---|']
        lines += [f'| {step} | {seconds / 60:.1f} |'
                  for step, seconds in results['wall_seconds'].items()]
    return '\n'.join(lines) + '\n'


def family_markdown(families: dict) -> str:
    """Render (a), (b) and the distillation margin per family and domain, mean ± std."""
    def cell(stat: dict, scale: float, digits: int, sign: str = '') -> str:
        if stat['mean'] is None:
            return '-'
        text = f'{stat["mean"] * scale:{sign}.{digits}f}'
        return text + (f' ± {stat["std"] * scale:.{digits}f}' if stat['std'] is not None else '')

    lines = ['| family | domain | seeds | mIoU % (a) | mIoU % (b) | KD margin mIoU (pts) '
             '| RMSE m (a) | RMSE m (b) | KD margin RMSE (m) |',
             '|---|---|---|---|---|---|---|---|---|']
    for family, domains in families.items():
        for domain, e in domains.items():
            lines.append(
                f'| `{family}` | {domain} | {e["margin_miou"]["n"]} | '
                f'{cell(e["a_miou"], 100, 1)} | {cell(e["b_miou"], 100, 1)} | '
                f'{cell(e["margin_miou"], 100, 1, "+")} | {cell(e["a_rmse"], 1, 3)} | '
                f'{cell(e["b_rmse"], 1, 3)} | {cell(e["margin_rmse"], 1, 3, "+")} |')
    return '\n'.join(lines)


@stoppable('distill.experiment')
def main(argv: list[str] | None = None) -> int:
    """Run the experiment the config describes and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--config', type=Path, default=None,
                        help='experiment YAML (default: the built-in miniature sizes)')
    parser.add_argument('--publish', type=Path, default=None,
                        help='also merge the results into this JSON record (and its .md), '
                             'e.g. doc/experiment_results.json (see publish)')
    args = parser.parse_args(argv)
    config = load_config(ExperimentConfig, args.config) if args.config else ExperimentConfig()
    results = run(config)
    print(markdown(results))
    if args.publish:
        publish(results, args.publish)
        print(f'published into {args.publish} and {args.publish.with_suffix(".md")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
