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
"""Public API of the synthetic generator: shapes, determinism, splits, class coverage."""

from multitask_seg.synthetic import CLASSES, COLORS, render_frame, render_sequence, split_seeds
import numpy as np
import pytest


SIZE = {'height': 60, 'width': 80}


@pytest.mark.parametrize('domain', ['indoor', 'outdoor'])
def test_frame_types_and_shapes(domain):
    frame = render_frame(domain, 3, **SIZE)
    assert frame.rgb.shape == (60, 80, 3) and frame.rgb.dtype == np.uint8
    assert frame.labels.shape == (60, 80) and frame.labels.dtype == np.uint8
    assert frame.depth.dtype == np.float32 and frame.sensor_depth.dtype == np.float32
    assert frame.K.shape == (3, 3) and frame.pose.shape == (4, 4)
    assert frame.K[0, 2] == pytest.approx(39.5) and frame.K[1, 2] == pytest.approx(29.5)
    assert (frame.labels < len(CLASSES[domain])).all()
    assert len(COLORS[domain]) == len(CLASSES[domain])
    assert np.isfinite(frame.depth).all() and (frame.depth >= 0).all()
    assert frame.rgb.std() > 10, 'image should not be flat'


@pytest.mark.parametrize('domain', ['indoor', 'outdoor'])
def test_same_seed_same_frame_other_seed_other_frame(domain):
    a, b, c = (render_frame(domain, s, **SIZE) for s in (7, 7, 8))
    for field in ('rgb', 'labels', 'depth', 'sensor_depth', 'K', 'pose'):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.rgb, c.rgb)


def test_sequences_are_deterministic():
    first = [f.rgb for f in render_sequence('outdoor', 4, 3, **SIZE)]
    again = [f.rgb for f in render_sequence('outdoor', 4, 3, **SIZE)]
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)


def test_split_seed_ranges_are_disjoint():
    splits = [split_seeds(name) for name in ('train', 'val', 'test')]
    for i, a in enumerate(splits):
        assert len(a) > 1000
        for b in splits[i + 1:]:
            assert a.stop <= b.start or b.stop <= a.start
    with pytest.raises(ValueError, match='unknown split'):
        split_seeds('holdout')


def test_unknown_domain_is_rejected():
    with pytest.raises(ValueError, match='unknown domain'):
        render_frame('underwater', 0)


@pytest.mark.parametrize('domain,frames,minimum', [('indoor', 8, 8), ('outdoor', 4, 6)])
def test_labels_cover_the_classes(domain, frames, minimum):
    seen = set()
    for seed in range(frames):
        seen |= set(np.unique(render_frame(domain, seed, height=120, width=160).labels).tolist())
    assert len(seen) >= minimum, [CLASSES[domain][i] for i in sorted(seen)]
