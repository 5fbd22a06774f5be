"""Destinations after key stage 4 for each school (DfE 'destinations of key stage 4 students', in the
2018/19 school performance tables release): measures outside the shared catalogue
(beacon/indicators/catalogue.py) that the public profile reads and the recent-results destinations
importer (beacon/indicators/recent_importers.py) writes. They live here, below both, so the importer does
not reach up into beacon.profiles (decision 0022).
Academic year stored = the destination year (2017 = 2017/18, for pupils who finished year 11 in 2016/17).
"""

from __future__ import annotations

from beacon.indicators.catalogue import MeasureDef, ensure_measures
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


def ensure_destination_measures() -> dict[str, int]:
    return ensure_measures(extra=DESTINATION_MEASURES)
