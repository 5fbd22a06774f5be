"""Indicator importers (KS2, KS4, census context, absence, LAIT benchmarks, statistical neighbours)."""
