"""The one place that decides who sees what.

Every view that reads school data goes through `visible_schools()` or `require_school()`;
nothing else filters schools by user. Tests in tests/test_scoping.py hold this to account.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from beacon.accounts.roles import (
    ASSIGNED_ROLES,
    CASE_CHAIR_ROLES,
    IMPORT_ROLES,
    LA_WIDE_ROLES,
    NATIONAL_ROLES,
    Role,
)

if TYPE_CHECKING:
    from beacon.schools.models import School


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def visible_schools(user: Any) -> QuerySet[School]:
    """Schools this user may see. Anonymous users see none (public pages use their own selectors)."""
    from beacon.schools.models import School

    if not _active(user):
        return School.objects.none()
    if user.is_superuser or user.role in NATIONAL_ROLES:
        return School.objects.all()
    if user.role in LA_WIDE_ROLES:
        qs = School.objects.all()
        return qs.filter(la_code=user.la_code) if user.la_code else qs
    if user.role in ASSIGNED_ROLES:
        today = dt.date.today()
        return School.objects.filter(
            Q(assignments__user=user),
            Q(assignments__started_on__isnull=True) | Q(assignments__started_on__lte=today),
            Q(assignments__ended_on__isnull=True) | Q(assignments__ended_on__gte=today),
        ).distinct()
    return School.objects.none()


def served_schools(user: Any) -> QuerySet[School]:
    """The schools the LA serves now that this user may see: open and state-funded (`School.objects.served()`).

    Every *current* list starts here (the register's default view, the LA overview, the risk register,
    support, targets and reports); independent and closed schools are out. A closed or independent
    school's own pages stay reachable through visible_schools() / require_school()."""
    from beacon.schools.models import served

    return served(visible_schools(user))


def require_school(user: Any, urn: int) -> School:
    """The school with this URN if the user may see it; otherwise 404-equivalent PermissionDenied."""
    school = visible_schools(user).filter(urn=urn).first()
    if school is None:
        raise PermissionDenied("You do not have access to this school.")
    return school


def can_see_la_overview(user: Any) -> bool:
    return _active(user) and (
        user.is_superuser
        or user.role in LA_WIDE_ROLES
        or user.role == Role.ADVISER
        or user.role in NATIONAL_ROLES
    )


def can_choose_la(user: Any) -> bool:
    """The LA overview of any LA (national roles, superusers); everyone else sees their own LA's."""
    return _active(user) and (user.is_superuser or user.role in NATIONAL_ROLES)


def can_see_data_freshness(user: Any) -> bool:
    """The data page (how current each source is): LA staff (LA-wide roles and advisers), not schools."""
    return _active(user) and (user.is_superuser or user.role in LA_WIDE_ROLES or user.role == Role.ADVISER)


def can_import(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in IMPORT_ROLES)


def can_see_audit_trail(user: Any) -> bool:
    from beacon.accounts.roles import Role

    return _active(user) and (
        user.is_superuser or user.role in {Role.COMMISSIONER, Role.CEO, Role.DIRECTOR, Role.DATA_MANAGER}
    )


def navigation_for(user: Any) -> list[dict[str, str]]:
    from django.urls import reverse

    if not _active(user):
        return []
    items = [{"href": reverse("schools:list"), "text": "Schools"}]
    if can_see_la_overview(user):
        items.append({"href": reverse("schools:la_overview"), "text": "Local authority"})
    if can_see_risk_register(user):
        items.append({"href": reverse("assessments:register"), "text": "Risk register"})
    if can_see_support(user):
        items.append({"href": reverse("support:caseload"), "text": "Support"})
    if can_manage_warning_notices(user):
        items.append({"href": reverse("interventions:list"), "text": "Interventions"})
    if can_see_reporting(user):
        items.append({"href": reverse("reporting:dashboard"), "text": "Targets"})
    if can_see_future_options(user):
        items.append({"href": reverse("futureoptions:index"), "text": "Future options"})
    if can_see_strategy(user):
        items.append({"href": reverse("accountability:index"), "text": "Accountability"})
    if can_see_data_freshness(user):
        items.append({"href": reverse("imports:data"), "text": "Data held"})
    if can_import(user):
        items.append({"href": reverse("imports:list"), "text": "Data imports"})
    if can_see_audit_trail(user):
        items.append({"href": reverse("core:audit"), "text": "Change history"})
    if requires_second_factor(user):
        items.append({"href": reverse("accounts:security"), "text": "Sign-in security"})
    if can_publish_profile_narratives(user) or user.role == Role.HEADTEACHER:
        items.append({"href": reverse("profiles:narratives"), "text": "School profiles"})
    return items


# ---------------------------------------------------------------------------------------------
# Termly risk assessment and soft intelligence (beacon.assessments)
#
# Who reads which sensitivity of intelligence (a school must first be in visible_schools(user)):
#   general       LA-wide school-improvement roles (commissioner, CEO, director, SRAS member), the
#                 school's assigned adviser; the school's own headteacher / chair only when the note is
#                 marked "shared with the school" (and not withdrawn).
#   safeguarding  commissioner, CEO, director and the school's assigned adviser.
#   personnel     commissioner, CEO, director.
#   finance       commissioner, CEO, director.
# The person who recorded a note always keeps sight of it while they can see the school. The data
# manager role sees no intelligence and no risk register (no need to know). Headteachers and chairs never
# see restricted notes, nor anything about another school (visible_schools already scopes them).

RISK_LEADERSHIP_ROLES: frozenset[str] = frozenset({Role.COMMISSIONER, Role.CEO, Role.DIRECTOR})
RISK_REGISTER_ROLES: frozenset[str] = RISK_LEADERSHIP_ROLES | {Role.SRAS, Role.ADVISER} | NATIONAL_ROLES
_INTELLIGENCE_BY_ROLE: dict[str, frozenset[str]] = {
    Role.COMMISSIONER: frozenset({"general", "safeguarding", "personnel", "finance"}),
    Role.CEO: frozenset({"general", "safeguarding", "personnel", "finance"}),
    Role.DIRECTOR: frozenset({"general", "safeguarding", "personnel", "finance"}),
    Role.ADVISER: frozenset({"general", "safeguarding"}),
    Role.SRAS: frozenset({"general"}),
}


def can_see_risk_register(user: Any) -> bool:
    """The LA risk register: LA-wide school-improvement roles, and advisers (their caseload only)."""
    return _active(user) and (user.is_superuser or user.role in RISK_REGISTER_ROLES)


def risk_register_schools(user: Any) -> QuerySet[School]:
    """Schools whose full risk assessment the user may read (an adviser's caseload), closed ones included
    (their past assessments stay readable). The register itself lists `current_risk_register_schools`."""
    from beacon.schools.models import School

    if not can_see_risk_register(user):
        return School.objects.none()
    return visible_schools(user)


def current_risk_register_schools(user: Any) -> QuerySet[School]:
    """The rows of the termly risk register: the served schools (open, state-funded) the user may read."""
    from beacon.schools.models import served

    return served(risk_register_schools(user))


def can_decide_assessment(user: Any) -> bool:
    """Deciding a school's RAG and support level: the Director of Learning and Impact, the CEO, the
    commissioner (the risk register meeting / SRAS chairs). Advisers propose through judgements."""
    return _active(user) and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES)


def can_record_judgement(user: Any, school: School) -> bool:
    return (
        _active(user)
        and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES or user.role == Role.ADVISER)
        and risk_register_schools(user).filter(pk=school.pk).exists()
    )


def can_record_intelligence(user: Any, school: School) -> bool:
    return (
        can_see_risk_register(user)
        and user.role not in NATIONAL_ROLES
        and risk_register_schools(user).filter(pk=school.pk).exists()
    )


def intelligence_sensitivities(user: Any) -> frozenset[str]:
    """Sensitivities this user may read (for schools they may see)."""
    if not _active(user):
        return frozenset()
    if user.is_superuser:
        return _INTELLIGENCE_BY_ROLE[Role.DIRECTOR]
    return _INTELLIGENCE_BY_ROLE.get(user.role, frozenset())


def visible_intelligence(user: Any, school: School) -> QuerySet[Any]:
    """The intelligence about `school` this user may read (see the table above)."""
    from beacon.accounts.roles import Role
    from beacon.assessments.models import Intelligence, Sensitivity

    qs = Intelligence.objects.filter(school=school)
    if not _active(user) or not visible_schools(user).filter(pk=school.pk).exists():
        return qs.none()
    if user.role in {Role.HEADTEACHER, Role.CHAIR} and not user.is_superuser:
        return qs.filter(sensitivity=Sensitivity.GENERAL, shared_with_school=True, withdrawn_at__isnull=True)
    allowed = intelligence_sensitivities(user)
    return qs.filter(Q(sensitivity__in=allowed) | Q(recorded_by=user))


def can_withdraw_intelligence(user: Any, note: Any) -> bool:
    return visible_intelligence(user, note.school).filter(pk=note.pk).exists() and (
        user.is_superuser or user.role in RISK_LEADERSHIP_ROLES or note.recorded_by_id == user.pk
    )


def can_see_own_school_category(user: Any, school: School) -> bool:
    """Headteachers and chairs see their own school's decided category (and nothing else of the process)."""
    from beacon.accounts.roles import Role

    return (
        _active(user)
        and user.role in {Role.HEADTEACHER, Role.CHAIR}
        and visible_schools(user).filter(pk=school.pk).exists()
    )


# ---------------------------------------------------------------------------------------------
# School support and interventions (beacon.support, beacon.interventions)
#   Support caseloads, cases and meeting reports: the risk-register roles (advisers: their caseload).
#   Opening a case, recording meetings, priorities and exit: the case chair's roles (Director of Learning
#   and Impact, CEO) and the commissioner; the school's adviser records meetings and priorities too.
#   Warning notices: the leadership roles only.

SUPPORT_CHAIR_ROLES: frozenset[str] = CASE_CHAIR_ROLES


def can_see_support(user: Any) -> bool:
    return can_see_risk_register(user) and user.role not in NATIONAL_ROLES


def support_schools(user: Any) -> QuerySet[School]:
    return risk_register_schools(user)


def current_support_schools(user: Any) -> QuerySet[School]:
    """Support lists (caseload, overdue actions): served schools only."""
    from beacon.schools.models import served

    return served(support_schools(user))


def visible_visits(user: Any) -> QuerySet[Any]:
    """Support visits the user may see: those at the schools of their support caseload. Days used are
    always summed over these, so a page's totals add up to the visits it can list."""
    from beacon.support.models import Visit

    if not can_see_support(user):
        return Visit.objects.none()
    return Visit.objects.filter(school__in=support_schools(user))


def can_chair_support(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in SUPPORT_CHAIR_ROLES)


def can_manage_support_case(user: Any, case: Any) -> bool:
    return (
        _active(user)
        and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES or user.role == Role.ADVISER)
        and support_schools(user).filter(pk=case.school_id).exists()
    )


def can_manage_warning_notices(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES)


#   Entitlement flags (new head/adviser, post-16, ARP) and targeted days: director and commissioner.
#   Brokered support and adviser day budgets: the leadership roles. Visits: leadership roles and the
#   school's adviser. Capacity overview: director, CEO, commissioner; an adviser sees their own page.
#   Letter templates: the director (and the CEO).
ENTITLEMENT_EDITOR_ROLES: frozenset[str] = frozenset({Role.DIRECTOR, Role.COMMISSIONER})
LETTER_EDITOR_ROLES: frozenset[str] = frozenset({Role.DIRECTOR, Role.CEO})


def can_edit_entitlement(user: Any, school: School) -> bool:
    return (
        _active(user)
        and (user.is_superuser or user.role in ENTITLEMENT_EDITOR_ROLES)
        and support_schools(user).filter(pk=school.pk).exists()
    )


def can_manage_brokered_support(user: Any, school: School) -> bool:
    return (
        _active(user)
        and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES)
        and support_schools(user).filter(pk=school.pk).exists()
    )


def can_record_visit(user: Any, school: School) -> bool:
    return (
        _active(user)
        and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES or user.role == Role.ADVISER)
        and support_schools(user).filter(pk=school.pk).exists()
    )


def can_see_capacity_overview(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES)


def can_see_adviser_capacity(user: Any, adviser: Any) -> bool:
    return can_see_capacity_overview(user) or (_active(user) and user.pk == adviser.pk)


def can_set_capacity(user: Any) -> bool:
    return can_see_capacity_overview(user)


def capacity_advisers(user: Any) -> QuerySet[Any]:
    """Advisers whose capacity this user may see: all of the LA's for the overview roles, else oneself."""
    from beacon.accounts.models import User

    qs = User.objects.filter(role=Role.ADVISER, is_active=True).order_by(
        "last_name", "first_name", "username"
    )
    if not _active(user):
        return qs.none()
    if can_see_capacity_overview(user):
        return qs.filter(la_code=user.la_code) if user.la_code and not user.is_superuser else qs
    return qs.filter(pk=user.pk)


def can_edit_letter_templates(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in LETTER_EDITOR_ROLES)


# ---------------------------------------------------------------------------------------------
# Security: sign-in (beacon.accounts)
#   The second sign-in factor (TOTP) is required, when settings.BEACON_REQUIRE_2FA is on, of every
#   local-authority role (the LA-wide roles and advisers), of staff (the admin site) and superusers.
#   Headteachers and chairs may enrol voluntarily; once enrolled their factor is always asked for.

SECOND_FACTOR_ROLES: frozenset[str] = LA_WIDE_ROLES | {Role.ADVISER} | NATIONAL_ROLES


def requires_second_factor(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.is_staff or user.role in SECOND_FACTOR_ROLES)


# ---------------------------------------------------------------------------------------------
# Reporting: system targets and group gaps (beacon.reporting)
#   The targets dashboard and the gaps pages show LA-level published figures: the LA-wide roles and
#   advisers (as for the LA overview). The school-level gap tables list only visible_schools(user).
#   Editing a target (its comparators, threshold, gap rule): the commissioner and the Director of
#   Learning and Impact.

TARGET_EDITOR_ROLES: frozenset[str] = frozenset({Role.COMMISSIONER, Role.DIRECTOR})


def can_see_reporting(user: Any) -> bool:
    return can_see_la_overview(user)


def can_edit_targets(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in TARGET_EDITOR_ROLES)


# ---------------------------------------------------------------------------------------------
# Public school profiles (beacon.profiles)
#   The public, no-sign-in profile shows the deployment LA's open state-funded schools to anyone:
#   `public_schools()` is the only way public pages reach schools, and the public selectors read only
#   published data (DfE/Ofsted figures after small-number suppression, the school's *published*
#   narrative). Nothing from the risk process, support or interventions is ever read by them.
#   Writing the narrative: the school's own headteacher. Reviewing and publishing it: the Director of
#   Learning and Impact and the commissioner (for the schools they can see).

PROFILE_PUBLISHER_ROLES: frozenset[str] = frozenset({Role.DIRECTOR, Role.COMMISSIONER})


def public_schools() -> QuerySet[School]:
    """Schools with a public profile: open, state-funded, in this deployment's local authority."""
    from beacon.schools.lookup import public_schools as public

    return public()


def require_public_school(urn: int) -> School:
    from django.http import Http404

    school = public_schools().filter(urn=urn).first()
    if school is None:
        raise Http404("No public profile for this school.")
    return school


def can_write_profile_narrative(user: Any, school: School) -> bool:
    """The school's own headteacher (assigned to it) writes and submits the narrative."""
    return (
        _active(user)
        and (user.is_superuser or user.role == Role.HEADTEACHER)
        and visible_schools(user).filter(pk=school.pk).exists()
    )


def can_publish_profile_narratives(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in PROFILE_PUBLISHER_ROLES)


def profile_narrative_schools(user: Any) -> QuerySet[School]:
    """Schools whose narrative this user may write (headteacher) or review (publishers)."""
    from beacon.schools.models import School

    if can_publish_profile_narratives(user) or (_active(user) and user.role == Role.HEADTEACHER):
        return visible_schools(user).filter(pk__in=public_schools().values("pk"))
    return School.objects.none()


# ---------------------------------------------------------------------------------------------
# School future options (beacon.futureoptions)
#   Rolls, surplus places, vulnerability flags, the map, partnerships, the system-leadership register,
#   partner suggestions and the action-planning summary: the LA-wide school-improvement roles
#   (commissioner, CEO, director, SRAS member), for the schools of their LA. Editing the summaries,
#   the partnership register and the system-leadership register: commissioner, CEO, director.
#   Advisers, heads, chairs and the data manager do not see it (school organisation is an LA matter).

FUTURE_OPTIONS_ROLES: frozenset[str] = frozenset({Role.COMMISSIONER, Role.CEO, Role.DIRECTOR, Role.SRAS})


def can_see_future_options(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in FUTURE_OPTIONS_ROLES)


def future_options_schools(user: Any) -> QuerySet[School]:
    """State-funded, open schools in scope for future options (none for other roles)."""
    from beacon.schools.models import School

    if not can_see_future_options(user):
        return School.objects.none()
    return served_schools(user)


def can_edit_future_options(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES)


# ---------------------------------------------------------------------------------------------
# Accountability (beacon.accountability): commissioner reports, significant concerns, the Building Back
# Stronger tracker and the Commission's Table 1 outputs.
#   Commissioner reports, the immediate-notification list and Table 1 outputs: the leadership roles
#   (commissioner, CEO, Director of Learning and Impact). Restricted intelligence appears on the list only
#   for the sensitivities the user may read (see the intelligence table above). Only the commissioner
#   acknowledges a concern.
#   Strategy tracker and the Education Strategy Board report: the risk-register roles read it (no school
#   data); the leadership roles add and update actions and record delivery evidence.


def can_see_commissioner_reports(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role in RISK_LEADERSHIP_ROLES)


def can_acknowledge_concerns(user: Any) -> bool:
    return _active(user) and (user.is_superuser or user.role == Role.COMMISSIONER)


def significant_intelligence(user: Any, schools: QuerySet[School]) -> QuerySet[Any]:
    """Restricted (non-general), not withdrawn intelligence about `schools` that this user may read."""
    from beacon.assessments.models import Intelligence, Sensitivity

    qs = Intelligence.objects.filter(
        school__in=visible_schools(user).filter(pk__in=schools.values("pk")), withdrawn_at__isnull=True
    ).exclude(sensitivity=Sensitivity.GENERAL)
    if not can_see_commissioner_reports(user):
        return qs.none()
    return qs.filter(Q(sensitivity__in=intelligence_sensitivities(user)) | Q(recorded_by=user))


def can_see_strategy(user: Any) -> bool:
    return can_see_risk_register(user)


def can_edit_strategy(user: Any) -> bool:
    return can_see_commissioner_reports(user)


def can_see_commission_outputs(user: Any) -> bool:
    return can_see_commissioner_reports(user)


def can_record_delivery_evidence(user: Any) -> bool:
    return can_see_commissioner_reports(user)
