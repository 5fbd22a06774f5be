"""Form helpers shared by every app's views."""

from __future__ import annotations

from typing import Any


def error_summary(*forms: Any, id_prefix: str = "id_") -> list[dict[str, str]]:
    """The GOV.UK error summary's list for these forms: one entry per field in error, linking to the field.

    A field's link is `#<id_prefix><name>` (Django's default ids are `id_<name>`; pass `id_prefix=""` where the
    template gives fields their bare name as id); errors not tied to a field link to the page's main content.
    Unbound forms and `None` add nothing."""
    return [
        {
            "text": " ".join(str(e) for e in errs),
            "href": f"#{id_prefix}{name}" if name != "__all__" else "#main-content",
        }
        for form in forms
        if form is not None
        for name, errs in form.errors.items()
    ]
