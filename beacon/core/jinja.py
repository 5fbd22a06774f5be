"""Jinja2 environment: GOV.UK Frontend macros (govuk-frontend-jinja) plus Django helpers."""

from __future__ import annotations

from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from beacon.core import formatting, presenters


def url(name: str, *args: Any, **kwargs: Any) -> str:
    return reverse(name, args=args or None, kwargs=kwargs or None)


def environment(**options: Any) -> Environment:
    loader = options.pop("loader", None)
    dirs = [str(d) for d in options.pop("dirs", [])] if "dirs" in options else []
    base_loader = loader or FileSystemLoader(dirs)
    options.pop("autoescape", None)
    # govuk-frontend-jinja's macros import each other as "govuk_frontend_jinja/components/...".
    govuk = PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")})
    env = Environment(
        loader=ChoiceLoader([base_loader, govuk]), autoescape=select_autoescape(default=True), **options
    )
    env.globals.update({"static": static, "url": url})
    env.globals.update(presenters.template_globals())
    env.filters.update(
        {
            "intcomma": intcomma,
            "measure": formatting.format_measure,
            "academic_year": formatting.academic_year,
            "govuk_date": formatting.govuk_date,
        }
    )
    return env
