"""How every edit page answers a stale edit (`beacon.core.versioning.StaleEdit`), decision 0023.

The page is rendered again with HTTP 409 Conflict: the form keeps what the user typed, its hidden
`version` moves to the version now stored (so submitting again knowingly replaces the other person's
save), and a form-level error — shown in the page's GOV.UK error summary — says someone else saved first.
Pages that show the stored record show what the other person saved.

    except StaleEdit as exc:
        status = stale_form(form, exc, "summary", shown_below=True)
    ...
    return render(request, template, context, status=status)
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from beacon.core.versioning import StaleEdit

STALE_STATUS = HTTPStatus.CONFLICT  # 409


def stale_message(what: str = "record", *, shown_below: bool = False, entries_kept: bool = True) -> str:
    """The sentence for the error summary."""
    check = (
        "Check what they saved, shown below, then submit again to replace it."
        if shown_below
        else "Check the current details, then submit again to replace them."
    )
    if not entries_kept:
        check = "Check it as it is now, shown below, then try again."
    kept = " Your entries are still in the form." if entries_kept else ""
    return (
        f"This {what} was changed by someone else after you opened it, so your changes have not been saved."
        f"{kept} {check}"
    )


def stale_summary(what: str = "record", *, shown_below: bool = False) -> list[dict[str, str]]:
    """The error summary's list for a page with no entries to keep (a single button, e.g. Withdraw)."""
    text = stale_message(what, shown_below=shown_below, entries_kept=False)
    return [{"text": text, "href": "#main-content"}]


def stale_form(form: Any, exc: StaleEdit, what: str = "record", *, shown_below: bool = False) -> int:
    """Prepare a bound form to be shown again after `exc`; returns the status to render it with (409)."""
    form.add_error(None, stale_message(what, shown_below=shown_below))
    data = form.data.copy()
    data[form.add_prefix("version")] = str(getattr(exc.current, "version", 0))
    form.data = data
    return STALE_STATUS
