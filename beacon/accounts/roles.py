"""The people who use Beacon, in the words of the School Support and Development Strategy."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    COMMISSIONER = "commissioner", "Commissioner (local authority)"
    CEO = "ceo", "Chief executive (education partnership)"
    DIRECTOR = "director", "Director of Learning and Impact"
    ADVISER = "adviser", "Professional partner (CPP / adviser)"
    SRAS = "sras", "SRAS panel member"
    HEADTEACHER = "headteacher", "Headteacher"
    CHAIR = "chair", "Chair of governors"
    DATA_MANAGER = "data_manager", "Data manager (imports)"
    NATIONAL = "national", "National analyst (read only, every school)"


# Roles that see every school of their local authority.
LA_WIDE_ROLES: frozenset[str] = frozenset(
    {Role.COMMISSIONER, Role.CEO, Role.DIRECTOR, Role.SRAS, Role.DATA_MANAGER}
)
# Roles that see only the schools they are assigned to (an adviser's caseload, a head's own school).
ASSIGNED_ROLES: frozenset[str] = frozenset({Role.ADVISER, Role.HEADTEACHER, Role.CHAIR})
# Read-only roles that see every school held, whatever their LA (a DfE or regional analyst): schools, LA
# overviews and the risk register with its stored results; no intelligence, support records, decisions or
# judgements, no imports.
NATIONAL_ROLES: frozenset[str] = frozenset({Role.NATIONAL})
# Roles that may import data files.
IMPORT_ROLES: frozenset[str] = frozenset({Role.DATA_MANAGER, Role.DIRECTOR})
# Roles that may chair a support case (the Director of Learning and Impact or the CEO).
CASE_CHAIR_ROLES: frozenset[str] = frozenset({Role.DIRECTOR, Role.CEO})
