"""Rulebook thresholds are editable data; a rulebook used in an evaluation is frozen."""

from __future__ import annotations

import pytest
from django.test import Client

from beacon.risk.models import Rule, Rulebook, Term
from beacon.risk.services import active_rulebook, evaluate


@pytest.mark.django_db
def test_new_version_is_editable_and_used_one_is_frozen(admin_client: Client, camden_register: None) -> None:
    book = active_rulebook("camden")
    evaluate(Term.parse("autumn-2026"), book)
    assert book.results.exists()

    # The used rulebook's page shows its rules read-only (no editable params field).
    page = admin_client.get(f"/admin/risk/rulebook/{book.pk}/change/").content.decode()
    assert 'name="rules-0-params"' not in page

    resp = admin_client.post(
        "/admin/risk/rulebook/", {"action": "make_new_version", "_selected_action": [book.pk]}, follow=True
    )
    assert resp.status_code == 200
    new = Rulebook.objects.get(model="camden", version=book.version + 1)
    assert not new.is_active and new.rules.count() == book.rules.count()
    page = admin_client.get(f"/admin/risk/rulebook/{new.pk}/change/").content.decode()
    assert 'name="rules-0-params"' in page  # the new version can be edited

    rule = new.rules.first()
    assert rule is not None
    rule.params = {**rule.params, "note": "edited"}
    rule.save()
    assert rule.history.count() == 1  # edits are audited
    assert Rule.objects.get(rulebook=book, criterion=rule.criterion).params != rule.params

    admin_client.post("/admin/risk/rulebook/", {"action": "make_active", "_selected_action": [new.pk]})
    assert active_rulebook("camden").pk == new.pk
    book.refresh_from_db()
    assert not book.is_active and book.results.exists()  # the old results stay explainable
