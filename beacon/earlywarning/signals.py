"""Signals the early-warning app sends for the apps above it (decision 0022: earlywarning never imports them).

`scores_stored(sender, as_of, count)`: a model's risk scores were stored (`train_risk_model`).
beacon.assessments refreshes the live term's proposals, whose stored probabilities the register sorts by
(decision 0027)."""

from django.dispatch import Signal

scores_stored = Signal()
