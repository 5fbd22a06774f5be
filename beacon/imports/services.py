"""Starting imports from the web: the upload is saved, then validated and loaded off the request."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connections

from beacon.imports.framework import create_run, execute_run
from beacon.imports.models import ImportRun, RunStatus

UPLOAD_SUFFIXES = {".csv", ".xlsx", ".parquet"}


def save_upload(upload: UploadedFile) -> Path:
    target_dir = Path(settings.MEDIA_ROOT) / "imports"
    target_dir.mkdir(parents=True, exist_ok=True)
    import uuid

    suffix = Path(upload.name or "").suffix.lower()
    target = target_dir / f"{uuid.uuid4().hex}{suffix}"
    with target.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    return target


def start_upload_import(
    source_key: str,
    upload: UploadedFile,
    *,
    year: int | None,
    la_code: int | None,
    user: Any,
    background: bool = True,
) -> ImportRun:
    path = save_upload(upload)
    run = create_run(source_key, path, year=year, la_code=la_code, user=user, file_name=upload.name)
    if background:

        def work() -> None:
            try:
                _discard_if_not_loaded(execute_run(ImportRun.objects.get(pk=run.pk), path), path)
            finally:
                # This thread's connections are its own and it is ending: close them, whatever
                # CONN_MAX_AGE says (close_old_connections() would leave them open on PostgreSQL).
                connections.close_all()

        threading.Thread(target=work, name=f"import-{run.pk}", daemon=True).start()
    else:
        _discard_if_not_loaded(execute_run(run, path), path)
    return run


def _discard_if_not_loaded(run: ImportRun, path: Path) -> None:
    """An uploaded file that was rejected, failed or duplicated is deleted from disk (the run keeps its
    name, size, SHA-256 and errors); only loaded files stay, as the provenance of what they wrote."""
    if run.status != RunStatus.SUCCEEDED:
        path.unlink(missing_ok=True)
