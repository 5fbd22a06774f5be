"""Signals the risk app sends for the apps above it (decision 0022: risk never imports them).

`rulebook_activated(sender, book)`: staff made `book` the active rulebook of its model (the admin action).
beacon.assessments re-evaluates the live term and refreshes its proposals (decision 0018)."""

from django.dispatch import Signal

rulebook_activated = Signal()
