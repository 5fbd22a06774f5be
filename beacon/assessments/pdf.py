"""The SRAS meeting pack as PDF: a Jinja template rendered to HTML, then WeasyPrint."""

from __future__ import annotations

from django.template.loader import get_template

from beacon.assessments.selectors import DIRECTION_LABELS, MeetingPack


def render_meeting_pack_html(pack: MeetingPack) -> str:
    template = get_template("assessments/meeting_pack.html")
    return template.render({"pack": pack, "directions": DIRECTION_LABELS})


def render_meeting_pack(pack: MeetingPack) -> bytes:
    from weasyprint import HTML

    return bytes(HTML(string=render_meeting_pack_html(pack)).write_pdf())
