"""Beacon's measure catalogue: every measure any importer writes, with its polarity and unit.

Importers map source columns onto these codes; the risk rules (issue 3) and pages read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from beacon.indicators.models import Measure, Polarity


@dataclass(frozen=True)
class MeasureDef:
    code: str
    label: str
    topic: str
    unit: str = "%"
    polarity: str = Polarity.HIGH_GOOD
    decimals: int = 1
    description: str = ""


H, L, N = Polarity.HIGH_GOOD, Polarity.LOW_GOOD, Polarity.NEUTRAL

CATALOGUE: tuple[MeasureDef, ...] = (
    # Key stage 2
    MeasureDef("ks2_pupils", "KS2 cohort (pupils at end of KS2)", "ks2", "count", N, 0),
    MeasureDef("ks2_rwm_expected", "KS2 reading, writing and maths: expected standard", "ks2"),
    MeasureDef("ks2_rwm_higher", "KS2 reading, writing and maths: higher standard", "ks2"),
    MeasureDef("ks2_reading_expected", "KS2 reading: expected standard", "ks2"),
    MeasureDef("ks2_writing_expected", "KS2 writing: expected standard", "ks2"),
    MeasureDef("ks2_maths_expected", "KS2 maths: expected standard", "ks2"),
    MeasureDef("ks2_reading_progress", "KS2 reading progress", "ks2", "score", H, 1),
    MeasureDef("ks2_writing_progress", "KS2 writing progress", "ks2", "score", H, 1),
    MeasureDef("ks2_maths_progress", "KS2 maths progress", "ks2", "score", H, 1),
    MeasureDef("ks2_reading_score", "KS2 reading average scaled score", "ks2", "score", H, 0),
    MeasureDef("ks2_maths_score", "KS2 maths average scaled score", "ks2", "score", H, 0),
    MeasureDef("ks2_rwm_expected_disadvantaged", "KS2 RWM expected standard: disadvantaged pupils", "ks2"),
    MeasureDef("ks2_rwm_expected_other", "KS2 RWM expected standard: other pupils", "ks2"),
    # Key stage 4
    MeasureDef("ks4_pupils", "KS4 cohort (pupils at end of KS4)", "ks4", "count", N, 0),
    MeasureDef("ks4_attainment8", "Attainment 8 score", "ks4", "score", H, 1),
    MeasureDef("ks4_progress8", "Progress 8 score", "ks4", "score", H, 2),
    MeasureDef("ks4_em_grade5", "English and maths grade 5 or above", "ks4"),
    MeasureDef("ks4_em_grade4", "English and maths grade 4 or above", "ks4"),
    MeasureDef("ks4_ebacc_entry", "Entering the English Baccalaureate", "ks4"),
    MeasureDef("ks4_ebacc_aps", "EBacc average point score", "ks4", "score", H, 2),
    MeasureDef("ks4_attainment8_disadvantaged", "Attainment 8: disadvantaged pupils", "ks4", "score", H, 1),
    MeasureDef("ks4_attainment8_other", "Attainment 8: other pupils", "ks4", "score", H, 1),
    # Early years and phonics (LA level in the data on hand)
    MeasureDef("eyfs_gld", "EYFS good level of development", "eyfs"),
    MeasureDef("phonics_y1", "Year 1 phonics: expected standard", "phonics"),
    # Attendance and suspensions
    MeasureDef("absence_overall", "Overall absence rate", "attendance", "%", L, 1),
    MeasureDef(
        "absence_persistent", "Persistent absence (10% or more sessions missed)", "attendance", "%", L, 1
    ),
    MeasureDef("suspension_rate", "Suspensions per 100 pupils", "behaviour", "rate", L, 2),
    MeasureDef("permanent_exclusion_rate", "Permanent exclusions per 100 pupils", "behaviour", "rate", L, 2),
    # Census context
    MeasureDef("pupils", "Pupils on roll (headcount)", "context", "count", N, 0),
    MeasureDef("fsm", "Pupils eligible for free school meals", "context", "%", N, 1),
    MeasureDef("fsm_ever6", "Disadvantaged (FSM in the last 6 years)", "context", "%", N, 1),
    MeasureDef("eal", "First language other than English", "context", "%", N, 1),
    MeasureDef("sen_support", "SEN support", "context", "%", N, 1),
    MeasureDef("sen_ehcp", "Education, health and care plan", "context", "%", N, 1),
    MeasureDef("capacity", "School capacity (places)", "context", "count", N, 0),
    # Area-level measures from LAIT (polarity from the LAIT data dictionary)
    MeasureDef("ks4_progress8_disadvantaged", "Progress 8: disadvantaged pupils", "ks4", "score", H, 2),
    MeasureDef("ks4_progress8_other", "Progress 8: other pupils", "ks4", "score", H, 2),
    MeasureDef("absence_unauthorised", "Unauthorised absence rate", "attendance", "%", L, 1),
    # SEND outcomes (LA level, LAIT)
    MeasureDef("ks2_rwm_expected_sen_support", "KS2 RWM expected standard: SEN support", "send"),
    MeasureDef("ks2_rwm_expected_ehcp", "KS2 RWM expected standard: EHC plan", "send"),
    MeasureDef("ks2_rwm_expected_no_sen", "KS2 RWM expected standard: no identified SEN", "send"),
    MeasureDef("ks4_attainment8_sen_support", "Attainment 8: SEN support", "send", "score", H, 1),
    MeasureDef("ks4_attainment8_ehcp", "Attainment 8: EHC plan", "send", "score", H, 1),
    MeasureDef("ks4_attainment8_no_sen", "Attainment 8: no identified SEN", "send", "score", H, 1),
    MeasureDef("ks4_progress8_sen_support", "Progress 8: SEN support", "send", "score", H, 2),
    MeasureDef("ks4_progress8_ehcp", "Progress 8: EHC plan", "send", "score", H, 2),
    MeasureDef("phonics_y1_sen_support", "Year 1 phonics expected standard: SEN support", "send"),
    MeasureDef("phonics_y1_ehcp", "Year 1 phonics expected standard: EHC plan", "send"),
    MeasureDef("ehcp_issued_20wks", "New EHC plans issued within 20 weeks", "send", "%", H, 1),
    # Post-16 (LA level, LAIT)
    MeasureDef("alevel_aps_per_entry", "A level average point score per entry", "post16", "score", H, 2),
    MeasureDef("alevel_aab", "A level: AAB or better", "post16"),
    MeasureDef("level3_age19", "Level 3 qualification by age 19", "post16"),
    MeasureDef("level2_em_age19", "Level 2 in English and maths by age 19", "post16"),
    MeasureDef("participation_16_17", "16-17 year olds in education or training", "post16"),
    MeasureDef("neet_16_17", "16-17 year olds NEET", "post16", "%", L, 1),
    # Recent school-level files, 2022/23-2024/25 (beacon/indicators/recent_importers.py, decision 0014)
    MeasureDef(
        "ks2_gps_score", "KS2 grammar, punctuation and spelling average scaled score", "ks2", "score", H, 0
    ),
    MeasureDef("ks4_ebacc_94", "EBacc: grade 4 or above in all components", "ks4"),
    MeasureDef("ks4_ebacc_95", "EBacc: grade 5 or above in all components", "ks4"),
    MeasureDef("ks4_progress8_pupils", "Pupils included in Progress 8", "ks4", "count", N, 0),
    MeasureDef("ks4_progress8_ci_lower", "Progress 8: lower 95% confidence limit", "ks4", "score", N, 2),
    MeasureDef("ks4_progress8_ci_upper", "Progress 8: upper 95% confidence limit", "ks4", "score", N, 2),
    MeasureDef("ks4_em_grade5_disadvantaged", "English and maths grade 5+: disadvantaged pupils", "ks4"),
    MeasureDef("ks4_em_grade5_other", "English and maths grade 5+: other pupils", "ks4"),
    MeasureDef("ks4_disadvantaged_cohort", "Disadvantaged pupils in the KS4 cohort", "ks4", "%", N, 0),
    MeasureDef(
        "alevel_aab_facilitating", "A level: AAB or better, at least two facilitating subjects", "post16"
    ),
    MeasureDef("alevel_cohort", "A level students (16-18)", "post16", "count", N, 0),
    MeasureDef(
        "suspension_one_plus_rate",
        "Pupils with one or more suspensions per 100 pupils",
        "behaviour",
        "rate",
        L,
        2,
    ),
    MeasureDef("finance_spend_per_pupil", "Total expenditure per pupil", "finance", "£", N, 0),
    MeasureDef("finance_revenue_reserve", "Revenue reserve (balance carried forward)", "finance", "£", H, 0),
    MeasureDef("finance_in_year_balance", "In-year revenue balance", "finance", "£", H, 0),
    MeasureDef("workforce_pupil_teacher_ratio", "Pupil to teacher ratio", "workforce", "ratio", N, 1),
    MeasureDef("workforce_teachers_fte", "Teachers (full-time equivalent)", "workforce", "count", N, 1),
    MeasureDef("workforce_staff_fte", "All school staff (full-time equivalent)", "workforce", "count", N, 1),
    # 16-18 destinations (students who finished 16-18 study in the year before; stored by destination year)
    MeasureDef(
        "ks5dest_cohort", "Students who finished 16-18 study (destinations cohort)", "ks5dest", "count", N, 0
    ),
    MeasureDef(
        "ks5dest_overall", "16-18: sustained education, apprenticeship or employment", "ks5dest", "%", H, 0
    ),
    MeasureDef("ks5dest_education", "16-18: sustained education", "ks5dest", "%", N, 0),
    MeasureDef("ks5dest_he", "16-18: higher education", "ks5dest", "%", N, 0),
    MeasureDef("ks5dest_fe", "16-18: further education", "ks5dest", "%", N, 0),
    MeasureDef("ks5dest_apprenticeship", "16-18: apprenticeship", "ks5dest", "%", N, 0),
    MeasureDef("ks5dest_employment", "16-18: employment", "ks5dest", "%", N, 0),
    MeasureDef("ks5dest_not_sustained", "16-18: not in a sustained destination", "ks5dest", "%", N, 0),
    MeasureDef(
        "ks5dest_overall_disadvantaged",
        "16-18 disadvantaged students: sustained education, apprenticeship or employment",
        "ks5dest",
        "%",
        H,
        0,
    ),
    MeasureDef(
        "ks5dest_he_progressed", "16-18: progressed to higher education or training", "ks5dest", "%", H, 0
    ),
    MeasureDef(
        "ks5dest_he_top_third", "16-18: higher education at a top third provider", "ks5dest", "%", N, 0
    ),
)

BY_CODE: dict[str, MeasureDef] = {m.code: m for m in CATALOGUE}


def ensure_measures(extra: tuple[MeasureDef, ...] = ()) -> dict[str, int]:
    """Create or refresh catalogue rows; returns code -> id.

    Every import calls this, so it reads the catalogue once and writes only what differs (a new code or
    a changed definition), instead of an update_or_create (a savepoint, a locking read and an UPDATE)
    for each of the 80-odd measures on every import.
    """
    wanted = {
        m.code: {
            "label": m.label,
            "topic": m.topic,
            "unit": m.unit,
            "polarity": m.polarity,
            "decimals": m.decimals,
            "description": m.description,
        }
        for m in (*CATALOGUE, *extra)
    }
    fields = ["label", "topic", "unit", "polarity", "decimals", "description"]
    have = {
        row[0]: row
        for row in Measure.objects.filter(code__in=list(wanted)).values_list("code", "id", *fields)
    }
    for code, values in wanted.items():
        row = have.get(code)
        if row is None:
            Measure.objects.update_or_create(
                code=code, defaults=values
            )  # new: safe against a concurrent import
        elif tuple(row[2:]) != tuple(values[f] for f in fields):
            Measure.objects.filter(pk=row[1]).update(**values)
    return dict(Measure.objects.values_list("code", "id"))
