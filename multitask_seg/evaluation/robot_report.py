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

"""The robot metrics' part of the report: summary.md sections and pictures."""

import math
from pathlib import Path

from . import robot_plots

KEYS = ('streaming', 'stability', 'small_objects', 'calibration')
TITLES = {'streaming': 'Streaming accuracy', 'stability': 'Temporal stability',
          'small_objects': 'Accuracy by object size', 'calibration': 'Calibration'}


def _pct(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    return f'{100 * value:.{digits}f} %'


def _num(value: float | None, unit: str = '', digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    return f'{value:.{digits}f}{unit}'


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ['| ' + ' | '.join(header) + ' |', '|---' + '|---:' * (len(header) - 1) + '|',
            *['| ' + ' | '.join(row) + ' |' for row in rows]]


def _streaming(entry: dict) -> list[str]:
    latency = entry['latency_s']
    measured = entry['streaming']
    head = f'streaming ({latency * 1e3:.0f} ms)' if measured else 'streaming'
    rows = [[name, fmt(entry['classic'][key]),
             fmt(measured[key]) if measured else 'n/a']
            for name, key, fmt in (('mIoU', 'miou', _pct),
                                   ('pixel accuracy', 'pixel_accuracy', _pct),
                                   ('RMSE', 'rmse', lambda v: _num(v, ' m')),
                                   ('abs rel', 'abs_rel', _num))]
    rows.append(['frames scored', str(entry['classic']['frames']),
                 str(measured['frames']) if measured else 'n/a'])
    lines = ['Each prediction scored against the ground truth of the frame current when it '
             f'is published. Latency: {entry["latency_source"]}.', '',
             *_table(['figure', 'classic', head], rows), '',
             'Each latency scores the predictions that have a current frame then: a '
             "sequence's last frames have none past their end, so larger latencies score "
             'fewer frames (the frames column).', '',
             *_table(['latency', 'frames', 'mIoU', 'RMSE'],
                     [[f'{p["latency_s"] * 1e3:.0f} ms', str(p['frames']), _pct(p['miou']),
                       _num(p['rmse'], ' m')] for p in entry['curve']])]
    return lines + _marks(entry)


def _marks(entry: dict) -> list[str]:
    """Return the marked latencies' rows (interpolated on the curve), or nothing."""
    marks = entry.get('marks') or []
    if not marks:
        return []
    rows = [[m['name'], f"{m['latency_s'] * 1e3:.1f} ms", _pct(m['miou']),
             _num(m['rmse'], ' m')] for m in marks]
    return ['', 'Latencies measured elsewhere, placed on the curve (figures interpolated '
            'between its points):', '', *_table(['path', 'latency', 'mIoU', 'RMSE'], rows)]


def _stability(entry: dict) -> list[str]:
    rows = [[name, _pct(entry['label_flip_rate_per_class'][name], 2),
             _pct(entry['depth_change_per_class'][name], 2)]
            for name in entry['label_flip_rate_per_class']
            if entry['label_flip_rate_per_class'][name] is not None
            or entry['depth_change_per_class'][name] is not None]
    return [f'Between consecutive frames ({entry["pairs"]} pairs), on {entry["method"]}: '
            f'label flip rate **{_pct(entry["label_flip_rate"], 2)}**, mean depth change '
            f'**{_pct(entry["depth_change"], 2)}** of the true depth.', '',
            *_table(['class', 'label flips', 'depth change'], rows)]


def _small_objects(entry: dict) -> list[str]:
    rows = [[b, str(n), _pct(i), _pct(r)] for b, n, i, r in
            zip(entry['bins'], entry['objects'], entry['iou'], entry['recall'])]
    return ['Objects: connected regions of one class in the ground truth, binned by area; '
            'IoU and recall averaged over objects.', '',
            *_table(['object area', 'objects', 'IoU', 'recall'], rows)]


def _calibration(entry: dict) -> list[str]:
    return [f'Expected calibration error of the segmentation confidence ({entry["bins"]} '
            f'bins, {entry["pixels"]} pixels): **{_pct(entry["ece"], 2)}** (largest bin gap '
            f'{_pct(entry["mce"], 1)}).']


SECTIONS = {'streaming': _streaming, 'stability': _stability,
            'small_objects': _small_objects, 'calibration': _calibration}


def sections(data: dict) -> list[str]:
    """Return summary.md's lines for the robot metrics of ``data`` (results.json)."""
    lines = []
    for key in KEYS:
        entry = data.get(key)
        if entry is None:
            continue
        lines += ['', f'## {TITLES[key]}', '']
        if not entry['available']:
            lines.append(f'Not computed: {entry["reason"]}.')
            continue
        lines += SECTIONS[key](entry)
    return lines


def pictures(data: dict, out: Path) -> list[str]:
    """Draw the pictures of the available robot metrics; return their file names."""
    draw = {'streaming': robot_plots.streaming, 'stability': robot_plots.stability,
            'small_objects': robot_plots.small_objects,
            'calibration': robot_plots.reliability}
    names = {'calibration': 'reliability'}
    return [draw[key](data[key], out / f'{names.get(key, key)}.png')
            for key in KEYS if data.get(key, {}).get('available')]
