"""The checks that evaluate data-driven criteria, grouped by family, registered by name in one place.

A rule names its check in `params['check']` (`beacon.risk.models.Rule`); the criteria catalogue files
(`beacon/risk/criteria/*.toml`) name each data criterion's check and family, and the loader
(`beacon.risk.criteria`) refuses a file naming a check or family that is not registered here. Every
check has the signature `check(frames, params, schools_in_scope) -> (school_id, outcome, evidence JSON)`.

To add a check: write it in its family's module (or a new one), add it to `REGISTRY` below, and name it
in a criterion's default rule in the catalogue file.
"""

from __future__ import annotations

from dataclasses import dataclass

from beacon.risk.checks import attainment, attendance, behaviour, inspection, personnel, progress
from beacon.risk.checks.base import Check


@dataclass(frozen=True)
class RegisteredCheck:
    name: str
    family: str
    function: Check


# The families, in the order the checks are listed (one module each).
FAMILIES: tuple[str, ...] = ("attainment", "progress", "attendance", "behaviour", "inspection", "personnel")

REGISTRY: dict[str, RegisteredCheck] = {
    c.name: c
    for c in (
        RegisteredCheck("below_benchmark", "attainment", attainment.check_below_benchmark),
        RegisteredCheck("declining", "progress", progress.check_declining),
        RegisteredCheck("gap_widening", "progress", progress.check_gap_widening),
        RegisteredCheck("absence_high", "attendance", attendance.check_absence_high),
        RegisteredCheck("suspensions_high_rising", "behaviour", behaviour.check_suspensions),
        RegisteredCheck("ofsted_below", "inspection", inspection.check_ofsted_below),
        RegisteredCheck("safeguarding_not_met", "inspection", inspection.check_safeguarding),
        RegisteredCheck("head_change", "personnel", personnel.check_head_change),
        RegisteredCheck("falling_rolls", "personnel", personnel.check_falling_rolls),
    )
}

# check name -> function: what the evaluation runs (`beacon.risk.services.run_rules`).
CHECKS: dict[str, Check] = {name: c.function for name, c in REGISTRY.items()}
