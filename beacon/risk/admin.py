"""Editing the rulebook: thresholds are data. A rulebook that has been used to evaluate schools is
frozen (its results must stay explainable); change it by creating a new version and editing that."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from beacon.risk.models import Criterion, Rule, Rulebook
from beacon.risk.services import activate_rulebook, new_rulebook_version
from beacon.risk.signals import rulebook_activated


def rulebook_in_use(book: Rulebook | None) -> bool:
    return bool(book is not None and book.pk and book.results.exists())


class RuleInline(admin.TabularInline):
    model = Rule
    extra = 0
    fields = ["criterion", "enabled", "weight", "params", "explanation"]
    raw_id_fields = ["criterion"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not rulebook_in_use(obj) and super().has_change_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not rulebook_in_use(obj) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not rulebook_in_use(obj) and super().has_delete_permission(request, obj)


@admin.register(Rulebook)
class RulebookAdmin(SimpleHistoryAdmin):
    list_display = ["name", "model", "version", "is_active", "created_by", "created_at", "in_use"]
    list_filter = ["model", "is_active"]
    readonly_fields = ["model", "version", "is_active", "created_by", "created_at"]
    inlines = [RuleInline]
    actions = ["make_new_version", "make_active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if rulebook_in_use(obj):
            fields.append(
                "stale_after_years"
            )  # its results must stay explainable: change it in a new version
        return fields

    @admin.display(boolean=True, description="Used in evaluations (frozen)")
    def in_use(self, obj: Rulebook) -> bool:
        return rulebook_in_use(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # new rulebooks come from "Create a new version"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Create a new editable version from the selected rulebook")
    def make_new_version(self, request: HttpRequest, queryset: QuerySet[Rulebook]) -> None:
        for book in queryset:
            new = new_rulebook_version(book, request.user, activate=False)
            self.message_user(request, f"Created {new} (not yet active): edit its rules, then activate it.")

    @admin.action(description="Make the selected rulebook the active one for its model")
    def make_active(self, request: HttpRequest, queryset: QuerySet[Rulebook]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Choose exactly one rulebook to activate.", messages.ERROR)
            return
        book = queryset.get()
        activate_rulebook(book)
        rulebook_activated.send(sender=Rulebook, book=book)  # proposals follow their inputs (decision 0018)
        self.message_user(request, f"{book} is now active for the {book.get_model_display()} model.")


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["code", "ref", "kind", "model", "evaluation_area"]
    list_filter = ["model", "kind"]
    search_fields = ["code", "text"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
