from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from beacon.accounts.services import create_demo_users


class Command(BaseCommand):
    help = "Create one demo account per role. The password is written to --output (mode 0600), not printed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--la", type=int, default=settings.BEACON_LA_CODE)
        parser.add_argument("--output", default=str(settings.VAR_DIR / "demo-credentials.txt"))

    def handle(self, *args: Any, **opts: Any) -> None:
        password, users = create_demo_users(opts["la"], os.environ.get("BEACON_DEMO_PASSWORD"))
        out = Path(opts["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"Demo sign-ins (password for all: {password})", ""]
        for u in users:
            schools = ", ".join(a.school.name for a in u.assignments.select_related("school"))
            lines.append(f"{u.username:14} {u.get_role_display()}" + (f" - {schools}" if schools else ""))
        out.write_text("\n".join(lines) + "\n")
        out.chmod(0o600)
        self.stdout.write(f"{len(users)} demo accounts ready; sign-in details in {out}")
