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
"""Ray casting against analytic geometry and against an unculled brute-force cast."""

from multitask_seg.synthetic.camera import intrinsics, Pose, world_rays
from multitask_seg.synthetic.classes import class_id
from multitask_seg.synthetic.indoor import room_scene
from multitask_seg.synthetic.materials import Material
from multitask_seg.synthetic.raycast import cast, primitive_t, ray_box, ray_ellipsoid
from multitask_seg.synthetic.render import render_view
from multitask_seg.synthetic.scene import Kind, Light, SceneBuilder
import numpy as np
import pytest


def _empty_room(size=(6.0, 5.0, 3.0)):
    b = SceneBuilder()
    mat = b.material(Material((0.6, 0.6, 0.6)))
    names = ['wall'] * 4 + ['floor', 'ceiling']
    faces = [class_id('indoor', n) for n in names]
    b.room((0.0, 0.0, 0.0), size, faces, [mat] * 6)
    return b, mat


def test_ray_box_and_ellipsoid_distances():
    with np.errstate(all='ignore'):
        t = ray_box((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), np.array([5.0, 0, 0]), np.ones(3))
        assert t == pytest.approx(4.0)
        cs = (np.cos(np.pi / 4), np.sin(np.pi / 4))
        t = ray_box((0.0, 0.0, 0.0), (1.0, 0.0, 0.0), np.array([5.0, 0, 0]), np.ones(3), cs)
        assert t == pytest.approx(5.0 - np.sqrt(2.0))
        assert ray_box((0.0, 3.0, 0.0), (1.0, 0.0, 0.0), np.array([5.0, 0, 0]),
                       np.ones(3)) == np.inf
        t = ray_ellipsoid((0.0, 0.0, 0.0), (0.0, 2.0, 0.0), np.array([0, 10.0, 0]),
                          np.array([1.0, 3.0, 1.0]))
        assert t == pytest.approx(3.5)


def test_floor_and_facing_wall_depth_match_geometry():
    b, _ = _empty_room()
    scene = b.build(Light(ambient=0.5, intensity=1.0, position=np.array([3.0, 2.5, 2.9])))
    height, width = 48, 64
    K = intrinsics(height, width, 60.0)
    pose = Pose(np.array([1.0, 2.5, 1.2]), 0.0, -0.3)
    rgb, labels, depth, _ = render_view(scene, pose, K, height, width,
                                        np.random.default_rng(0), 'indoor')
    dirs = world_rays(K, height, width, pose).astype(np.float64)
    floor = labels == class_id('indoor', 'floor')
    assert floor.sum() > 100
    np.testing.assert_allclose(depth[floor], -1.2 / dirs[2][floor], rtol=1e-5)
    # Looking straight at the wall x = 6 from 5 m: every wall pixel has z-depth 5.
    b, _ = _empty_room((6.0, 9.0, 3.0))
    scene = b.build(Light(ambient=0.5, intensity=1.0, position=np.array([3.0, 4.5, 2.9])))
    pose = Pose(np.array([1.0, 4.5, 1.5]), 0.0, 0.0)
    _, labels, depth, _ = render_view(scene, pose, K, height, width,
                                      np.random.default_rng(0), 'indoor')
    wall = labels == class_id('indoor', 'wall')
    assert wall.mean() > 0.5
    np.testing.assert_allclose(depth[wall], 5.0, rtol=1e-5)


def test_box_on_the_floor_occludes_with_exact_depth():
    b, mat = _empty_room()
    b.box_on(3.0, 2.5, 0.0, (0.5, 1.0, 1.0), class_id('indoor', 'cabinet'), mat)
    scene = b.build(Light(ambient=0.5, intensity=1.0, position=np.array([3.0, 2.5, 2.9])))
    K = intrinsics(48, 64, 60.0)
    _, labels, depth, _ = render_view(scene, Pose(np.array([0.5, 2.5, 0.5]), 0.0, 0.0), K, 48,
                                      64, np.random.default_rng(0), 'indoor')
    box = labels == class_id('indoor', 'cabinet')
    assert box[24, 32] and box.sum() > 50
    np.testing.assert_allclose(depth[box], 2.25, rtol=1e-5)


@pytest.mark.parametrize('seed', [0, 1])
def test_culled_cast_equals_brute_force(seed):
    scene, path = room_scene(np.random.default_rng(seed))
    K = intrinsics(60, 80, 62.0)
    pose = path.pose(1.0)
    dirs = world_rays(K, 60, 80, pose)
    t, prim = cast(scene, pose, dirs, K)
    o = tuple(pose.position)
    best = np.full(t.shape, np.inf)
    with np.errstate(all='ignore'):
        for idx in np.flatnonzero(scene.kind < Kind.ROOM):
            best = np.minimum(best, primitive_t(scene, idx, o, dirs))
    inner = best < np.inf
    np.testing.assert_allclose(t[inner], best[inner], rtol=1e-5)
    assert (scene.kind[prim[~inner]] == Kind.ROOM).all()
