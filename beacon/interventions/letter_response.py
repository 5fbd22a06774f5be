"""A letter as a download (Word or PDF), or the page that says why it cannot be produced: shared by the
interventions and support pages (decision 0022: one app's views never import another's)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from beacon.core.documents import attachment
from beacon.interventions import letters
from beacon.interventions.models import LetterKind


def letter_response(request: HttpRequest, kind: str, build: Any, fmt: str, filename: str) -> HttpResponse:
    """A letter as Word or PDF; refused (409, with the reason) when a value it needs is not recorded or a
    rule forbids it (no congratulations under a warning notice)."""
    if fmt not in ("docx", "pdf"):
        raise Http404
    try:
        letter = letters.render_letter(letters.template_for(kind), build())
    except letters.LetterRefused as exc:
        return render(
            request,
            "interventions/letter_refused.html",
            {"page_title": "This letter cannot be produced", "reasons": exc.messages,
             "kind": LetterKind(kind).label, "back": request.headers.get("referer", "")},
            status=409,
        )  # fmt: skip
    body = letters.letter_docx(letter) if fmt == "docx" else letters.letter_pdf(letter)
    return attachment(body, fmt, filename)
