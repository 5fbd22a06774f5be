"""Presenters: how domain values look on a page (GOV.UK tag colours and the like).

Selectors and services return domain values (a target's status "met", a judgement key, a grade); the display
classes live in each app's `presenters.py`, whose functions register here with `@presenter` and reach every
Jinja2 template as globals (`{{ judgement_tag(r.judgement) }}`). `beacon.core.jinja` loads the apps'
`presenters` modules (Django's autodiscovery) when it builds the environment, so core imports no app."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.utils.module_loading import autodiscover_modules

GREY = "govuk-tag--grey"

_PRESENTERS: dict[str, Callable[..., Any]] = {}


def presenter[F: Callable[..., Any]](func: F) -> F:
    """Register `func` as a template global under its own name."""
    _PRESENTERS[func.__name__] = func
    return func


def tag_for(classes: Mapping[Any, str], value: Any, default: str = GREY) -> str:
    """The tag class for `value`, grey where the value has no colour of its own."""
    return classes.get(value, default)


def template_globals() -> dict[str, Callable[..., Any]]:
    """Every app's registered presenters (imports each installed app's `presenters` module once)."""
    autodiscover_modules("presenters")
    return dict(_PRESENTERS)
