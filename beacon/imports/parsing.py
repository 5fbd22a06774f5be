"""Vectorised parsing of DfE/Ofsted values with polars.

DfE publications replace numbers with codes (c = suppressed, x = not available, z = not applicable,
low, SUPP, NE, NP, ...). These are kept as a *status* beside a null value, never silently dropped,
and anything else that is not a number is an error the import reports with its row and column.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import IO

import polars as pl
from django.conf import settings
from django.db import models


class ValueStatus(models.TextChoices):
    """The status of a published value (stored beside it by beacon.indicators)."""

    OK = "ok", "Published"
    SUPPRESSED = "suppressed", "Suppressed (small numbers)"
    LOW = "low", "Low (rounds to zero)"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NOT_AVAILABLE = "not_available", "Not available"
    NO_ENTRIES = "no_entries", "No entries"
    NOT_PUBLISHED = "not_published", "Not published"
    LOW_COVERAGE = "low_coverage", "Low coverage"
    MISSING = "missing", "Blank in source"


# Source code -> status. Matching is exact after stripping whitespace.
SUPPRESSION_CODES: dict[str, str] = {
    "c": ValueStatus.SUPPRESSED,
    "SUPP": ValueStatus.SUPPRESSED,
    "SP": ValueStatus.SUPPRESSED,
    "low": ValueStatus.LOW,
    "LOW": ValueStatus.LOW,
    "z": ValueStatus.NOT_APPLICABLE,
    "NA": ValueStatus.NOT_APPLICABLE,
    "N/A": ValueStatus.NOT_APPLICABLE,
    "x": ValueStatus.NOT_AVAILABLE,
    ":": ValueStatus.NOT_AVAILABLE,
    "-": ValueStatus.NOT_AVAILABLE,
    "..": ValueStatus.NOT_AVAILABLE,
    "NE": ValueStatus.NO_ENTRIES,
    "NP": ValueStatus.NOT_PUBLISHED,
    "LOWCOV": ValueStatus.LOW_COVERAGE,
    "NULL": ValueStatus.MISSING,
}
NULL_STRINGS = ("", "NULL")


def clean_str(expr: pl.Expr) -> pl.Expr:
    """Trim; empty and NULL become null."""
    s = expr.cast(pl.Utf8).str.strip_chars()
    return pl.when(s.is_in(NULL_STRINGS)).then(None).otherwise(s)


# A number column is parsed in three steps, each a separate pass in `beacon.imports.framework.validate` so
# that a national file's cells are parsed once: the trimmed text; its value and code status; the status
# (null: not a number, an error). "92%" -> 92.0; "1,234" -> 1234.0; "7.0000000000000007E-2" -> 0.07;
# codes -> null value + their status.


def number_text(expr: pl.Expr) -> pl.Expr:
    """Step 1: the raw cell as trimmed text."""
    return expr.cast(pl.Utf8).str.strip_chars()


def number_parts(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Step 2, from the trimmed text: (value: Float64, code status: Utf8)."""
    code_status = text.replace_strict(SUPPRESSION_CODES, default=None, return_dtype=pl.Utf8)
    numeric_text = text.str.strip_suffix("%").str.replace_all(",", "", literal=True)
    value = numeric_text.cast(pl.Float64, strict=False)
    # polars accepts "inf"/"nan" as floats; DfE never publishes them.
    value = pl.when(value.is_finite()).then(value).otherwise(None)
    return value, code_status


def number_status(text: pl.Expr, value: pl.Expr, code_status: pl.Expr) -> pl.Expr:
    """Step 3: the status from the trimmed text, the value and the code status (null: not a number)."""
    is_blank = text.is_null() | (text == "")
    return (
        pl.when(is_blank)
        .then(pl.lit(ValueStatus.MISSING.value))
        .when(code_status.is_not_null())
        .then(code_status)
        .when(value.is_not_null())
        .then(pl.lit(ValueStatus.OK.value))
        .otherwise(None)
    )


DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%Y%m%d", "%d-%m-%Y")


def parse_date(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Return (date, is_error). Blank and NULL are null without error."""
    s = clean_str(expr)
    parsed = pl.coalesce([s.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS])
    return parsed, s.is_not_null() & parsed.is_null()


def academic_year_start(label: str) -> int | None:
    """'2018/19' -> 2018, '201819' -> 2018, '2018-19' -> 2018, '2019' -> None (ambiguous; caller decides)."""
    t = label.strip()
    if len(t) == 6 and t.isdigit():
        return int(t[:4])
    for sep in ("/", "-"):
        if sep in t:
            head = t.split(sep, 1)[0].strip()
            if len(head) == 4 and head.isdigit():
                return int(head)
    return None


# --- archives (issue 13 item 6) -----------------------------------------------------------------------


class UploadTooLarge(ValueError):
    """A file (or what it expands to) is over the limits: refused before it is read."""


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MB"


def human_size(n: int) -> str:
    """1536 -> '2 KB', 100 * 1024 * 1024 -> '100 MB'."""
    return _mb(n) if n >= 1024 * 1024 else f"{max(1, round(n / 1024)):,} KB"


def check_archive(source: Path | IO[bytes]) -> None:
    """Refuse a zip-based workbook (.xlsx) whose members expand beyond BEACON_IMPORT_MAX_EXPANDED_BYTES in
    total, or one member compressed more than BEACON_IMPORT_MAX_COMPRESSION_RATIO to 1 (a zip bomb), from
    the zip's directory alone: nothing is decompressed. A file that is not a zip is left to the reader."""
    limit = int(getattr(settings, "BEACON_IMPORT_MAX_EXPANDED_BYTES", 200 * 1024 * 1024))
    ratio_limit = int(getattr(settings, "BEACON_IMPORT_MAX_COMPRESSION_RATIO", 100))
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        return
    with archive:
        members = archive.infolist()
    total = sum(m.file_size for m in members)
    if total > limit:
        raise UploadTooLarge(
            f"The workbook expands to {_mb(total)} when opened, more than the {_mb(limit)} limit. "
            "Save it as CSV, or split it, and upload again."
        )
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > ratio_limit * max(m.compress_size, 1):
            raise UploadTooLarge(
                f"The workbook is compressed more than {ratio_limit} to 1 ({m.file_size:,} bytes in "
                f"{m.compress_size:,}): it looks like a zip bomb and was not opened."
            )
