"""Measures the reporting pages add to the catalogue (LAIT group breakdowns, post-16 destinations and
KS4 results by gender). Kept here, not in beacon/indicators/catalogue.py, and created with
`ensure_measures(extra=REPORTING_MEASURES)` before the reporting sources load."""

from __future__ import annotations

from beacon.indicators.catalogue import BY_CODE, MeasureDef, ensure_measures
from beacon.indicators.models import Polarity

H = Polarity.HIGH_GOOD

REPORTING_MEASURES: tuple[MeasureDef, ...] = (
    MeasureDef("ks2_rwm_expected_fsm", "KS2 RWM expected standard: pupils eligible for FSM", "ks2"),
    MeasureDef("ks2_rwm_expected_non_fsm", "KS2 RWM expected standard: pupils not eligible for FSM", "ks2"),
    MeasureDef("ks4_attainment8_fsm", "Attainment 8: pupils eligible for FSM", "ks4", "score", H, 1),
    MeasureDef("ks4_attainment8_non_fsm", "Attainment 8: pupils not eligible for FSM", "ks4", "score", H, 1),
    MeasureDef("eyfs_gld_fsm", "EYFS good level of development: pupils eligible for FSM", "eyfs"),
    MeasureDef("eyfs_gld_non_fsm", "EYFS good level of development: pupils not eligible for FSM", "eyfs"),
    MeasureDef("phonics_y1_fsm", "Year 1 phonics expected standard: pupils eligible for FSM", "phonics"),
    MeasureDef("phonics_y1_no_sen", "Year 1 phonics expected standard: no identified SEN", "phonics"),
    MeasureDef("he_entry_age19", "Entered higher education by age 19 (state-funded pupils at 15)", "post16"),
    MeasureDef(
        "ks4_sustained_destination",
        "KS4 pupils in sustained education, employment or training",
        "post16",
    ),
    MeasureDef("ks4_attainment8_boys", "Attainment 8: boys", "ks4", "score", H, 1),
    MeasureDef("ks4_attainment8_girls", "Attainment 8: girls", "ks4", "score", H, 1),
    MeasureDef("ks4_progress8_boys", "Progress 8: boys", "ks4", "score", H, 2),
    MeasureDef("ks4_progress8_girls", "Progress 8: girls", "ks4", "score", H, 2),
)

ALL_MEASURES: dict[str, MeasureDef] = {**BY_CODE, **{m.code: m for m in REPORTING_MEASURES}}


def measure_def(code: str) -> MeasureDef | None:
    return ALL_MEASURES.get(code)


def ensure_reporting_measures() -> dict[str, int]:
    return ensure_measures(extra=REPORTING_MEASURES)
