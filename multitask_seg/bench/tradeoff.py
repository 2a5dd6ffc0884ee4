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
Accuracy against latency per speed tier: one table and one picture.

    python -m multitask_seg.bench.tradeoff [--bench build/bench.json]
        [--results doc/experiment_results.json] [--out doc/tradeoff.png]

Latency comes from one ``multitask_seg.bench.tiers`` run (``tiers`` in the bench file:
frame in, full-resolution labels and depth out, on this CPU); accuracy from the distilled
students of ``make experiment-families`` (``families`` in the results record: student (b),
mean and sample std over seeds, on the held-out test scenes). The picture's panels put
mIoU and depth RMSE (rows) against latency at 640x480 and 320x240 (columns); filled
markers are the default engine, open ones PyTorch, marker area is proportional to the
parameters, error bars are the spread over seeds.
"""

import argparse
import json
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..stopping import exit_with_status

SIZES = ('640x480', '320x240')
METRICS = (('miou', 'mIoU % (b)', 100.0), ('rmse', 'depth RMSE m (b)', 1.0))


def picture_domain(families: dict[str, Any]) -> str:
    """Return the domain with the most seeds (the one with error bars)."""
    seeds: dict[str, int] = {}
    for domains in families.values():
        for domain, entry in domains.items():
            seeds[domain] = max(seeds.get(domain, 0), entry['b_miou']['n'])
    return max(seeds, key=lambda d: (seeds[d], d))


def _stat(entry: dict, key: str, scale: float) -> str:
    stat = entry[key]
    if stat['mean'] is None:
        return '-'
    digits = 1 if scale > 1 else 3
    text = f'{stat["mean"] * scale:.{digits}f}'
    return text + (f' ± {stat["std"] * scale:.{digits}f}' if stat['std'] is not None else '')


def latency_paths(tiers: dict[str, Any], engine: str) -> dict[str, str]:
    """Return {key suffix: path name} of the latencies in ``tiers``: default, its bf16, torch."""
    suffixes = {'': engine, '_bf16': engine.replace('_fp32', '_bf16'), '_torch': 'torch'}
    return {suffix: name for suffix, name in suffixes.items()
            if all(f'ms_{s}{suffix}' in figures for figures in tiers.values() for s in SIZES)}


def table(tiers: dict[str, Any], families: dict[str, Any], engine: str) -> str:
    """Return the Markdown table: size, cost, latency per path and accuracy per domain."""
    domains = sorted({d for f in families.values() for d in f})
    paths = latency_paths(tiers, engine)
    head = (['family', 'params', 'GMACs 640x480']
            + [f'{name} ms {s}' for name in paths.values() for s in SIZES]
            + [f'{m} {d}' for d in domains for m in ('mIoU % (b)', 'RMSE m (b)', 'seeds')])
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for family, figures in tiers.items():
        cells = [f'`{family}`', f'{figures["params"]:,}', f'{figures["gmacs_640x480"]:.2f}']
        cells += [f'{figures[f"ms_{s}{suffix}"]:.1f}' for suffix in paths for s in SIZES]
        for domain in domains:
            entry = families.get(family, {}).get(domain)
            cells += (['-', '-', '0'] if entry is None else
                      [_stat(entry, 'b_miou', 100.0), _stat(entry, 'b_rmse', 1.0),
                       str(entry['b_miou']['n'])])
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def picture(tiers: dict[str, Any], families: dict[str, Any], domain: str, engine: str,
            path: Path) -> Path:
    """Draw the 2 x 2 accuracy-against-latency panels for ``domain`` into ``path``."""
    figure = Figure(figsize=(11, 8), layout='constrained')
    axes = figure.subplots(len(METRICS), len(SIZES), squeeze=False)
    largest = max(f['params'] for f in tiers.values())
    colors = {family: f'C{i}' for i, family in enumerate(tiers)}
    for row, (metric, label, scale) in zip(axes, METRICS):
        for axis, size in zip(row, SIZES):
            for family, figures in tiers.items():
                entry = families.get(family, {}).get(domain)
                if entry is None or entry[f'b_{metric}']['mean'] is None:
                    continue
                y = entry[f'b_{metric}']['mean'] * scale
                spread = (entry[f'b_{metric}']['std'] or 0.0) * scale
                area = 60 + 540 * figures['params'] / largest
                for key, filled in ((f'ms_{size}', True), (f'ms_{size}_torch', False)):
                    axis.errorbar(figures[key], y, yerr=spread, color=colors[family],
                                  capsize=3, zorder=1)
                    axis.scatter(figures[key], y, s=area, color=colors[family],
                                 facecolors=colors[family] if filled else 'none',
                                 linewidths=1.5, zorder=2,
                                 label=family if filled else None)
                axis.plot([figures[f'ms_{size}'], figures[f'ms_{size}_torch']], [y, y],
                          color=colors[family], linestyle=':', linewidth=1, zorder=0)
            axis.set_xscale('log')
            axis.set_xlabel(f'latency at {size} (ms, log scale): filled {engine}, open torch')
            axis.set_ylabel(f'{label}, {domain}')
            axis.grid(True, which='both', alpha=0.3)
    axes[0][0].legend(fontsize=8, markerscale=0.5, loc='best')
    figure.suptitle('Speed tiers: distilled students (mean ± std over seeds) against CPU '
                    'latency; marker area ~ parameters')
    FigureCanvasAgg(figure)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    return path


def main(argv: list[str] | None = None) -> str:
    """Write the picture and print (and return) the table."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--bench', type=Path, default=Path('build/bench.json'),
                        help='benchmark results with `tiers` (default build/bench.json)')
    parser.add_argument('--results', type=Path, default=Path('doc/experiment_results.json'),
                        help='experiment record with `families` '
                             '(default doc/experiment_results.json)')
    parser.add_argument('--out', type=Path, default=Path('doc/tradeoff.png'),
                        help='the picture (default doc/tradeoff.png)')
    parser.add_argument('--domain', default=None,
                        help='domain of the picture (default: the one with most seeds)')
    args = parser.parse_args(argv)
    bench = json.loads(args.bench.read_text())
    families = json.loads(args.results.read_text()).get('families')
    if 'tiers' not in bench:
        raise SystemExit(f'{args.bench} has no `tiers`: run python -m multitask_seg.bench.tiers')
    if not families:
        raise SystemExit(f'{args.results} has no `families`: run make experiment-families')
    engine = bench.get('tiers_default_engine', 'default engine')
    domain = args.domain or picture_domain(families)
    text = table(bench['tiers'], families, engine)
    picture(bench['tiers'], families, domain, engine, args.out)
    print(text + f'\npicture ({domain}): {args.out}')
    return text


if __name__ == '__main__':
    exit_with_status('python -m multitask_seg.bench.tradeoff', main)
