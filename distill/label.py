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
Label what a dataset lacks with a teacher's hard predictions (pseudo-labels).

    multitask_seg_label --teacher teacher.pt --input DATASET --output PSEUDO

Writes PSEUDO/<task folder>/<name>.png (segmentation/, depth/, normals/) in the dataset
folder layout, only for samples without ground truth for that task (unless told to overwrite),
plus meta.yaml (the teacher's classes) and manifest.json (what was done, with which
teacher). Killed and restarted, it skips the files already written; each file appears
whole or not at all. Ctrl-C or SIGTERM stops it after the batch under way (exit status
130 / 143, the run recorded in the manifest as stopped); a second signal stops it at once.
"""

import argparse
from datetime import datetime, timezone
import hashlib
import json
from pathlib import Path
import shutil
import signal
import sys
import time

from multitask_seg.atomic import atomic_path, stale_temporaries, write_text_atomically
from multitask_seg.data.folder_format import (depth_scale_for, meta_yaml, parse_depth_scale,
                                              TASK_DIRS, write_target)
from multitask_seg.inference import Predictor
from multitask_seg.inference.engines import ENGINE_NAMES
from multitask_seg.stopping import GracefulStop, Stopped
from multitask_seg.tasks import IGNORE_LABEL, TASKS
import numpy as np
from tqdm import tqdm
import yaml

from .label_sources import open_source


def sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file (identifies the teacher in the manifest)."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def plan(source, tasks: list[str], output: Path, overwrite: bool) -> tuple[list, dict]:
    """
    Decide which (sample, task) pairs still need a pseudo-label.

    :return: ([(index, name, [tasks to label])], counts of what is skipped and why).
    """
    work, counts = [], {'skipped_ground_truth': 0, 'skipped_done': 0}
    for index, name in enumerate(source.names):
        todo = []
        for task in tasks:
            if not overwrite and source.has(index, task):
                counts['skipped_ground_truth'] += 1
            elif (output / TASK_DIRS[task] / f'{name}.png').is_file():
                counts['skipped_done'] += 1
            else:
                todo.append(task)
        if todo:
            work.append((index, name, todo))
    return work, counts


def label(predictor: Predictor, source, work: list, output: Path, batch_size: int,
          confidence: float, depth_scale: float, stop: GracefulStop | None = None) -> int:
    """
    Predict and write every planned pseudo-label, a batch at a time; return files written.

    :param depth_scale: depth PNG units per metre (the folder's meta.yaml records it).
    :param stop: once it has a signal, no further batch is started.
    """
    written = 0
    bar = tqdm(total=len(work), unit='img', desc='labelling', dynamic_ncols=True)
    for start in range(0, len(work), batch_size):
        if stop is not None and stop.signum is not None:
            break
        chunk = work[start:start + batch_size]
        images = [source.image(index) for index, _, _ in chunk]
        results = predictor.predict(images, confidence=confidence > 0)
        for (_, name, todo), result in zip(chunk, results):
            if confidence > 0 and 'segmentation' in result:
                result['segmentation'] = np.where(
                    result['segmentation_confidence'] < confidence,
                    np.uint8(IGNORE_LABEL), result['segmentation'])
            for task in todo:
                # What the node would publish: depth at the ends of the teacher's range
                # is invalid.
                target = TASKS[task].published(result[task], predictor.info)
                with atomic_path(output / TASK_DIRS[task] / f'{name}.png') as tmp:
                    write_target(str(tmp), task, target, depth_scale)
                written += 1
        bar.update(len(chunk))
    bar.close()
    return written


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--teacher', required=True, type=Path,
                        help='teacher model: a .pt checkpoint or .onnx export of this package, '
                             'or a .yaml describing a foreign ONNX model')
    parser.add_argument('--input', required=True, type=Path,
                        help='a dataset folder (images/ + annotations) or a folder of images; '
                             "with --input-kind, the reader's path (.mat file, bag, root)")
    parser.add_argument('--input-kind', default='auto',
                        help='reader: auto, folder, nyud_mat, nyud_raw, kitti_depth, '
                             'kitti_semantics or bag (default: %(default)s)')
    parser.add_argument('--input-option', action='append', default=[], metavar='KEY=VALUE',
                        help='a further reader argument, e.g. image_topic=/cam/image_raw '
                             '(values parsed as YAML); repeatable')
    parser.add_argument('--output', required=True, type=Path, help='pseudo-label folder')
    parser.add_argument('--tasks', default='',
                        help='comma-separated tasks to label, of segmentation, depth and '
                             'normals (default: every task the teacher predicts)')
    parser.add_argument('--confidence', type=float, default=0.0,
                        help='segmentation pixels whose softmax probability is below this '
                             f'become {IGNORE_LABEL} (ignore); 0 keeps every pixel')
    parser.add_argument('--overwrite-ground-truth', action='store_true',
                        help='label samples that have ground truth too (default: skip them)')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--device', default='auto', help="'cpu', 'cuda' or 'auto'")
    parser.add_argument('--threads', type=int, default=None, help='CPU threads')
    parser.add_argument('--engine', default='auto', choices=ENGINE_NAMES,
                        help='inference engine; auto: OpenVINO, else ONNX Runtime, else '
                             'PyTorch (CUDA: PyTorch) (default: %(default)s)')
    parser.add_argument('--input-size', default='checkpoint',
                        help="'checkpoint', 'native' or HxW, e.g. 480x640")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Label, resumably; exit 2 with a message naming the problem on bad input."""
    args = parse_args(argv)
    with GracefulStop() as stop:
        try:
            return run(args, stop)
        except Stopped as stopped:
            print(f'multitask_seg_label: {stopped}; the files written so far are whole: run '
                  f'the same command again to label the rest', file=sys.stderr)
            return stopped.status


def run(args: argparse.Namespace, stop: GracefulStop) -> int:
    """Label as ``args`` say; return the exit status, or raise Stopped if a signal came."""
    started = time.time()
    device = args.device
    if device == 'auto':
        import torch
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    size = args.input_size
    if 'x' in size:
        size = tuple(int(v) for v in size.split('x'))
    try:
        predictor = Predictor(args.teacher, device=device, input_size=size,
                              num_threads=args.threads, engine=args.engine)
        options = {}
        for item in args.input_option:
            key, sep, value = item.partition('=')
            if not sep:
                raise ValueError(f'--input-option {item!r} is not KEY=VALUE')
            options[key] = yaml.safe_load(value)
        source = open_source(args.input, args.input_kind, options)
    except (OSError, ValueError) as exc:
        print(f'multitask_seg_label: {exc}', file=sys.stderr)
        return 2
    tasks = [t.strip() for t in args.tasks.split(',') if t.strip()] or [
        t for t in TASK_DIRS if t in predictor.tasks]
    unknown = [t for t in tasks if t not in TASK_DIRS or t not in predictor.tasks]
    if unknown:
        print(f'multitask_seg_label: the teacher {args.teacher} cannot label {unknown}; it '
              f'predicts {sorted(predictor.tasks)}', file=sys.stderr)
        return 2
    if 'segmentation' in tasks and len(predictor.info.classes) > IGNORE_LABEL:
        print(f'multitask_seg_label: more than {IGNORE_LABEL} classes do not fit 8-bit label '
              f'PNGs',
              file=sys.stderr)
        return 2

    output = args.output
    for task in tasks:
        (output / TASK_DIRS[task]).mkdir(parents=True, exist_ok=True)
    stale = stale_temporaries(output)
    for path in stale:
        path.unlink()
    # Depth files of an earlier run keep their scale; a new folder gets one that holds the
    # teacher's whole depth range.
    meta = output / 'meta.yaml'
    depth_scale = parse_depth_scale(str(meta)) if meta.is_file() else depth_scale_for(
        float(predictor.info.depth_range[1]))
    write_text_atomically(meta, yaml.safe_dump(meta_yaml(
        None, predictor.info.classes, predictor.info.colors, depth_scale), sort_keys=False))
    if (args.input / 'camera.yaml').is_file():
        shutil.copyfile(args.input / 'camera.yaml', output / 'camera.yaml')
    work, counts = plan(source, tasks, output, args.overwrite_ground_truth)
    written = label(predictor, source, work, output, args.batch_size, args.confidence,
                    depth_scale, stop)

    manifest_path = output / 'manifest.json'
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    manifest.setdefault('runs', []).append({
        'teacher': str(args.teacher.resolve()), 'teacher_sha256': sha256(args.teacher),
        'input': str(args.input.resolve()), 'tasks': tasks, 'confidence': args.confidence,
        'overwrite_ground_truth': args.overwrite_ground_truth, 'device': device,
        'input_size': args.input_size, 'written': written, 'stale_temporaries_removed': len(stale),
        **counts, 'samples': len(source.names), 'seconds': round(time.time() - started, 2),
        'finished': datetime.now(timezone.utc).isoformat(timespec='seconds'),
        'stopped_by': signal.Signals(stop.signum).name if stop.signum else None})
    write_text_atomically(manifest_path, json.dumps(manifest, indent=1))
    print(f'labelled {written} files into {output} ({counts["skipped_done"]} already done, '
          f'{counts["skipped_ground_truth"]} with ground truth)')
    stop.check()
    return 0


if __name__ == '__main__':
    sys.exit(main())
