"""British National Grid (OSGB36 easting/northing, EPSG:27700) to WGS84 latitude/longitude.

pyproj (PROJ) does the transverse-Mercator inverse and the OSGB36 -> WGS84 datum shift. Without the
OSTN15 grid file (not bundled, and we stay offline) PROJ uses the published 7-parameter Helmert
transformation, good to a few metres: tests/test_futureoptions.py checks it against the published
latitude/longitude of real schools (< 10 m).
"""

from __future__ import annotations

import math
from functools import lru_cache

from pyproj import Transformer


@lru_cache(maxsize=1)
def _transformer() -> Transformer:
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """(latitude, longitude) in degrees for a British National Grid point."""
    lon, lat = _transformer().transform(easting, northing)
    return float(lat), float(lon)


def grid_distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line distance in metres between two (easting, northing) points (the grid is in metres)."""
    return math.hypot(a[0] - b[0], a[1] - b[1])


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
