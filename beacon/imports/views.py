from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from beacon import permissions
from beacon.imports import freshness
from beacon.imports.framework import load_all_sources, progress_key
from beacon.imports.models import ImportRun
from beacon.imports.parsing import UploadTooLarge, check_archive, human_size
from beacon.imports.services import UPLOAD_SUFFIXES, start_upload_import
from beacon.indicators.selectors import area_name


class UploadForm(forms.Form):
    source = forms.ChoiceField(label="What is in the file?")
    year = forms.IntegerField(
        label="Academic year it covers (optional)",
        required=False,
        min_value=2000,
        max_value=2100,
        help_text="The year the academic year starts in, for example 2018 for 2018/19",
    )
    la_code = forms.IntegerField(
        label="Only import rows for this local authority code (optional)",
        required=False,
        min_value=1,
        max_value=999,
    )
    file = forms.FileField(label="Upload a file", help_text="CSV, Excel (.xlsx) or Parquet")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["source"].choices = [("", "Choose a source")] + [  # type: ignore[attr-defined]
            (k, s.label) for k, s in sorted(load_all_sources().items(), key=lambda kv: kv[1].label)
        ]

    def clean_file(self) -> object:
        f = self.cleaned_data["file"]
        if Path(f.name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise forms.ValidationError("The file must be a CSV, Excel (.xlsx) or Parquet file")
        limit = settings.BEACON_IMPORT_MAX_UPLOAD_BYTES
        if f.size > limit:
            raise forms.ValidationError(f"The file must be smaller than {human_size(limit)}")
        if Path(f.name).suffix.lower() == ".xlsx":
            try:
                check_archive(f.file)  # the zip's directory only: nothing is expanded
            except UploadTooLarge as exc:
                raise forms.ValidationError(str(exc)) from None
            finally:
                f.seek(0)
        return f

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        src = load_all_sources().get(str(data.get("source") or ""))
        if src is not None and src.needs_year and not data.get("year"):
            self.add_error("year", "Enter the academic year this file covers")
        return data


def _require_import(request: HttpRequest) -> None:
    if not permissions.can_import(request.user):
        raise PermissionDenied("Only data managers can import data.")


def run_list(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    page = Paginator(ImportRun.objects.select_related("started_by"), 50).get_page(request.GET.get("page"))
    return render(request, "imports/list.html", {"page_title": "Data imports", "page": page})


@login_required
def data_held(request: HttpRequest) -> HttpResponse:
    """Each import source: file, latest academic year or as-at date, rows, when imported, what it lacks."""
    if not permissions.can_see_data_freshness(request.user):
        raise PermissionDenied("Only local authority staff can see the data held.")
    la_code = getattr(request.user, "la_code", None) or settings.BEACON_LA_CODE
    today = timezone.localdate()
    sources = freshness.source_freshness(la_code, today=today)
    return render(
        request,
        "imports/data.html",
        {
            "page_title": "Data held and how current it is",
            "sources": sources,
            "la_code": la_code,
            "la_name": area_name(la_code, default=f"local authority {la_code}"),
            "current_year": freshness.current_academic_year(today),
            "stale_after": freshness.STALE_AFTER_YEARS,
            "can_import": permissions.can_import(request.user),
        },
    )


def upload(request: HttpRequest) -> HttpResponse:
    _require_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = start_upload_import(
            form.cleaned_data["source"],
            form.cleaned_data["file"],
            year=form.cleaned_data["year"],
            la_code=form.cleaned_data["la_code"],
            user=request.user,
            background=getattr(settings, "BEACON_IMPORT_IN_BACKGROUND", True),
        )
        return redirect("imports:detail", pk=run.pk)
    return render(request, "imports/upload.html", {"page_title": "Import a data file", "form": form})


def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_import(request)
    run = get_object_or_404(ImportRun, pk=pk)
    progress = cache.get(progress_key(run.pk)) or {}
    percent = int(100 * progress["done"] / progress["total"]) if progress.get("total") else 0
    return render(
        request,
        "imports/detail.html",
        {"page_title": f"Import {run.pk}", "run": run, "progress": progress, "percent": percent},
    )
