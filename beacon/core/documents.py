"""Word and PDF building blocks shared by every document Beacon produces (the commissioner and board
reports, the SRAS meeting pack, the Appendix D meeting report, letters).

PDF: HTML (usually a Jinja template) rendered by WeasyPrint. Word: python-docx, through the helpers below
(a new document, a grid table with or without a header row, the bytes). `attachment` answers a download
with the right content type. WeasyPrint and python-docx are imported only when a document is built."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.template.loader import get_template

PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = {"pdf": PDF_TYPE, "docx": DOCX_TYPE}


def html_pdf(html: str) -> bytes:
    """The PDF of an HTML page (WeasyPrint)."""
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def template_html(template_name: str, context: dict[str, Any]) -> str:
    return get_template(template_name).render(context)


def template_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """A Jinja template rendered to HTML, then to PDF."""
    return html_pdf(template_html(template_name, context))


def new_docx() -> Any:
    """An empty Word document (python-docx's default template)."""
    from docx import Document

    return Document()


def docx_table(
    doc: Any, rows: Iterable[Sequence[str]], headers: Sequence[str] | None = None, cols: int = 0
) -> Any:
    """A 'Table Grid' table: the header row (when given), then one row per item of `rows`.

    Without headers `cols` gives the number of columns."""
    table = doc.add_table(rows=1 if headers else 0, cols=len(headers) if headers else cols)
    table.style = "Table Grid"
    if headers:
        for cell, text in zip(table.rows[0].cells, headers, strict=True):
            cell.text = text
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    return table


def docx_bytes(doc: Any) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def attachment(body: bytes, fmt: str, filename: str) -> HttpResponse:
    """A download of `body` (fmt "pdf" or "docx") named `<filename>.<fmt>`."""
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
