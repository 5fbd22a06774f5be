"""Ofsted inspection importers (legacy single-grade history, report-card management information)."""
