"""The dependency order (docs/ARCHITECTURE.md "Layers", decision 0022) is enforced by import-linter
(`make lint` runs `lint-imports` with the contracts in pyproject.toml). These tests hold the enforcement
itself to account: grimp, the graph import-linter checks, counts imports written inside functions, and
the layers contract really breaks on an upward import."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("beacon", cache_dir=None)


def _contract(graph: grimp.ImportGraph, contract_id: str) -> Contract:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    options = next(c for c in config["contracts"] if c["id"] == contract_id)
    assert options["type"] == "layers"
    return LayersContract(
        name=options["name"],
        session_options={"root_packages": ["beacon"]},
        contract_options={k: v for k, v in options.items() if k not in {"id", "name", "type"}},
    )


def test_imports_inside_functions_are_in_the_graph(graph: grimp.ImportGraph) -> None:
    # beacon/core/middleware.py imports the policy inside TwoFactorMiddleware's helper, not at the top.
    source = (ROOT / "beacon/core/middleware.py").read_text()
    assert "\n        from beacon.permissions import requires_second_factor\n" in source
    assert "\nfrom beacon.permissions" not in source and "\nfrom beacon import permissions" not in source
    details = graph.get_import_details(importer="beacon.core.middleware", imported="beacon.permissions")
    assert details and all(d["line_contents"].startswith("from beacon.permissions") for d in details)


def test_the_layers_contract_is_kept_and_breaks_on_an_upward_import(graph: grimp.ImportGraph) -> None:
    contract = _contract(graph, "layers")
    assert contract.check(copy.deepcopy(graph), verbose=False).kept

    # An import inside a function of a low layer reaching a higher one breaks it.
    broken = copy.deepcopy(graph)
    broken.add_import(
        importer="beacon.schools.models", imported="beacon.assessments.services", line_number=1,
        line_contents="from beacon.assessments.services import refresh_proposals",
    )  # fmt: skip
    check = contract.check(broken, verbose=False)
    assert not check.kept
    assert "beacon.schools.models" in str(check.metadata)


WEB_MODULES = {
    "beacon.*.views",
    "beacon.support.views_records",
    "beacon.*.forms",
    "beacon.*.presenters",
    "beacon.core.context_processors",
    "beacon.core.middleware",
}


def test_only_web_modules_are_exempt_and_the_last_upward_imports_are_gone(graph: grimp.ImportGraph) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    exempt = {line.split(" -> ")[0] for c in config["contracts"] for line in c.get("ignore_imports", [])}
    assert exempt == WEB_MODULES
    # The four upward imports issue 15 left behind (decision 0022, second step), checked on the graph
    # itself: a direct import of any of these modules, at the top or inside a function, fails here.
    for importer, higher in (
        ("beacon.schools.selectors", ("beacon.indicators", "beacon.inspections")),
        ("beacon.schools.importers", ("beacon.indicators",)),
        ("beacon.schools.register_2025", ("beacon.indicators",)),
        ("beacon.assessments.selectors", ("beacon.permissions",)),
        ("beacon.accountability.selectors", ("beacon.permissions",)),
    ):
        imported = graph.find_modules_directly_imported_by(importer)
        assert imported, importer
        assert not {m for m in imported if m.startswith(higher)}, importer
