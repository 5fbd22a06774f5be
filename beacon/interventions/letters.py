"""Letters from editable templates: sandboxed Jinja placeholders, output as Word (.docx) and PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.html import escape
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from beacon.interventions.models import LetterKind, LetterTemplate

PLACEHOLDERS = (
    "school_name", "urn", "head_name", "date", "level", "meeting_date", "priorities", "next_steps",
    "grounds", "compliance_ends_on", "signatory",
)  # fmt: skip

DEFAULTS: dict[str, tuple[str, str]] = {
    LetterKind.INITIAL_MEETING: (
        "{{ level }} support: initial meeting",
        "Dear {{ head_name }},\n\nFollowing the termly risk assessment, {{ school_name }} will receive {{ level }} "
        "support from Camden Learning. I would like to invite you and your chair of governors to an initial "
        "meeting on {{ meeting_date }} to agree up to the maximum number of priorities, the end-of-year aims, "
        "the support package and the schedule of review meetings.\n\nYours sincerely,\n{{ signatory }}",
    ),
    LetterKind.MEETING_SUMMARY: (
        "Summary of the support meeting on {{ meeting_date }}",
        "Dear {{ head_name }},\n\nThank you for the meeting on {{ meeting_date }}. The agreed priorities are: "
        "{{ priorities }}.\n\nNext steps: {{ next_steps }}\n\nYours sincerely,\n{{ signatory }}",
    ),
    LetterKind.CONGRATULATIONS: (
        "Congratulations",
        "Dear {{ head_name }},\n\nI am writing to congratulate you, your staff and governors on the "
        "improvement at {{ school_name }}, whether in its Ofsted outcome or in pupils' performance, including "
        "that of disadvantaged pupils.\n\nYours sincerely,\n{{ signatory }}",
    ),
    LetterKind.SIGNIFICANT_CONCERNS: (
        "Significant concerns about {{ school_name }}",
        "Dear {{ head_name }},\n\nThe local authority has significant concerns about {{ school_name }}: "
        "{{ grounds }}. I would ask the governing body to set out, within the next four weeks, the steps it is "
        "taking to address these concerns.\n\nYours sincerely,\n{{ signatory }}",
    ),
    LetterKind.WARNING_NOTICE: (
        "Warning notice: {{ school_name }} (URN {{ urn }})",
        "Dear {{ head_name }} and the governing body,\n\nThe local authority gives this warning notice under "
        "section 60 of the Education and Inspections Act 2006 on the grounds of: {{ grounds }}.\n\nThe "
        "governing body must comply with the requirements of this notice by {{ compliance_ends_on }}. If it "
        "fails to do so, the school becomes eligible for intervention.\n\nYours sincerely,\n{{ signatory }}",
    ),
}

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)

# Used to check and preview an edited template before it is saved.
SAMPLE_CONTEXT: dict[str, Any] = {
    "school_name": "Argyle Primary School",
    "urn": 100008,
    "head_name": "Ms A. Head",
    "date": "12 January 2026",
    "level": "targeted",
    "meeting_date": "22 September 2025",
    "priorities": "Reading in key stage 2; attendance of disadvantaged pupils",
    "next_steps": "Weekly attendance panel",
    "grounds": "unacceptably low standards of performance",
    "compliance_ends_on": "9 February 2026",
    "signatory": "Director of Learning and Impact",
}


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def template_for(kind: str) -> LetterTemplate:
    """The saved template of this kind, or the default unsaved (reading never writes, decision 0018)."""
    tpl = LetterTemplate.objects.filter(kind=kind).first()
    if tpl is not None:
        return tpl
    subject, body = DEFAULTS[kind]
    return LetterTemplate(kind=kind, subject=subject, body=body)


def saved_template_for(kind: str) -> LetterTemplate:
    """The template of this kind as a row (the default saved first): for a POST that edits it."""
    subject, body = DEFAULTS[kind]
    tpl, _ = LetterTemplate.objects.get_or_create(kind=kind, defaults={"subject": subject, "body": body})
    return tpl


def render_letter(tpl: LetterTemplate, context: dict[str, Any]) -> Letter:
    unknown = set(context) - set(PLACEHOLDERS)
    if unknown:
        raise ValidationError(f"Unknown placeholders: {', '.join(sorted(unknown))}")
    context = dict.fromkeys(PLACEHOLDERS, "") | context  # a known placeholder not given renders empty
    try:
        return Letter(
            _env.from_string(tpl.subject).render(context), _env.from_string(tpl.body).render(context)
        )
    except TemplateError as exc:
        raise ValidationError(f"The letter template could not be rendered: {exc}") from exc


def letter_docx(letter: Letter) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(letter.subject, level=1)
    for para in letter.body.split("\n\n"):
        doc.add_paragraph(para)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def letter_pdf(letter: Letter) -> bytes:
    from weasyprint import HTML

    paras = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in letter.body.split("\n\n"))
    html = (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>'
        f'{escape(letter.subject)}</title></head><body style="font-family: Arial; font-size: 11pt">'
        f"<h1>{escape(letter.subject)}</h1>{paras}</body></html>"
    )
    return bytes(HTML(string=html).write_pdf())
