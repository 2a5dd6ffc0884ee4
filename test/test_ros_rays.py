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
Undistorted rays against an independent forward model of each camera.

Known 3-D points are projected to distorted pixels with the published formulas (OpenCV's
calib3d and fisheye documentation), written out here term by term; the cloud must put the
pixel's depth back at the point.
"""

from types import SimpleNamespace

from multitask_seg.ros.cloud import cloud_points
from multitask_seg.ros.rays import ray_table, RayTables
import numpy as np
import pytest

WIDTH, HEIGHT = 640, 480
K = np.array([[420.0, 0.0, 318.5], [0.0, 415.0, 241.25], [0.0, 0.0, 1.0]])
PLUMB_BOB = [-0.28, 0.09, 0.0012, -0.0008, -0.012]
RATIONAL = [0.6, -0.25, 0.0009, 0.0011, 0.02, 0.95, -0.1, 0.05]
EQUIDISTANT = [0.05, -0.012, 0.004, -0.0009]


def project_opencv(points: np.ndarray, d: list[float]) -> np.ndarray:
    """Project with OpenCV's pinhole model: rational radial factor plus tangential terms."""
    k1, k2, p1, p2, k3, k4, k5, k6 = (list(d) + [0.0] * 8)[:8]
    xp, yp = points[:, 0] / points[:, 2], points[:, 1] / points[:, 2]
    r2 = xp ** 2 + yp ** 2
    r4, r6 = r2 ** 2, r2 ** 3
    ratio = (1 + k1 * r2 + k2 * r4 + k3 * r6) / (1 + k4 * r2 + k5 * r4 + k6 * r6)
    xpp = xp * ratio + 2 * p1 * xp * yp + p2 * (r2 + 2 * xp ** 2)
    ypp = yp * ratio + p1 * (r2 + 2 * yp ** 2) + 2 * p2 * xp * yp
    return np.stack([K[0, 0] * xpp + K[0, 2], K[1, 1] * ypp + K[1, 2]], -1)


def project_fisheye(points: np.ndarray, d: list[float]) -> np.ndarray:
    """Project with OpenCV's fisheye model: theta_d = theta (1 + k1 theta^2 + ... k4 theta^8)."""
    k1, k2, k3, k4 = d
    a, b = points[:, 0] / points[:, 2], points[:, 1] / points[:, 2]
    r = np.sqrt(a ** 2 + b ** 2)
    theta = np.arctan(r)
    theta_d = theta * (1 + k1 * theta ** 2 + k2 * theta ** 4 + k3 * theta ** 6
                       + k4 * theta ** 8)
    xd, yd = theta_d / r * a, theta_d / r * b
    return np.stack([K[0, 0] * xd + K[0, 2], K[1, 1] * yd + K[1, 2]], -1)


def scene_points(rng: np.random.Generator, max_angle: float) -> np.ndarray:
    """3-D points 2-6 m ahead, up to ``max_angle`` radians off the optical axis."""
    n = 400
    angle = rng.uniform(0, max_angle, n)
    azimuth = rng.uniform(0, 2 * np.pi, n)
    z = rng.uniform(2.0, 6.0, n)
    r = np.tan(angle) * z
    return np.stack([r * np.cos(azimuth), r * np.sin(azimuth), z], -1)


def back_project(pixels: np.ndarray, z: np.ndarray, d: list[float], model: str) -> np.ndarray:
    """Put each point's depth at its (rounded) pixel and read the cloud there."""
    cols, rows = np.rint(pixels[:, 0]).astype(int), np.rint(pixels[:, 1]).astype(int)
    depth = np.full((HEIGHT, WIDTH), np.nan, np.float32)
    depth[rows, cols] = z
    cloud = cloud_points(depth, ray_table(K, d, model, HEIGHT, WIDTH),
                         np.zeros((HEIGHT, WIDTH, 3), np.uint8),
                         np.zeros((HEIGHT, WIDTH), np.uint8))
    return np.stack([cloud['x'], cloud['y'], cloud['z']], -1)[rows, cols], (cols, rows)


def points_on_pixels(points: np.ndarray, project, d: list[float]) -> np.ndarray:
    """Move each point so that it projects exactly onto the nearest pixel centre."""
    # The pixel grid is integral; nudge the points along their image-plane ray so the test
    # compares positions, not rounding of pixel coordinates.
    pixels = project(points, d)
    inside = ((pixels[:, 0] > 0.5) & (pixels[:, 0] < WIDTH - 1.5)
              & (pixels[:, 1] > 0.5) & (pixels[:, 1] < HEIGHT - 1.5))
    points, pixels = points[inside], pixels[inside]
    target = np.rint(pixels)
    for _ in range(50):
        # Gauss-Newton on the point's (x/z, y/z) so that project(point) == target.
        h = 1e-7
        a = points[:, :2] / points[:, 2:]
        residual = project(points, d) - target
        jac = np.empty((len(points), 2, 2))
        for i in range(2):
            step = a.copy()
            step[:, i] += h
            moved = np.concatenate([step * points[:, 2:], points[:, 2:]], -1)
            jac[:, :, i] = (project(moved, d) - project(points, d)) / h
        a = a - np.linalg.solve(jac, residual[..., None])[..., 0]
        points = np.concatenate([a * points[:, 2:], points[:, 2:]], -1)
    assert np.abs(project(points, d) - target).max() < 1e-6
    return points, target


@pytest.mark.parametrize('model, d, project, max_angle', [
    ('plumb_bob', PLUMB_BOB, project_opencv, 0.6),
    ('rational_polynomial', RATIONAL, project_opencv, 0.7),
    ('equidistant', EQUIDISTANT, project_fisheye, 1.2),
])
def test_distorted_pixels_back_project_to_their_points(model, d, project, max_angle):
    rng = np.random.default_rng(3)
    points, pixels = points_on_pixels(scene_points(rng, max_angle), project, d)
    assert len(points) > 150
    got, _ = back_project(pixels, points[:, 2].astype(np.float32), d, model)
    error = np.linalg.norm(got - points, axis=-1)
    assert error.max() < 1e-3, f'{model}: worst error {error.max() * 1e3:.3f} mm'
    # Without undistortion the same pixels land centimetres away (the test can fail).
    pinhole, _ = back_project(pixels, points[:, 2].astype(np.float32), [], model)
    assert np.linalg.norm(pinhole - points, axis=-1).max() > 0.05


def test_corner_past_the_fold_of_the_model_has_no_ray():
    # A strong barrel term folds back before the image corner: no ray is better than a
    # wrong one.
    rays = ray_table(K, [-0.9, 0.0, 0.0, 0.0, 0.0], 'plumb_bob', HEIGHT, WIDTH)
    assert np.isnan(rays[0, 0]).all()
    assert np.isfinite(rays[HEIGHT // 2, WIDTH // 2]).all()


def test_unknown_model_and_wrong_coefficient_count_are_refused():
    with pytest.raises(ValueError, match="'fov' is not supported"):
        ray_table(K, [0.1], 'fov', 4, 4)
    with pytest.raises(ValueError, match='needs 4 coefficients'):
        ray_table(K, PLUMB_BOB, 'equidistant', 4, 4)


def test_tables_are_rebuilt_only_when_the_calibration_changes():
    info = SimpleNamespace(k=K.ravel().tolist(), d=PLUMB_BOB, distortion_model='plumb_bob',
                           p=[0.0] * 12, height=HEIGHT, width=WIDTH)
    tables = RayTables()
    first = tables.table('cam', info, 4)
    assert tables.table('cam', info, 4) is first and tables.builds == 1
    tables.table('cam', SimpleNamespace(**{**vars(info), 'd': EQUIDISTANT[:4] + [0.0]}), 4)
    tables.table('cam', info, 2)
    assert tables.builds == 3


def test_rectified_input_uses_p_without_distortion():
    p = np.array([[400.0, 0, 320, 0], [0, 400.0, 240, 0], [0, 0, 1, 0]])
    info = SimpleNamespace(k=K.ravel().tolist(), d=PLUMB_BOB, distortion_model='plumb_bob',
                           p=p.ravel().tolist(), height=HEIGHT, width=WIDTH)
    rays = RayTables(rectified=True).table('cam', info, 1)
    assert rays[0, 0].tolist() == pytest.approx([-320 / 400, -240 / 400])
    assert rays[100, 500].tolist() == pytest.approx([(500 - 320) / 400, (100 - 240) / 400])
