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
Per-pixel viewing rays of a calibrated camera, undistorted. numpy only, no ROS.

A ray table holds, for every pixel (u, v) of an image, the point (x, y) on the plane z = 1
of the camera's optical frame that the pixel sees, so a pixel of depth z is the point
(x z, y z, z). The camera models are those of ROS's CameraInfo (OpenCV's formulas):

- 'plumb_bob' (D = k1 k2 p1 p2 [k3]) and 'rational_polynomial' (D = k1 k2 p1 p2 k3 k4 k5 k6):
  radial (1 + k1 r^2 + k2 r^4 + k3 r^6) / (1 + k4 r^2 + k5 r^4 + k6 r^6) plus tangential
  p1, p2 terms;
- 'equidistant' (fisheye, Kannala-Brandt, D = k1 k2 k3 k4): theta_d = theta (1 + k1 theta^2
  + k2 theta^4 + k3 theta^6 + k4 theta^8), theta the angle from the optical axis;
- no distortion (empty or all-zero D, any model name): the pinhole model.

Distortion is inverted by Newton's method per pixel; pixels where it does not converge,
or that lie past the fold of the model (where the calibration stops being one-to-one),
get NaN rays and so NaN points.
"""

from typing import Any, Sequence

import numpy as np

RADIAL_MODELS = ('plumb_bob', 'rational_polynomial')
FISHEYE_MODELS = ('equidistant', 'fisheye')
# Newton iterations and the accepted residual, in normalised image units (1e-9 is a
# millionth of a pixel at a focal length of 1000).
ITERATIONS = 30
TOLERANCE = 1e-9
CONVERGED = 1e-7
BLOCK_PIXELS = 1 << 18


def _radial_factor(r2: np.ndarray, d: np.ndarray) -> np.ndarray:
    k1, k2, _, _, k3, k4, k5, k6 = d
    return (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))


def _radial_distort(x: np.ndarray, y: np.ndarray, d: np.ndarray) -> tuple:
    p1, p2 = d[2], d[3]
    r2 = x * x + y * y
    radial = _radial_factor(r2, d)
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return xd, yd


def _undistort_radial(xd: np.ndarray, yd: np.ndarray, d: np.ndarray) -> tuple:
    # Newton on F(x, y) = distort(x, y) - (xd, yd) with a central-difference Jacobian,
    # starting from the distorted point (the solution for zero distortion); pixels leave
    # the iteration as they converge, so a few hard corners do not cost the whole image.
    shape = xd.shape
    xd, yd = xd.ravel(), yd.ravel()
    x, y = xd.copy(), yd.copy()
    h = 1e-6
    active = np.arange(x.size)
    for _ in range(ITERATIONS):
        ax_, ay_ = x[active], y[active]
        fx, fy = _radial_distort(ax_, ay_, d)
        rx, ry = fx - xd[active], fy - yd[active]
        with np.errstate(invalid='ignore'):
            moving = ~(np.hypot(rx, ry) < TOLERANCE) & np.isfinite(rx + ry)
        active, ax_, ay_, rx, ry = (a[moving] for a in (active, ax_, ay_, rx, ry))
        if not active.size:
            break
        px, py = _radial_distort(ax_ + h, ay_, d)
        mx, my = _radial_distort(ax_ - h, ay_, d)
        qx, qy = _radial_distort(ax_, ay_ + h, d)
        nx, ny = _radial_distort(ax_, ay_ - h, d)
        j11, j21 = (px - mx) / (2 * h), (py - my) / (2 * h)
        j12, j22 = (qx - nx) / (2 * h), (qy - ny) / (2 * h)
        det = j11 * j22 - j12 * j21
        with np.errstate(divide='ignore', invalid='ignore'):
            x[active] = ax_ - (j22 * rx - j12 * ry) / det
            y[active] = ay_ - (j11 * ry - j21 * rx) / det
    fx, fy = _radial_distort(x, y, d)
    residual = np.hypot(fx - xd, fy - yd)
    # Past the fold the Jacobian's determinant changes sign, and past the radial factor's
    # zero the image turns over through the centre: a root there is not the ray.
    px, py = _radial_distort(x + h, y, d)
    qx, qy = _radial_distort(x, y + h, d)
    det = (px - fx) * (qy - fy) - (qx - fx) * (py - fy)
    with np.errstate(invalid='ignore'):
        good = (residual < CONVERGED) & (det > 0) & (_radial_factor(x * x + y * y, d) > 0)
    return (np.where(good, x, np.nan).reshape(shape),
            np.where(good, y, np.nan).reshape(shape))


def _undistort_fisheye(xd: np.ndarray, yd: np.ndarray, d: np.ndarray) -> tuple:
    k1, k2, k3, k4 = d
    theta_d = np.hypot(xd, yd)
    theta = theta_d.copy()
    for _ in range(ITERATIONS):
        t2 = theta * theta
        f = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)))) - theta_d
        if np.nanmax(np.abs(f), initial=0) < TOLERANCE:
            break
        df = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + t2 * 9 * k4)))
        with np.errstate(divide='ignore', invalid='ignore'):
            theta = theta - f / df
    t2 = theta * theta
    residual = np.abs(theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)))) - theta_d)
    slope = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + t2 * 9 * k4)))
    # Rays at or beyond 90 degrees from the axis have no point on the plane z = 1.
    with np.errstate(invalid='ignore', divide='ignore'):
        good = (residual < CONVERGED) & (slope > 0) & (theta >= 0) & (theta < np.pi / 2)
        scale = np.where(theta_d > 0, np.tan(np.where(good, theta, 0)) / theta_d, 1.0)
    scale = np.where(good, scale, np.nan)
    return xd * scale, yd * scale


def _coefficients(model: str, d: Sequence[float]) -> tuple[str, np.ndarray]:
    d = np.asarray(d, np.float64).ravel()
    if not d.size or not d.any():
        return 'pinhole', d
    if model in RADIAL_MODELS:
        if d.size not in (4, 5, 8):
            raise ValueError(f'distortion model {model!r} needs 4, 5 or 8 coefficients '
                             f'(k1 k2 p1 p2 [k3 [k4 k5 k6]]), got {d.size}')
        return 'radial', np.concatenate([d, np.zeros(8 - d.size)])
    if model in FISHEYE_MODELS:
        if d.size != 4:
            raise ValueError(f'distortion model {model!r} needs 4 coefficients '
                             f'(k1 k2 k3 k4), got {d.size}')
        return 'fisheye', d
    raise ValueError(f'distortion model {model!r} is not supported (plumb_bob, '
                     f'rational_polynomial, equidistant); publish rectified images and set '
                     f'rectified_input: true')


def ray_table(k: Sequence[float], d: Sequence[float], model: str, height: int, width: int,
              decimation: int = 1) -> np.ndarray:
    """
    Return the unit-z rays of the pixels that a cloud of ``decimation`` keeps.

    :param k: the 3x3 (or 9-element) intrinsic matrix of this ``height`` x ``width`` image.
    :param d: distortion coefficients of ``model`` (empty or zeros: none).
    :param model: CameraInfo.distortion_model.
    :param decimation: every n-th row and column, pixel (0, 0) first.

    :return: (ceil(H / n), ceil(W / n), 2) float32 (x, y) on the plane z = 1; NaN for pixels
        whose ray cannot be recovered.
    :raises: ValueError: no focal length, unsupported model or wrong number of coefficients.
    """
    if decimation < 1:
        raise ValueError(f'decimation must be >= 1, got {decimation}')
    k = np.asarray(k, np.float64).reshape(3, 3)
    fx, fy, cx, cy, skew = k[0, 0], k[1, 1], k[0, 2], k[1, 2], k[0, 1]
    if fx == 0 or fy == 0:
        raise ValueError('camera info has no focal length (uncalibrated camera)')
    kind, coeffs = _coefficients(model, d)
    u = np.arange(0, width, decimation, dtype=np.float64)
    v = np.arange(0, height, decimation, dtype=np.float64)
    yd = np.broadcast_to(((v - cy) / fy)[:, None], (v.size, u.size))
    xd = (u[None, :] - cx - skew * yd) / fx
    rays = np.stack([xd, yd], -1).astype(np.float32)
    undistort = {'radial': _undistort_radial, 'fisheye': _undistort_fisheye}.get(kind)
    if undistort is not None:
        # A block of rows at a time bounds the temporaries of a 4096 x 4096 table.
        rows = max(1, BLOCK_PIXELS // max(u.size, 1))
        for top in range(0, v.size, rows):
            block = slice(top, top + rows)
            x, y = undistort(xd[block], np.ascontiguousarray(yd[block]), coeffs)
            rays[block, :, 0], rays[block, :, 1] = x, y
    return rays


def rectified_intrinsics(info: Any) -> np.ndarray:
    """Return the 3x3 intrinsics of a rectified image of ``info``: P's left 3x3, else K."""
    p = np.asarray(info.p, np.float64).reshape(3, 4)[:, :3]
    return p if p[0, 0] and p[1, 1] else np.asarray(info.k, np.float64).reshape(3, 3)


class RayTables:
    """
    One ray table per camera, rebuilt only when its calibration or the decimation changes.

    :param rectified: the images are rectified (image_rect): back-project with P and no
        distortion, as image_proc's rectified camera_info intends.
    """

    def __init__(self, rectified: bool = False) -> None:
        self.rectified = rectified
        self._tables: dict[str, tuple[tuple, np.ndarray]] = {}
        self.builds = 0

    def table(self, camera: str, info: Any, decimation: int) -> np.ndarray:
        """
        Return camera's rays for CameraInfo-like ``info`` (k, d, distortion_model, p, size).

        :raises: ValueError: as ``ray_table``.
        """
        if self.rectified:
            k, d, model = rectified_intrinsics(info), (), ''
        else:
            k, d, model = np.asarray(info.k, np.float64), np.asarray(info.d), \
                info.distortion_model
        key = (tuple(np.ravel(k)), tuple(np.ravel(d)), model, info.height, info.width,
               decimation)
        cached = self._tables.get(camera)
        if cached is not None and cached[0] == key:
            return cached[1]
        rays = ray_table(k, d, model, info.height, info.width, decimation)
        self._tables[camera] = (key, rays)
        self.builds += 1
        return rays
