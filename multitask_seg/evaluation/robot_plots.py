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
Pictures of the robot metrics (see ``robot_metrics``), drawn like ``plots``.

streaming.png       mIoU and RMSE against latency, the measured latency marked
stability.png       label flip rate and depth change per true class
small_objects.png   IoU and recall per object-size bin
reliability.png     reliability diagram (accuracy against confidence), and depth error
                    against confidence
"""

from pathlib import Path

from matplotlib.figure import Figure
import numpy as np

from .plots import _save


def _values(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], np.float64)


def streaming(result: dict, path: Path) -> str:
    """Draw streaming mIoU and RMSE against latency; measured and marked latencies as lines."""
    curve = result['curve']
    ms = np.array([p['latency_s'] for p in curve]) * 1e3
    figure = Figure(figsize=(7, 4), layout='constrained')
    axes = figure.subplots(1, 2, squeeze=False)[0]
    measured = result.get('latency_s')
    point = result.get('streaming')
    for axis, key, label, scale in ((axes[0], 'miou', 'mIoU (%)', 100),
                                    (axes[1], 'rmse', 'RMSE (m)', 1)):
        values = _values([p[key] for p in curve]) * scale
        axis.plot(ms, values, 'o-', label='prediction t vs truth at t + latency')
        if measured is not None:
            axis.axvline(measured * 1e3, color='black', linestyle='--',
                         label=f'measured {measured * 1e3:.0f} ms')
            if point and point.get(key) is not None:
                axis.plot(measured * 1e3, point[key] * scale, 'r*', markersize=12,
                          label='at the measured latency')
        for index, mark in enumerate(result.get('marks', [])):
            axis.axvline(mark['latency_s'] * 1e3, color=f'C{index + 1}', linestyle=':',
                         label=f"{mark['name']} {mark['latency_s'] * 1e3:.0f} ms")
        axis.set_xlabel('latency (ms)')
        axis.set_ylabel(label)
    axes[0].legend(fontsize=7)
    return _save(figure, path)


def stability(result: dict, path: Path) -> str:
    """Draw the label flip rate and the relative depth change per true class."""
    figure = Figure(figsize=(8, 4), layout='constrained')
    axes = figure.subplots(1, 2, squeeze=False)[0]
    for axis, key, overall, label in (
            (axes[0], 'label_flip_rate_per_class', 'label_flip_rate', 'label flips (%)'),
            (axes[1], 'depth_change_per_class', 'depth_change', 'depth change (% of depth)')):
        names = [n for n, v in result[key].items() if v is not None]
        values = [100 * result[key][n] for n in names]
        axis.barh(range(len(names)), values, color='tab:blue')
        axis.set_yticks(range(len(names)), names, fontsize=7)
        axis.invert_yaxis()
        if result[overall] is not None:
            axis.axvline(100 * result[overall], color='black', linestyle='--',
                         label=f'all {100 * result[overall]:.2f} %')
            axis.legend(fontsize=7)
        axis.set_xlabel(label)
    return _save(figure, path)


def small_objects(result: dict, path: Path) -> str:
    """Draw IoU and recall per object-size bin, all classes and each class."""
    x = np.arange(len(result['bins']))
    figure = Figure(figsize=(7, 4), layout='constrained')
    axis = figure.subplots()
    for name, figures in result['per_class'].items():
        axis.plot(x, _values(figures['iou']) * 100, '-', color='0.8', linewidth=0.8)
    axis.plot(x, _values(result['iou']) * 100, 'o-', label='IoU (all classes)')
    axis.plot(x, _values(result['recall']) * 100, 's-', label='recall (all classes)')
    axis.plot([], [], '-', color='0.8', label='IoU of each class')
    labels = [f'{b}\n{n} objects' for b, n in zip(result['bins'], result['objects'])]
    axis.set_xticks(x, labels, fontsize=8)
    axis.set_xlabel('object area (share of the image)')
    axis.set_ylabel('%')
    axis.set_ylim(0, 100)
    axis.legend(fontsize=8)
    return _save(figure, path)


def reliability(result: dict, path: Path) -> str:
    """Draw accuracy against confidence per bin, and depth error against confidence."""
    edges = np.asarray(result['edges'])
    centres, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    figure = Figure(figsize=(9, 4), layout='constrained')
    left, right = figure.subplots(1, 2)
    left.bar(centres, _values(result['accuracy']), width=width * 0.95, color='tab:blue',
             label='accuracy')
    left.plot([0, 1], [0, 1], 'k--', label='perfectly calibrated')
    share = np.asarray(result['count']) / max(1, sum(result['count']))
    left.bar(centres, share, width=width * 0.5, color='tab:orange', alpha=0.7,
             label='share of pixels')
    left.set_xlabel('confidence')
    left.set_ylabel('accuracy')
    left.set_title(f'ECE {100 * result["ece"]:.2f} %', fontsize=9)
    left.legend(fontsize=7, loc='upper left')
    depth = _values(result['depth_abs_rel'])
    right.plot(centres, depth, 'o-')
    right.set_xlabel('segmentation confidence')
    right.set_ylabel('depth abs rel error')
    right.set_xlim(0, 1)
    return _save(figure, path)
