"""The SRAS meeting pack as PDF: a Jinja template rendered to HTML, then WeasyPrint."""

from __future__ import annotations

from beacon.assessments.selectors import DIRECTION_LABELS, MeetingPack
from beacon.core import documents


def render_meeting_pack_html(pack: MeetingPack) -> str:
    return documents.template_html(
        "assessments/meeting_pack.html", {"pack": pack, "directions": DIRECTION_LABELS}
    )


def render_meeting_pack(pack: MeetingPack) -> bytes:
    return documents.html_pdf(render_meeting_pack_html(pack))
