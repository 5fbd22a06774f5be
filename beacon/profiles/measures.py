"""Measures only the public profile reads: destinations after key stage 4 for each school (DfE
'destinations of key stage 4 students', in the 2018/19 school performance tables release).

Kept here, not in the shared catalogue (beacon/indicators/catalogue.py), like beacon/reporting's extras.
Academic year stored = the destination year (2017 = 2017/18, for pupils who finished year 11 in 2016/17).
"""

from __future__ import annotations

from beacon.indicators.catalogue import BY_CODE, MeasureDef, ensure_measures
from beacon.indicators.models import Polarity

H, N = Polarity.HIGH_GOOD, Polarity.NEUTRAL

DESTINATION_MEASURES: tuple[MeasureDef, ...] = (
    MeasureDef(
        "ks4dest_cohort", "Pupils who finished year 11 (destinations cohort)", "ks4dest", "count", N, 0
    ),
    MeasureDef(
        "ks4dest_overall", "In sustained education, apprenticeship or employment", "ks4dest", "%", H, 0
    ),
    MeasureDef("ks4dest_education", "Staying in education", "ks4dest", "%", N, 0),
    MeasureDef("ks4dest_school_sixth", "School sixth form", "ks4dest", "%", N, 0),
    MeasureDef("ks4dest_sixth_college", "Sixth-form college", "ks4dest", "%", N, 0),
    MeasureDef("ks4dest_fe", "Further education college", "ks4dest", "%", N, 0),
    MeasureDef(
        "ks4dest_other_education",
        "Other education (for example a special school or another provider)",
        "ks4dest",
        "%",
        N,
        0,
    ),
    MeasureDef("ks4dest_apprenticeship", "Apprenticeship", "ks4dest", "%", N, 0),
    MeasureDef("ks4dest_employment", "Employment", "ks4dest", "%", N, 0),
    MeasureDef("ks4dest_not_sustained", "Not in a sustained destination", "ks4dest", "%", N, 0),
    MeasureDef("ks4dest_unknown", "Destination not known", "ks4dest", "%", N, 0),
    MeasureDef(
        "ks4dest_cohort_disadvantaged", "Disadvantaged pupils who finished year 11", "ks4dest", "count", N, 0
    ),
    MeasureDef(
        "ks4dest_overall_disadvantaged",
        "Disadvantaged pupils in sustained education, apprenticeship or employment",
        "ks4dest",
        "%",
        H,
        0,
    ),
)
DESTINATION_CODES: tuple[str, ...] = tuple(m.code for m in DESTINATION_MEASURES)
ALL_MEASURES: dict[str, MeasureDef] = {**BY_CODE, **{m.code: m for m in DESTINATION_MEASURES}}


def measure_def(code: str) -> MeasureDef:
    return ALL_MEASURES[code]


def ensure_profile_measures() -> dict[str, int]:
    return ensure_measures(extra=DESTINATION_MEASURES)
