"""The system targets as first loaded (data migration 0002). After that they are data: edited on the
target page by the director or commissioner, with history. Source texts are quoted from
../shared/seeds/camden-learning-commission-targets.txt (Appendix 1) and
cambridgeshire-school-improvement-strategy-2014-16.txt (Targets and actions; Appendix 7)."""

from __future__ import annotations

from typing import Any

L, IL, E, SN = "london", "inner_london", "england", "neighbours"
HI, LO = "higher", "lower"


def _t(ref: str, area: str, title: str, source_text: str, kind: str, **kw: Any) -> dict[str, Any]:
    return {"ref": ref, "area": area, "title": title, "source_text": source_text, "kind": kind, **kw}


OUTCOMES = "School and pupil outcomes"
POST16 = "Post 16"
EXCL = "Exclusions and attendance"
SEND = "SEND"
GOV = "Governors"
GAPS = "Closing attainment gaps (Area 8)"

CAMDEN: list[dict[str, Any]] = [
    _t(
        "CLC-01",
        OUTCOMES,
        "Every school good or better",
        "All Camden schools will be graded good or better in their Ofsted inspection judgement.",
        "good_or_better",
        threshold=100.0,
    ),
    _t(
        "CLC-02",
        OUTCOMES,
        "No school inadequate for safeguarding",
        "No school is judged 'inadequate' due to safeguarding concerns.",
        "not_measured",
        no_data_reason="The inspection data held does not record why a school was judged inadequate",
    ),
    _t(
        "CLC-03",
        OUTCOMES,
        "Schools requiring improvement on track at monitoring",
        "Any school graded as 'Requires Improvement' will be judged to have made at least adequate progress "
        "and be on track to achieve good or better in their monitoring report.",
        "not_measured",
        no_data_reason="Ofsted monitoring-visit outcomes are not in the data held",
    ),
    _t(
        "CLC-04",
        OUTCOMES,
        "KS2 reading, writing and maths in the top quartile of London LAs",
        "Attainment in Key Stage 2 SATs (Reading: Writing: Maths) and at KS4 (L5+ in English & Maths) will be "
        "maintained in the top quartile of London Authorities.",
        "top_quartile",
        measure_code="ks2_rwm_expected",
    ),
    _t(
        "CLC-05",
        OUTCOMES,
        "KS4 English and maths grade 5+ in the top quartile of London LAs",
        "Attainment in Key Stage 2 SATs (Reading: Writing: Maths) and at KS4 (L5+ in English & Maths) will be "
        "maintained in the top quartile of London Authorities.",
        "top_quartile",
        measure_code="ks4_em_grade5",
    ),
    _t(
        "CLC-06",
        OUTCOMES,
        "Attainment 8 above the London average",
        "The percentage of children achieving Attainment 8 to be above the London Average.",
        "beat",
        measure_code="ks4_attainment8",
        comparators=[L],
    ),
    _t(
        "CLC-07",
        OUTCOMES,
        "Disadvantaged pupils' KS2 attainment above the London average",
        "The attainment of disadvantaged (FSM) pupils will be above the London average (Key Stages 2,4)",
        "beat",
        measure_code="ks2_rwm_expected_disadvantaged",
        comparators=[L],
    ),
    _t(
        "CLC-08",
        OUTCOMES,
        "Disadvantaged pupils' KS4 attainment above the London average",
        "The attainment of disadvantaged (FSM) pupils will be above the London average (Key Stages 2,4)",
        "beat",
        measure_code="ks4_attainment8_disadvantaged",
        comparators=[L],
    ),
    _t(
        "CLC-09",
        OUTCOMES,
        "GCSE outcomes of disadvantaged pupils improve year on year",
        "There will be continued (year-on-year) improvement in GCSE outcomes for all lower-performing groups.",
        "improving",
        measure_code="ks4_attainment8_disadvantaged",
    ),
    _t(
        "CLC-10",
        OUTCOMES,
        "GCSE outcomes of pupils with SEN support improve year on year",
        "There will be continued (year-on-year) improvement in GCSE outcomes for all lower-performing groups.",
        "improving",
        measure_code="ks4_attainment8_sen_support",
    ),
    _t(
        "CLC-11",
        POST16,
        "Progression to higher education at or near the London average",
        "The proportion of pupils from Camden Secondary Schools progressing to higher education will be "
        "maintained at or near the London average.",
        "beat",
        measure_code="he_entry_age19",
        comparators=[L],
        threshold=2.0,
    ),
    _t(
        "CLC-12",
        POST16,
        "Level 2 in English and maths by 19 above London",
        "That the proportion of pupils attaining Level 2 (English and maths) and Level 3 qualifications by the "
        "appropriate age is above the average of London Authorities.",
        "beat",
        measure_code="level2_em_age19",
        comparators=[L],
    ),
    _t(
        "CLC-13",
        POST16,
        "Level 3 by 19 above London",
        "That the proportion of pupils attaining Level 2 (English and maths) and Level 3 qualifications by the "
        "appropriate age is above the average of London Authorities.",
        "beat",
        measure_code="level3_age19",
        comparators=[L],
    ),
    _t(
        "CLC-14",
        POST16,
        "Sustained education, employment or training after KS4 in line with London",
        "The proportion of pupils from Camden Secondary Schools progressing to tertiary education, or any "
        "sustained employment or education destination will be at least in line with the London average.",
        "beat",
        measure_code="ks4_sustained_destination",
        comparators=[L],
        threshold=0.0,
    ),
    _t(
        "CLC-15",
        EXCL,
        "Attendance above the London average (absence below it)",
        "School attendance at all phases is above the London average.",
        "beat",
        measure_code="absence_overall",
        comparators=[L],
        direction=LO,
    ),
    _t(
        "CLC-16",
        EXCL,
        "Suspensions below London and national",
        "That the level of suspensions (fixed-term exclusions) will be below both the London and national "
        "levels.",
        "beat",
        measure_code="suspension_rate",
        comparators=[L, E],
        direction=LO,
    ),
    _t(
        "CLC-17",
        SEND,
        "KS2: pupils with SEN support above their peers nationally",
        "Achievement of pupils with SEND is above that of their peers nationally in all schools and shows "
        "year-on-year improvement.",
        "beat",
        measure_code="ks2_rwm_expected_sen_support",
        comparators=[E],
    ),
    _t(
        "CLC-18",
        SEND,
        "KS2: pupils with an EHC plan above their peers nationally",
        "Achievement of pupils with SEND is above that of their peers nationally in all schools and shows "
        "year-on-year improvement.",
        "beat",
        measure_code="ks2_rwm_expected_ehcp",
        comparators=[E],
    ),
    _t(
        "CLC-19",
        SEND,
        "KS4: pupils with SEN support above their peers nationally",
        "Achievement of pupils with SEND is above that of their peers nationally in all schools and shows "
        "year-on-year improvement.",
        "beat",
        measure_code="ks4_attainment8_sen_support",
        comparators=[E],
    ),
    _t(
        "CLC-20",
        SEND,
        "KS4: pupils with an EHC plan above their peers nationally",
        "Achievement of pupils with SEND is above that of their peers nationally in all schools and shows "
        "year-on-year improvement.",
        "beat",
        measure_code="ks4_attainment8_ehcp",
        comparators=[E],
    ),
    _t(
        "CLC-21",
        SEND,
        "School confidence in SEND advice improves",
        "School confidence in advice and support for SEND from Camden Council improves year by year.",
        "not_measured",
        no_data_reason="No school survey results are held",
    ),
    _t(
        "CLC-22",
        GOV,
        "More diverse governing bodies",
        "Demonstrable improvement in diverse representation within Governing Bodies.",
        "not_measured",
        no_data_reason="Governor diversity data is not held",
    ),
    # Group gaps (Table 1, Area 8: differential outcomes for priority groups)
    _t(
        "GAP-01",
        GAPS,
        "KS2 RWM: disadvantaged pupils and others",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks2_rwm_expected_disadvantaged",
        other_measure_code="ks2_rwm_expected_other",
        comparators=[L, E],
        gap_change_points=3.0,
    ),
    _t(
        "GAP-02",
        GAPS,
        "Attainment 8: disadvantaged pupils and others",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks4_attainment8_disadvantaged",
        other_measure_code="ks4_attainment8_other",
        comparators=[L, E],
        gap_change_points=2.0,
    ),
    _t(
        "GAP-03",
        GAPS,
        "KS2 RWM: pupils eligible for FSM and others",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks2_rwm_expected_fsm",
        other_measure_code="ks2_rwm_expected_non_fsm",
        comparators=[L, E],
        gap_change_points=3.0,
    ),
    _t(
        "GAP-04",
        GAPS,
        "Attainment 8: pupils eligible for FSM and others",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks4_attainment8_fsm",
        other_measure_code="ks4_attainment8_non_fsm",
        comparators=[L, E],
        gap_change_points=2.0,
    ),
    _t(
        "GAP-05",
        GAPS,
        "EYFS good level of development: FSM and others",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="eyfs_gld_fsm",
        other_measure_code="eyfs_gld_non_fsm",
        comparators=[L, E],
        gap_change_points=3.0,
    ),
    _t(
        "GAP-06",
        GAPS,
        "KS2 RWM: SEN support and no identified SEN",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks2_rwm_expected_sen_support",
        other_measure_code="ks2_rwm_expected_no_sen",
        comparators=[L, E],
        gap_change_points=3.0,
    ),
    _t(
        "GAP-07",
        GAPS,
        "KS2 RWM: EHC plan and no identified SEN",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks2_rwm_expected_ehcp",
        other_measure_code="ks2_rwm_expected_no_sen",
        comparators=[L, E],
        gap_change_points=3.0,
    ),
    _t(
        "GAP-08",
        GAPS,
        "Attainment 8: SEN support and no identified SEN",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks4_attainment8_sen_support",
        other_measure_code="ks4_attainment8_no_sen",
        comparators=[L, E],
        gap_change_points=2.0,
    ),
    _t(
        "GAP-09",
        GAPS,
        "Attainment 8: boys and girls",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        measure_code="ks4_attainment8_boys",
        other_measure_code="ks4_attainment8_girls",
        comparators=[L, E],
        gap_change_points=2.0,
        no_data_reason="LAIT publishes no results by gender; school figures (2015/16 to 2017/18) are below",
    ),
    _t(
        "GAP-10",
        GAPS,
        "Pupils with English as an additional language and others",
        "Differential outcomes for priority underachieving groups are identified and targeted with strategies "
        "agreed to address gaps.",
        "gap",
        comparators=[L, E],
        no_data_reason="No results by first language (EAL) are published in the data held, at LA or school level",
    ),
]

CAMBS_OVERALL = "Overarching targets"
CAMBS_APP7 = "Appendix 7: vulnerable groups"

CAMBRIDGESHIRE: list[dict[str, Any]] = [
    _t(
        "CAM-01",
        CAMBS_OVERALL,
        "88% of schools good or outstanding",
        "By August 2016, the period of this strategy, our target is that 88% of all schools will be good or "
        "outstanding (August 2014 = 74%).",
        "good_or_better",
        threshold=88.0,
    ),
    _t(
        "CAM-02",
        CAMBS_OVERALL,
        "Teaching good or outstanding in at least 90% of schools",
        "the overall quality of teaching is judged to be good or outstanding in at least 90% of schools and "
        "academies.",
        "not_measured",
        no_data_reason="Separate quality-of-teaching grades are not in the inspection data held",
    ),
    _t(
        "CAM-03",
        CAMBS_OVERALL,
        "Teacher vacancies at or below 0.1% of the workforce",
        "the number of vacancies stays at or below 0.1% of the teaching workforce",
        "not_measured",
        no_data_reason="School workforce data is not held",
    ),
    _t(
        "CAM-04",
        CAMBS_APP7,
        "Close the FSM gap in KS2 reading, writing and maths to the national gap",
        "Close the gap between non-FSM and FSM in reading, writing and maths by 10 ppt to in line with "
        "national average (currently 17 ppt)",
        "gap",
        measure_code="ks2_rwm_expected_fsm",
        other_measure_code="ks2_rwm_expected_non_fsm",
        comparators=[E],
        gap_change_points=2.0,
    ),
    _t(
        "CAM-05",
        CAMBS_APP7,
        "FSM pupils' KS2 attainment in line with national",
        "Raise attainment of children in receipt of FSM by 2 ppt in reading, writing and maths combined to in "
        "line with national average",
        "beat",
        measure_code="ks2_rwm_expected_fsm",
        comparators=[E],
        threshold=0.0,
    ),
    _t(
        "CAM-06",
        CAMBS_APP7,
        "FSM / non-FSM gap at KS4 at least as narrow as national",
        "The FSM/Non-FSM attainment gap closes to at least the national average by 2017",
        "gap",
        measure_code="ks4_attainment8_fsm",
        other_measure_code="ks4_attainment8_non_fsm",
        comparators=[E],
        gap_change_points=2.0,
    ),
    _t(
        "CAM-07",
        CAMBS_APP7,
        "Progress of disadvantaged pupils above such pupils nationally",
        "The progress made by vulnerable groups, particularly those eligible for Pupil Premium, Pupil Premium "
        "Plus, those with SEN and identified BME/EAL groups, on English and mathematics is above the progress "
        "made by such pupils nationally by 2017.",
        "beat",
        measure_code="ks4_progress8_disadvantaged",
        comparators=[E],
    ),
    _t(
        "CAM-08",
        CAMBS_APP7,
        "Progress of pupils with SEN support above such pupils nationally",
        "The progress made by vulnerable groups, particularly those eligible for Pupil Premium, Pupil Premium "
        "Plus, those with SEN and identified BME/EAL groups, on English and mathematics is above the progress "
        "made by such pupils nationally by 2017.",
        "beat",
        measure_code="ks4_progress8_sen_support",
        comparators=[E],
    ),
    _t(
        "CAM-09",
        CAMBS_APP7,
        "Boys' good level of development up 4 points",
        "Increase the percentage of boys achieving a Good Level of Development by 4 ppt.",
        "not_measured",
        no_data_reason="EYFS results by gender are not in the data held",
    ),
    _t(
        "CAM-10",
        CAMBS_APP7,
        "Phonics: 100% by Year 2",
        "Improve the outcomes of Year 1 phonic screening to 100% by Year 2",
        "not_measured",
        no_data_reason="Year 2 phonics re-check results are not in the data held",
    ),
    _t(
        "CAM-11",
        CAMBS_APP7,
        "Looked-after children in line with looked-after children nationally",
        "Improve the attainment of children who are Looked After to in line with the national average for LAC",
        "not_measured",
        no_data_reason="Results of looked-after children are not imported",
    ),
]


def seed_rows() -> list[dict[str, Any]]:
    rows = []
    for framework, items in (("camden", CAMDEN), ("cambridgeshire", CAMBRIDGESHIRE)):
        for i, item in enumerate(items, start=1):
            rows.append({"framework": framework, "sort_order": i, "direction": HI, "comparators": [], **item})
    return rows


def seed_targets(model: Any) -> int:
    """Create the targets that do not exist yet (by ref); existing rows (maybe edited) are left alone."""
    have = set(model.objects.values_list("ref", flat=True))
    new = [model(**row) for row in seed_rows() if row["ref"] not in have]
    model.objects.bulk_create(new)
    return len(new)
