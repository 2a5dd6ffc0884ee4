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
The report's pictures, drawn with matplotlib's Agg canvas (no display, no pyplot state).

samples.png       per kept frame: RGB | true labels | predicted labels | true depth |
                  predicted depth | absolute depth error (black: no ground truth)
confusion.png     confusion matrix, each true class's row normalised to 1
depth_error.png   RMSE and mean absolute error against ground-truth distance
latency.png       end-to-end latency histogram (live mode)
"""

from pathlib import Path

from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
import numpy as np

from .scoring import DistanceErrors, Sample
from ..metrics import SegmentationMetric
from ..tasks import IGNORE_LABEL

TITLES = ('RGB', 'true labels', 'predicted labels', 'true depth (m)', 'predicted depth (m)',
          '|error| (m)')


def _save(figure: Figure, path: Path) -> str:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=100)
    return path.name


def colorize(labels: np.ndarray, colors: list[list[int]]) -> np.ndarray:
    """Return (H, W, 3) uint8 class colours of (H, W) ids; ignore and unknown ids are black."""
    lut = np.zeros((max(len(colors), IGNORE_LABEL + 1, int(labels.max(initial=0)) + 1), 3),
                   np.uint8)
    lut[:len(colors)] = np.asarray(colors, np.uint8).reshape(-1, 3)
    lut[IGNORE_LABEL] = 0
    return lut[labels]


def sample_grid(samples: list[Sample], colors: list[list[int]], path: Path) -> str:
    """Draw one row per sample; return the file name."""
    height, width = samples[0].image.shape[:2]
    cell = 2.4
    figure = Figure(figsize=(cell * 6, cell * height / width * len(samples) + 0.6),
                    layout='constrained')
    axes = figure.subplots(len(samples), 6, squeeze=False)
    for row, sample in zip(axes, samples):
        truth, pred = sample.truth, sample.prediction
        depth_true = truth.get('depth')
        depth_pred = pred.get('depth')
        top = (np.percentile(depth_true[depth_true > 0], 99)
               if depth_true is not None and (depth_true > 0).any() else None)
        error = None
        if depth_true is not None and depth_pred is not None:
            valid = (depth_true > 0) & np.isfinite(depth_pred) & (depth_pred > 0)
            error = np.where(valid, np.abs(depth_pred - depth_true), np.nan)
        panels = (
            sample.image,
            colorize(truth['segmentation'], colors) if 'segmentation' in truth else None,
            colorize(pred['segmentation'], colors) if 'segmentation' in pred else None,
            np.where(depth_true > 0, depth_true, np.nan) if depth_true is not None else None,
            np.where(depth_pred > 0, depth_pred, np.nan) if depth_pred is not None else None,
            error,
        )
        for k, (axis, panel) in enumerate(zip(row, panels)):
            axis.set_axis_off()
            if panel is None:
                continue
            if panel.ndim == 3:
                axis.imshow(panel)
                continue
            cmap = colormaps['magma' if k == 5 else 'viridis'].with_extremes(bad='black')
            image = axis.imshow(panel, cmap=cmap, vmin=0, vmax=None if k == 5 else top)
            figure.colorbar(image, ax=axis, shrink=0.8)
    for axis, title in zip(axes[0], TITLES):
        axis.set_title(title, fontsize=9)
    return _save(figure, path)


def confusion(metric: SegmentationMetric, classes: list[str], path: Path) -> str:
    """Draw the row-normalised confusion matrix (rows: truth, columns: prediction)."""
    matrix = metric.state['confusion'].double().numpy()
    rows = matrix.sum(1, keepdims=True)
    shown = matrix / np.maximum(rows, 1)
    names = list(classes)
    if not matrix[:, -1].any():
        shown = shown[:, :-1]
    else:
        names.append('other')
    size = 2.5 + 0.35 * len(classes)
    figure = Figure(figsize=(size + 1.5, size), layout='constrained')
    axis = figure.subplots()
    image = axis.imshow(shown, cmap='Blues', vmin=0, vmax=1)
    axis.set_xticks(range(len(names)), names, rotation=90, fontsize=8)
    axis.set_yticks(range(len(classes)), classes, fontsize=8)
    axis.set_xlabel('predicted class')
    axis.set_ylabel('true class')
    figure.colorbar(image, ax=axis, label='share of the true class')
    return _save(figure, path)


def depth_error(errors: DistanceErrors, path: Path) -> str:
    """Draw RMSE and mean absolute error per ground-truth distance bin."""
    used = errors.count > 0
    centres = ((errors.edges[:-1] + errors.edges[1:]) / 2)[used]
    n = errors.count[used]
    figure = Figure(figsize=(7, 4), layout='constrained')
    axis = figure.subplots()
    share = axis.twinx()
    share.bar(centres, n / n.sum(), width=np.diff(errors.edges)[0] * 0.9, color='0.85')
    share.set_ylabel('share of pixels')
    axis.set_zorder(share.get_zorder() + 1)
    axis.patch.set_visible(False)
    axis.plot(centres, np.sqrt(errors.sq_sum[used] / n), 'o-', label='RMSE')
    axis.plot(centres, errors.abs_sum[used] / n, 's-', label='mean |error|')
    axis.set_xlabel('ground-truth depth (m)')
    axis.set_ylabel('error (m)')
    axis.legend(loc='upper left')
    return _save(figure, path)


def latency(seconds: list[float], path: Path) -> str:
    """Draw the histogram of end-to-end latencies with the median and 95th percentile."""
    ms = np.asarray(seconds) * 1e3
    figure = Figure(figsize=(7, 4), layout='constrained')
    axis = figure.subplots()
    axis.hist(ms, bins=min(40, max(5, len(ms) // 2)), color='tab:blue')
    for q, style in ((50, '--'), (95, ':')):
        value = np.percentile(ms, q)
        axis.axvline(value, color='black', linestyle=style, label=f'p{q} {value:.1f} ms')
    axis.set_xlabel('frame published -> outputs received (ms)')
    axis.set_ylabel('frames')
    axis.legend()
    return _save(figure, path)
