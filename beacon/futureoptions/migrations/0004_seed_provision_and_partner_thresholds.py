"""Thresholds for special and alternative provision (a hospital school has none: not assessed), the gap
between a headcount and its entries, and the partner-suggestion weights (issue 14), as data."""

from django.db import migrations

THRESHOLDS = (
    ("falling_roll_pct", "special", 20.0, "Falling roll (special schools): fall in pupils on roll (%)"),
    (
        "falling_roll_pct",
        "alternative",
        40.0,
        "Falling roll (alternative provision): fall in pupils on roll (%); referrals vary year to year",
    ),
    (
        "roll_below_entries_pct",
        "",
        40.0,
        "Headcount below entries: latest survival ratio this % below the earlier median raises the flag",
    ),
    (
        "partner_weight",
        "distance",
        30.0,
        "Partner suggestions: points for being near (falling to 0 at the distance limit)",
    ),
    ("partner_weight", "phase", 20.0, "Partner suggestions: points for the same phase"),
    ("partner_weight", "faith", 15.0, "Partner suggestions: points for the same religious character"),
    (
        "partner_weight",
        "inspection",
        15.0,
        "Partner suggestions: points for a stronger current Ofsted judgement",
    ),
    (
        "partner_weight",
        "results",
        10.0,
        "Partner suggestions: points for better current results (full at the gap below)",
    ),
    (
        "partner_weight",
        "leader",
        5.0,
        "Partner suggestions: points for a head on the system-leadership register",
    ),
    ("partner_weight", "stable", 5.0, "Partner suggestions: points for not being flagged as vulnerable"),
    ("partner_near_m", "", 4000.0, "Partner suggestions: distance (metres) at which distance points reach 0"),
    (
        "partner_results_gap",
        "ks2_rwm_expected",
        10.0,
        "Partner suggestions: KS2 RWM gap (percentage points) that earns the full results points",
    ),
    (
        "partner_results_gap",
        "ks4_progress8",
        0.5,
        "Partner suggestions: Progress 8 gap that earns the full results points",
    ),
)


def seed(apps, schema_editor):
    Threshold = apps.get_model("futureoptions", "Threshold")
    for code, phase, value, label in THRESHOLDS:
        Threshold.objects.get_or_create(code=code, phase=phase, defaults={"value": value, "label": label})


def unseed(apps, schema_editor):
    Threshold = apps.get_model("futureoptions", "Threshold")
    for code, phase, _, _ in THRESHOLDS:
        Threshold.objects.filter(code=code, phase=phase).delete()


class Migration(migrations.Migration):
    dependencies = [("futureoptions", "0003_school_location_roll_projections")]
    operations = [migrations.RunPython(seed, unseed)]
