"""Creating the demonstration accounts (one per role) on the real Camden register."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from beacon.accounts.models import SchoolAssignment, User
from beacon.accounts.roles import Role
from beacon.schools.models import Phase, School


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    first_name: str
    last_name: str
    job_title: str


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("commissioner", Role.COMMISSIONER, "Cara", "Commissioner", "Education commissioner"),
    DemoAccount("ceo", Role.CEO, "Chris", "Executive", "Chief executive, education partnership"),
    DemoAccount("director", Role.DIRECTOR, "Dana", "Director", "Director of Learning and Impact"),
    DemoAccount("adviser", Role.ADVISER, "Alex", "Adviser", "Camden professional partner"),
    DemoAccount("sras", Role.SRAS, "Sam", "Panel", "SRAS panel member"),
    DemoAccount("headteacher", Role.HEADTEACHER, "Hana", "Head", "Headteacher"),
    DemoAccount("chair", Role.CHAIR, "Charlie", "Chair", "Chair of governors"),
    DemoAccount("data", Role.DATA_MANAGER, "Dev", "Data", "Data manager"),
)


@transaction.atomic
def create_demo_users(la_code: int, password: str | None = None) -> tuple[str, list[User]]:
    """Create or reset the demo accounts. Headteacher and chair get one primary school; the adviser
    a caseload of the first six open state-funded schools by name."""
    password = password or secrets.token_urlsafe(12)
    schools = School.objects.served().filter(la_code=la_code).order_by("name")
    own_school = schools.filter(phase=Phase.PRIMARY).first() or schools.first()
    users = []
    for acct in DEMO_ACCOUNTS:
        user, _ = User.objects.update_or_create(
            username=acct.username,
            defaults={
                "role": acct.role,
                "first_name": acct.first_name,
                "last_name": acct.last_name,
                "job_title": acct.job_title,
                "la_code": la_code,
                "is_active": True,
                # No demo role needs the admin site (imports, templates and targets have their own
                # pages); staff status is for the superusers who edit rulebooks there (issue 13 item 6).
                "is_staff": False,
            },
        )
        user.set_password(password)
        user.save()
        users.append(user)
        targets: list[School] = []
        if acct.role in {Role.HEADTEACHER, Role.CHAIR} and own_school:
            targets = [own_school]
        elif acct.role == Role.ADVISER:
            targets = list(schools[:6])
        SchoolAssignment.objects.filter(user=user).exclude(school__in=targets).delete()
        for school in targets:
            SchoolAssignment.objects.get_or_create(user=user, school=school)
    return password, users
