"""Reading values from query strings and forms without ever failing with a server error (issue 13).

Python's `str.isdigit()` accepts "²" and int() accepts any length, but a database id is a small positive
integer: anything else is "not found" (callers 404) or "bad request"."""

from __future__ import annotations

# The largest id any supported database holds in a bigint column.
MAX_ID = 2**63 - 1


def query_int(text: str | None, *, lo: int = 0, hi: int = MAX_ID) -> int | None:
    """`text` as an integer in [lo, hi] when it is plain ASCII digits (surrounding spaces allowed), else None."""
    value = (text or "").strip()
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if lo <= number <= hi else None


def query_id(text: str | None) -> int:
    """A database id from the query string; 0 (which matches nothing, so callers 404) when not an id."""
    return query_int(text, lo=1) or 0
