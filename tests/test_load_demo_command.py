"""`make run` must not quietly serve an empty service: load_demo refuses a missing data directory, and a
directory without the school register, with a message that says what to set."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from beacon.schools.models import School


@pytest.mark.django_db
def test_missing_data_directory_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    with pytest.raises(CommandError, match="BEACON_DATA_DIR") as exc:
        call_command("load_demo", data_dir=str(missing), la_code=202)
    assert str(missing) in str(exc.value)


@pytest.mark.django_db
def test_directory_without_the_register_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No school register file"):
        call_command("load_demo", data_dir=str(tmp_path), la_code=202)
    assert School.objects.count() == 0
