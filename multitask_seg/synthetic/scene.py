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
"""Scene description: a flat table of primitives with per-face classes and materials."""

from dataclasses import dataclass, field
import enum
import functools
from typing import Optional, Sequence

import numpy as np

from .materials import Material

# Faces 0-5 are box sides (axis * 2 + 1 on the positive side); 6 is a curved surface or the
# second ground zone, so one (P, 7) table covers every primitive kind.
N_FACES = 7


class Kind(enum.IntEnum):
    """Primitive kinds understood by the ray caster."""

    BOX = 0
    ELLIPSOID = 1
    ROOM = 2
    GROUND = 3


@dataclass(frozen=True)
class Light:
    """
    Scene lighting.

    :ivar ambient: brightness of the shadowless fill light.
    :ivar intensity: brightness of the key light.
    :ivar position: (3,) point light in metres, or None for a sun.
    :ivar direction: (3,) unit vector towards the sun, or None for a point light.
    :ivar sky: ((3,), (3,)) sRGB horizon and zenith colours, or None indoors.
    :ivar cloudiness: cloud cover in [0, 1].
    :ivar haze: distance in metres over which distant surfaces fade to the horizon colour.
    """

    ambient: float
    intensity: float
    position: Optional[np.ndarray] = None
    direction: Optional[np.ndarray] = None
    sky: Optional[tuple] = None
    cloudiness: float = 0.0
    haze: float = 1e9


@dataclass
class Scene:
    """
    Primitives as parallel arrays, P of them; ids index every array.

    :ivar kind: (P,) uint8 Kind.
    :ivar center: (P, 3) float64 box centre / ellipsoid centre, metres (unused for GROUND).
    :ivar half: (P, 3) float64 half extents / radii in the primitive frame, metres.
    :ivar yaw: (P,) float64 rotation of the primitive frame about world z, radians.
    :ivar face_class: (P, 7) uint8 class id per face.
    :ivar face_material: (P, 7) int32 index into `materials` per face.
    :ivar casts_shadow: (P,) bool.
    :ivar materials: the material list.
    :ivar light: lighting.
    :ivar road_half: ground-zone boundary: |y| <= road_half is ground face 0, beyond is face 6.
    :ivar far: z-depth in metres beyond which depth is reported invalid.
    """

    kind: np.ndarray
    center: np.ndarray
    half: np.ndarray
    yaw: np.ndarray
    face_class: np.ndarray
    face_material: np.ndarray
    casts_shadow: np.ndarray
    materials: list
    light: Light
    road_half: float = 0.0
    far: float = 20.0

    @functools.cached_property
    def tables(self) -> dict:
        """
        Per-primitive float32 lookup tables used by the per-pixel passes.

        'center' and 'half' are (3, P); 'cos', 'sin' (of yaw), 'flip' (-1 for rooms, whose
        normals point inwards) and 'kind' are (P,). Material arrays: 'color', 'color2' (Q, 3);
        'scale', 'noise', 'param', 'ir_dropout' (Q,) float32; 'pattern' (Q,) int;
        'emissive' (Q,) bool.
        """
        mats = self.materials
        return {
            'center': np.ascontiguousarray(self.center.T, np.float32),
            'half': np.ascontiguousarray(self.half.T, np.float32),
            'cos': np.cos(self.yaw).astype(np.float32),
            'sin': np.sin(self.yaw).astype(np.float32),
            'flip': np.where(self.kind == Kind.ROOM, -1.0, 1.0).astype(np.float32),
            'kind': self.kind,
            'color': np.array([m.color for m in mats], np.float32),
            'color2': np.array([m.color2 for m in mats], np.float32),
            'scale': np.array([m.scale for m in mats], np.float32),
            'noise': np.array([m.noise for m in mats], np.float32),
            'param': np.array([m.param for m in mats], np.float32),
            'ir_dropout': np.array([m.ir_dropout for m in mats], np.float32),
            'pattern': np.array([m.pattern for m in mats]),
            'emissive': np.array([m.emissive for m in mats], bool),
        }


@dataclass
class SceneBuilder:
    """Collects primitives; `build` turns them into a Scene."""

    rows: list = field(default_factory=list)
    materials: list = field(default_factory=list)

    def material(self, material: Material) -> int:
        """Register a material and return its index."""
        self.materials.append(material)
        return len(self.materials) - 1

    def _add(self, kind: Kind, center: Sequence[float], half: Sequence[float], yaw: float,
             classes: Sequence[int], mats: Sequence[int], shadow: bool) -> int:
        self.rows.append((int(kind), tuple(center), tuple(half), float(yaw), tuple(classes),
                          tuple(mats), bool(shadow)))
        return len(self.rows) - 1

    def box(self, center: Sequence[float], size: Sequence[float], cls: int, mat: int, *,
            yaw: float = 0.0, shadow: bool = True, side_mat: Optional[int] = None,
            front_mat: Optional[int] = None) -> int:
        """
        Add a box given its centre and full size (metres).

        `side_mat` skins its four vertical sides, `front_mat` its local +y side (face 3).
        """
        mats = [mat] * N_FACES
        if side_mat is not None:
            mats[:4] = [side_mat] * 4
        if front_mat is not None:
            mats[3] = front_mat
        half = [0.5 * s for s in size]
        return self._add(Kind.BOX, center, half, yaw, [cls] * N_FACES, mats, shadow)

    def box_on(self, x: float, y: float, z0: float, size: Sequence[float], cls: int, mat: int,
               **kwargs) -> int:
        """Add a box whose bottom face is centred on (x, y) at height z0 (metres)."""
        return self.box((x, y, z0 + 0.5 * size[2]), size, cls, mat, **kwargs)

    def ellipsoid(self, center: Sequence[float], radii: Sequence[float], cls: int, mat: int,
                  *, shadow: bool = True) -> int:
        """Add an axis-aligned ellipsoid; centre and radii in metres."""
        return self._add(Kind.ELLIPSOID, center, radii, 0.0, [cls] * N_FACES, [mat] * N_FACES,
                         shadow)

    def room(self, lo: Sequence[float], hi: Sequence[float], classes: Sequence[int],
             mats: Sequence[int]) -> int:
        """Add a room seen from inside; classes/mats list the six faces (axis * 2 + side)."""
        center = [0.5 * (a + b) for a, b in zip(lo, hi)]
        half = [0.5 * (b - a) for a, b in zip(lo, hi)]
        return self._add(Kind.ROOM, center, half, 0.0, list(classes) + [classes[0]],
                         list(mats) + [mats[0]], False)

    def ground(self, classes: Sequence[int], mats: Sequence[int]) -> int:
        """Add the plane z = 0 with an inner (road) zone and an outer zone."""
        return self._add(Kind.GROUND, (0, 0, 0), (1, 1, 1), 0.0,
                         [classes[0]] * 6 + [classes[1]], [mats[0]] * 6 + [mats[1]], False)

    def extend(self, other: 'SceneBuilder') -> None:
        """Append every primitive and material of `other`."""
        offset = len(self.materials)
        self.materials.extend(other.materials)
        for row in other.rows:
            self.rows.append(row[:5] + (tuple(m + offset for m in row[5]),) + row[6:])

    def build(self, light: Light, *, road_half: float = 0.0, far: float = 20.0) -> Scene:
        """Freeze the collected primitives into a Scene."""
        kind, center, half, yaw, classes, mats, shadow = zip(*self.rows)
        return Scene(
            kind=np.array(kind, np.uint8), center=np.array(center, np.float64),
            half=np.array(half, np.float64), yaw=np.array(yaw, np.float64),
            face_class=np.array(classes, np.uint8), face_material=np.array(mats, np.int32),
            casts_shadow=np.array(shadow, bool), materials=list(self.materials), light=light,
            road_half=road_half, far=far)
