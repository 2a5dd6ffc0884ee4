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
Write an evaluation's results: results.json, summary.md and the pictures (see plots).

results.json is written last, so its presence means the rest is there. Its 'complete' is
true only when every frame of the bag was scored or, in live and recorded modes, counted
as missing (no output from the node), none failed and the run was not stopped early;
'counts' says what happened to the frames otherwise.
"""

from dataclasses import dataclass, field
import json
import math
import os
from pathlib import Path

from . import plots, robot_report
from .robot_metrics import RobotMetrics
from .scoring import latency_summary, Scorer


@dataclass
class Evaluation:
    """
    Everything a report shows.

    :ivar mode: 'offline', 'live' or 'recorded'.
    :ivar inputs: bags, topics, model and options, as given.
    :ivar scorer: the metrics and counts.
    :ivar latencies: end-to-end latency of each answered frame in seconds (live mode).
    :ivar live: live-mode figures: sent, answered, dropped, fps.
    :ivar robot: streaming accuracy, stability, small objects and calibration.
    """

    mode: str
    inputs: dict
    scorer: Scorer
    latencies: list[float] = field(default_factory=list)
    live: dict | None = None
    robot: RobotMetrics | None = None


def results(evaluation: Evaluation) -> dict:
    """Return the JSON-ready results."""
    out = {'mode': evaluation.mode, **evaluation.scorer.result(), 'inputs': evaluation.inputs}
    if evaluation.live is not None:
        out['live'] = {**evaluation.live, 'latency': latency_summary(evaluation.latencies)}
    if evaluation.robot is not None:
        out.update(evaluation.robot.result())
    return out


def pictures(evaluation: Evaluation, out: Path) -> list[str]:
    """Draw every picture the results allow; return their file names."""
    scorer = evaluation.scorer
    names = []
    if scorer.samples:
        names.append(plots.sample_grid(scorer.samples, scorer.info.colors,
                                       out / 'samples.png'))
    if scorer.segmentation is not None and scorer.segmentation.state['confusion'].sum():
        names.append(plots.confusion(scorer.segmentation, scorer.info.classes,
                                     out / 'confusion.png'))
    if scorer.distance.count.any():
        names.append(plots.depth_error(scorer.distance, out / 'depth_error.png'))
    if evaluation.latencies:
        names.append(plots.latency(evaluation.latencies, out / 'latency.png'))
    return names


def _number(value: float | None, scale: float = 1.0, digits: int = 3, unit: str = '') -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 'n/a'
    return f'{value * scale:.{digits}f}{unit}'


def table(rows: list[tuple[str, str]], header: tuple[str, str]) -> list[str]:
    """Return a two-column Markdown table."""
    return [f'| {header[0]} | {header[1]} |', '|---|---:|',
            *[f'| {name} | {value} |' for name, value in rows]]


def summary(data: dict, names: list[str]) -> str:
    """Return the Markdown summary of ``results``' output, with links to the pictures."""
    counts = data['counts']
    status = '**complete**' if data['complete'] else '**INCOMPLETE** (' + (
        data['stopped_by'] or ('interrupted' if data['interrupted'] else
                               f'{counts["failed"]} failed, {counts["unseen"]} not seen')) + ')'
    rows = [('frames in the bag', str(counts['frames'])), ('scored', str(counts['scored'])),
            ('missing (no output)', str(counts['missing'])), ('failed', str(counts['failed']))]
    seg, depth, live = data.get('segmentation'), data.get('depth'), data.get('live')
    if seg:
        rows += [('mIoU', _number(seg['miou'], 100, 1, ' %')),
                 ('pixel accuracy', _number(seg['pixel_accuracy'], 100, 1, ' %'))]
    if depth:
        cap = f' (cap {depth["cap"]} m)' if depth['cap'] else ''
        rows += [(f'RMSE lin{cap}', _number(depth['rmse'], unit=' m')),
                 ('RMSE log', _number(depth['rmse_log'])),
                 ('abs rel', _number(depth['abs_rel'])),
                 ('sq rel', _number(depth['sq_rel'], unit=' m')),
                 ('delta < 1.25', _number(depth['delta1'], 100, 1, ' %')),
                 ('delta < 1.25^2', _number(depth['delta2'], 100, 1, ' %')),
                 ('delta < 1.25^3', _number(depth['delta3'], 100, 1, ' %')),
                 ('depth coverage', _number(depth['coverage'], 100, 1, ' %'))]
    if live:
        latency = live['latency']
        rows += [('frames sent / answered', f'{live["sent"]} / {live["answered"]}'),
                 ('dropped', str(live['dropped'])),
                 ('latency p50 / p95 / max', ' / '.join(
                     _number(latency[k], digits=1) for k in ('p50_ms', 'p95_ms', 'max_ms'))
                  + ' ms'),
                 ('output rate', _number(live['fps'], digits=2, unit=' fps'))]
    inputs = data['inputs']
    lines = [f'# multitask_seg evaluation ({data["mode"]})', '',
             f'Bag `{inputs.get("bag")}`, model `{inputs.get("checkpoint")}`: {status}.', '',
             *table(rows, ('figure', 'value'))]
    if seg:
        lines += ['', '## IoU per class', '',
                  *table([(name, _number(v, 100, 1, ' %')) for name, v in seg['iou'].items()
                          if v is not None], ('class', 'IoU'))]
    lines += robot_report.sections(data)
    if data['errors']:
        lines += ['', '## Errors', '', *[f'- {e}' for e in data['errors']]]
    if names:
        lines += ['', *[f'![{Path(n).stem}]({n})' for n in names]]
    return '\n'.join(lines) + '\n'


def _finite(value: object) -> object:
    """Return ``value`` with NaN replaced by None throughout, for strict JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def write(evaluation: Evaluation, out: Path) -> dict:
    """Write pictures, summary.md and results.json into ``out``; return the results."""
    out.mkdir(parents=True, exist_ok=True)
    data = _finite(results(evaluation))
    names = pictures(evaluation, out) + robot_report.pictures(data, out)
    data['pictures'] = names
    (out / 'summary.md').write_text(summary(data, names))
    tmp = out / '.results.json.tmp'
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False, default=str) + '\n')
    os.replace(tmp, out / 'results.json')
    return data
