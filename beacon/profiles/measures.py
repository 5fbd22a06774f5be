"""Measures only the public profile reads: destinations after key stage 4 for each school (DfE
'destinations of key stage 4 students', in the 2018/19 school performance tables release).

The measure definitions live in beacon/indicators/destinations.py (the recent-results importer writes
them); this module adds the profile's lookup over them and the shared catalogue.
"""

from __future__ import annotations

from beacon.indicators.catalogue import BY_CODE, MeasureDef
from beacon.indicators.destinations import DESTINATION_CODES as DESTINATION_CODES
from beacon.indicators.destinations import DESTINATION_MEASURES, ensure_destination_measures

ALL_MEASURES: dict[str, MeasureDef] = {**BY_CODE, **{m.code: m for m in DESTINATION_MEASURES}}


def measure_def(code: str) -> MeasureDef:
    return ALL_MEASURES[code]


def ensure_profile_measures() -> dict[str, int]:
    return ensure_destination_measures()
