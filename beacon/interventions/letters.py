"""Letters from editable templates: sandboxed Jinja placeholders, output as Word (.docx) and PDF.

Every letter the strategies describe (Camden Appendix B and C, Cambridgeshire Appendix 5) is a `LetterKind`
with its own placeholders. A letter is built from the record it is about (`beacon.interventions.context`),
dated and addressed to the headteacher and the chair of governors at the school's address. A placeholder
whose value is not recorded never prints empty: the letter is refused with the reason (`LetterRefused`).

Templates are edited by the director, so rendering is bounded: no `{% set %}`, macros, includes or
recursive loops; loops at most two deep over at most `MAX_RANGE` items; numeric arguments, repeated
strings and filter results capped; the output capped at `MAX_OUTPUT` characters and `MAX_SECONDS`.
"""

from __future__ import annotations

import functools
import operator
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.html import escape
from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from beacon.core import documents
from beacon.interventions.models import LetterKind, LetterTemplate

# --- placeholders -----------------------------------------------------------------------------------

PLACEHOLDER_LABELS: dict[str, str] = {
    "letter_date": "the date of the letter",
    "school_name": "the school's name",
    "urn": "the school's URN",
    "school_address": "the school's address",
    "head_name": "the headteacher's name",
    "chair_name": "the chair of governors",
    "signatory": "who signs the letter",
    "level": "the category of support",
    "meeting_date": "the date of the meeting",
    "next_meeting_date": "the date of the next meeting",
    "progress": "the overall progress at the meeting",
    "priorities": "the agreed priorities",
    "next_steps": "the next steps agreed at the meeting",
    "rag": "the risk category decided at the SRAS meeting",
    "term": "the term of the risk assessment",
    "sras_meeting_date": "the date of the SRAS meeting",
    "rationale": "the reasons for the decision",
    "what_follows": "what follows the decision",
    "concerns": "the concerns",
    "notice_kind": "the kind of notice",
    "grounds": "the grounds of the notice",
    "required_action": "the action required of the governing body",
    "issued_on": "the date the notice was issued",
    "compliance_period": "the compliance period",
    "compliance_ends_on": "the end of the compliance period",
    "consequences": "the consequences of not complying",
}
COMMON = ("letter_date", "school_name", "urn", "school_address", "head_name", "chair_name", "signatory")
KIND_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    LetterKind.INITIAL_MEETING: (*COMMON, "level", "meeting_date"),
    LetterKind.CATEGORISATION: (
        *COMMON, "level", "rag", "term", "sras_meeting_date", "rationale", "what_follows",
    ),
    LetterKind.MEETING_SUMMARY: (
        *COMMON, "level", "meeting_date", "progress", "priorities", "next_steps", "next_meeting_date",
    ),
    LetterKind.CONGRATULATIONS: COMMON,
    LetterKind.SIGNIFICANT_CONCERNS: (*COMMON, "concerns"),
    LetterKind.WARNING_NOTICE: (
        *COMMON, "notice_kind", "grounds", "concerns", "required_action", "issued_on", "compliance_period",
        "compliance_ends_on", "consequences",
    ),
}  # fmt: skip
PLACEHOLDERS = tuple(PLACEHOLDER_LABELS)

_ADDRESS = (
    "{{ head_name }}, Headteacher\n{{ chair_name }}\n{{ school_name }}\n"
    "{{ school_address }}\n\n{{ letter_date }}\n\n"
)
_SIGN = "\n\nYours sincerely,\n\n{{ signatory }}"

DEFAULTS: dict[str, tuple[str, str]] = {
    LetterKind.INITIAL_MEETING: (
        "{{ level }} support: invitation to the initial meeting",
        _ADDRESS + "Dear {{ head_name }} and {{ chair_name }},\n\nFollowing the termly risk assessment, "
        "{{ school_name }} will receive {{ level }} support from Camden Learning. I would like to invite you to "
        "the initial meeting on {{ meeting_date }}, to agree the key priorities and the expected end of "
        "support outcomes, the support package from Camden Learning and its partners, and the dates of the "
        "review meetings." + _SIGN,
    ),
    LetterKind.CATEGORISATION: (
        "{{ school_name }}: {{ level }} support following the SRAS meeting",
        _ADDRESS + "Dear {{ head_name }} and {{ chair_name }},\n\nThe School Risk Assessment and Support "
        "(SRAS) meeting on {{ sras_meeting_date }} considered {{ school_name }} in the {{ term }} risk "
        "assessment. The school is categorised {{ rag }} and will receive {{ level }} support.\n\nThe "
        "reasons for this decision: {{ rationale }}\n\nWhat follows: {{ what_follows }}" + _SIGN,
    ),
    LetterKind.MEETING_SUMMARY: (
        "Summary of the support review meeting on {{ meeting_date }}",
        _ADDRESS + "Dear {{ head_name }} and {{ chair_name }},\n\nThank you for the {{ level }} support "
        "meeting on {{ meeting_date }}. The agreed priorities are: {{ priorities }}.\n\nOverall progress: "
        "{{ progress }}.\n\nNext steps: {{ next_steps }}\n\nThe next meeting is on {{ next_meeting_date }}."
        + _SIGN,
    ),
    LetterKind.CONGRATULATIONS: (
        "Congratulations",
        _ADDRESS + "Dear {{ head_name }} and {{ chair_name }},\n\nI am writing to congratulate you, your "
        "staff and governors on the improvement at {{ school_name }}, whether in its Ofsted outcome or in "
        "pupils' performance, including that of disadvantaged pupils." + _SIGN,
    ),
    LetterKind.SIGNIFICANT_CONCERNS: (
        "Significant concerns about {{ school_name }}",
        _ADDRESS + "Dear {{ head_name }} and {{ chair_name }},\n\nThe local authority has significant "
        "concerns about {{ school_name }}: {{ concerns }}\n\nI would ask the governing body to set out, "
        "within the next four weeks, the steps it is taking to address these concerns." + _SIGN,
    ),
    LetterKind.WARNING_NOTICE: (
        "{{ notice_kind }}: {{ school_name }} (URN {{ urn }})",
        _ADDRESS + "Dear {{ head_name }} and the governing body,\n\nThe local authority gives this "
        "{{ notice_kind|lower }} on {{ issued_on }} under the Education and Inspections Act 2006 on the "
        "grounds of: {{ grounds }}.\n\nThe concerns: {{ concerns }}\n\nThe action required of the governing "
        "body: {{ required_action }}\n\nThe compliance period: {{ compliance_period }}. The governing body "
        "must comply with this notice by {{ compliance_ends_on }}.\n\nIf it does not: {{ consequences }}"
        + _SIGN,
    ),
}

# Used to preview and check an edited template: every placeholder of every kind has a value.
SAMPLE_CONTEXT: dict[str, Any] = {
    "letter_date": "12 January 2026",
    "school_name": "Argyle Primary School",
    "urn": 100008,
    "school_address": "Tonbridge Street, London, WC1H 9EG",
    "head_name": "Ms A. Head",
    "chair_name": "Mr C. Governor",
    "signatory": "Director of Learning and Impact",
    "level": "targeted",
    "meeting_date": "22 September 2025",
    "next_meeting_date": "24 November 2025",
    "progress": "on track",
    "priorities": "Reading in key stage 2; attendance of disadvantaged pupils",
    "next_steps": "Weekly attendance panel",
    "rag": "red",
    "term": "autumn 2025",
    "sras_meeting_date": "15 September 2025",
    "rationale": "Key stage 2 outcomes well below the floor for two years.",
    "what_follows": "an initial meeting within four weeks",
    "concerns": "Key stage 2 outcomes well below the floor",
    "notice_kind": "Formal warning notice",
    "grounds": "unacceptably low standards of performance",
    "required_action": "Adopt and deliver the rapid improvement plan",
    "issued_on": "12 January 2026",
    "compliance_period": "12 January 2026 to 9 February 2026",
    "compliance_ends_on": "9 February 2026",
    "consequences": "the school becomes eligible for intervention",
}


class LetterRefused(ValidationError):
    """The letter cannot be sent as it stands (a value it needs is not recorded, or a rule forbids it)."""


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


# --- the bounded sandbox ----------------------------------------------------------------------------

MAX_OUTPUT = 50_000  # characters in a rendered subject or body
MAX_SECONDS = 2.0
MAX_RANGE = 100  # items a template loop may make with range()
MAX_LOOP_DEPTH = 2
MAX_NUMBER = 1_000  # largest numeric argument to a call or filter
MAX_STRING = 5_000  # longest string made by * or + in a template
FORBIDDEN_NODES = (
    nodes.Assign, nodes.AssignBlock, nodes.Macro, nodes.CallBlock, nodes.Include, nodes.Import,
    nodes.FromImport, nodes.Extends, nodes.Block,
)  # fmt: skip


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise SecurityError(f"range() in a letter makes at most {MAX_RANGE} items.")
    return r


def _bounded(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)  # keeps Jinja's pass_environment / pass_context marker
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = fn(*args, **kwargs)
        if isinstance(out, str | list) and len(out) > MAX_OUTPUT:
            raise SecurityError("A letter template made a value too long.")
        return out

    return wrapper


def _join(value: Iterable[Any], d: str = "") -> str:
    items = [str(v) for v in value]
    if len(items) > MAX_RANGE * MAX_RANGE or len(items) * len(d) > MAX_OUTPUT:
        raise SecurityError("A letter template joined too much.")
    return d.join(items)


SAFE_FILTERS = ("upper", "lower", "title", "capitalize", "trim", "length", "count", "default", "d",
                "first", "last", "e", "escape", "sort", "unique", "truncate", "wordcount", "round", "abs",
                "int", "string")  # fmt: skip
WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format", "format_map",
                           "replace", "join", "translate", "encode"})  # fmt: skip


class LetterSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with bounded arithmetic, calls, filters and loops."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "**" or (op == "%" and isinstance(left, str)):
            raise SecurityError(f"The operator {op} is not allowed in a letter template.")
        if op == "*":
            seq, n = (left, right) if isinstance(left, str | list | tuple) else (right, left)
            if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_STRING:
                raise SecurityError("A letter template repeated a value too many times.")
            if isinstance(n, int) and isinstance(seq, int) and abs(seq * n) > MAX_NUMBER * MAX_NUMBER:
                raise SecurityError("A letter template made a number too large.")
        if (
            op == "+"
            and isinstance(left, str | list | tuple)
            and isinstance(right, str | list | tuple)
            and len(left) + len(right) > MAX_STRING
        ):
            raise SecurityError("A letter template made a value too long.")
        return {"+": operator.add, "*": operator.mul, "%": operator.mod, "//": operator.floordiv}[op](
            left, right
        )

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr in WIDTH_METHODS:
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for a in (*args, *kwargs.values()):
            if isinstance(a, int) and abs(a) > MAX_NUMBER and __obj is not _range:
                raise SecurityError(f"Numbers in a letter template are at most {MAX_NUMBER}.")
        return super().call(__context, __obj, *args, **kwargs)


def _environment() -> LetterSandbox:
    env = LetterSandbox(undefined=StrictUndefined, autoescape=False)
    filters = {name: _bounded(env.filters[name]) for name in SAFE_FILTERS}
    filters["join"] = _join
    env.filters = filters
    env.globals = {"range": _range}  # no namespace(), cycler, lipsum or dict
    return env


_env = _environment()


def _loop_depth(node: nodes.Node, depth: int = 0) -> int:
    here = depth + 1 if isinstance(node, nodes.For) else depth
    return max([here, *(_loop_depth(child, here) for child in node.iter_child_nodes())])


def _compile(source: str) -> Any:
    ast = _env.parse(source)
    for node in ast.find_all(FORBIDDEN_NODES):
        raise SecurityError(f"A letter template cannot use {{% {type(node).__name__.lower()} %}}.")
    for loop in ast.find_all(nodes.For):
        if loop.recursive:
            raise SecurityError("A letter template cannot use recursive loops.")
    if _loop_depth(ast) > MAX_LOOP_DEPTH:
        raise SecurityError(f"Loops in a letter template are at most {MAX_LOOP_DEPTH} deep.")
    return _env.from_string(ast)


def _render_bounded(source: str, context: dict[str, Any]) -> str:
    template = _compile(source)
    deadline = time.monotonic() + MAX_SECONDS
    out: list[str] = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise SecurityError(f"The letter is longer than {MAX_OUTPUT:,} characters.")
        if time.monotonic() > deadline:
            raise SecurityError(f"The letter took longer than {MAX_SECONDS:g} seconds to produce.")
        out.append(chunk)
    return "".join(out)


_UNDEFINED = re.compile(r"'(\w+)' is undefined")


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str | list | tuple) and not value)
        or (isinstance(value, str) and not value.strip())
    )


def saved_template_for(kind: str) -> LetterTemplate:
    """The template of this kind as a row (the default saved first): for a POST that edits it."""
    subject, body = DEFAULTS[kind]
    tpl, _ = LetterTemplate.objects.get_or_create(kind=kind, defaults={"subject": subject, "body": body})
    return tpl


def render_letter(tpl: LetterTemplate, context: dict[str, Any]) -> Letter:
    """Render a template. Unknown placeholders are refused (ValidationError); a known placeholder whose
    value is missing or empty refuses the letter with the reason (LetterRefused), never an empty gap."""
    allowed = set(KIND_PLACEHOLDERS.get(tpl.kind, PLACEHOLDERS))
    unknown = set(context) - set(PLACEHOLDERS)
    if unknown:
        raise ValidationError(f"Unknown placeholders: {', '.join(sorted(unknown))}")
    given = {k: v for k, v in context.items() if k in allowed and not _is_empty(v)}
    try:
        return Letter(_render_bounded(tpl.subject, given), _render_bounded(tpl.body, given))
    except UndefinedError as exc:
        m = _UNDEFINED.search(str(exc))
        name = m.group(1) if m else ""
        if name in allowed:
            raise LetterRefused(
                f"This letter needs {PLACEHOLDER_LABELS[name]} ({{{{ {name} }}}}), which is not recorded."
            ) from exc
        raise ValidationError(
            f"The letter template could not be rendered: {{{{ {name or '?'} }}}} is not a placeholder of "
            f"this letter. It can use: {', '.join(sorted(allowed))}."
        ) from exc
    except SecurityError as exc:
        raise ValidationError(f"The letter template could not be rendered: {exc}") from exc
    except TemplateError as exc:
        raise ValidationError(f"The letter template could not be rendered: {exc}") from exc


def check_template(kind: str, subject: str, body: str, records: Iterable[dict[str, Any]]) -> None:
    """Refuse a template that fails for the sample or for any real record of its kind (`records`: their
    contexts): unknown placeholders, placeholders of another kind, limits, errors. A record lacking a value the template uses is
    refused at download with the reason, so it is not held against the template."""
    tpl = LetterTemplate(kind=kind, subject=subject, body=body)
    sample = {k: SAMPLE_CONTEXT[k] for k in KIND_PLACEHOLDERS[kind]}
    render_letter(tpl, sample)
    for context in records:
        try:
            render_letter(tpl, context)
        except LetterRefused:
            continue


def template_for(kind: str) -> LetterTemplate:
    """The saved template of a kind (created with the defaults by data migration interventions/0005)."""
    try:
        return LetterTemplate.objects.get(kind=kind)
    except LetterTemplate.DoesNotExist:
        # Never created on a read: an unsaved default, so a letter still goes out with the standard text.
        subject, body = DEFAULTS[kind]
        return LetterTemplate(kind=kind, subject=subject, body=body)


def letter_docx(letter: Letter) -> bytes:
    doc = documents.new_docx()
    doc.add_heading(letter.subject, level=1)
    for para in letter.body.split("\n\n"):
        doc.add_paragraph(para)
    return documents.docx_bytes(doc)


def letter_pdf(letter: Letter) -> bytes:
    paras = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in letter.body.split("\n\n"))
    html = (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>'
        f'{escape(letter.subject)}</title></head><body style="font-family: Arial; font-size: 11pt">'
        f"<h1>{escape(letter.subject)}</h1>{paras}</body></html>"
    )
    return documents.html_pdf(html)
