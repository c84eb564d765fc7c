"""docs/architecture.md says in a line what each module of the two packages is for (issue 25):
a module added without its line, or a line left for a module that is gone, fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
PACKAGES = {
    "villages_sync": ROOT / "shared" / "villages_sync",
    "villages_sync_ops": ROOT / "ops" / "villages_sync_ops",
}


def _modules(package: Path) -> set[str]:
    return {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if path.name != "__init__.py"
    }


def _table_rows(section: str) -> set[str]:
    """The module paths in the first column of the section's table."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(section)
    end = text.index("\n### ", start + len(section))
    return set(re.findall(r"^\| `([\w/]+\.py)` \|", text[start:end], flags=re.MULTILINE))


def test_architecture_doc_has_a_line_for_every_module_of_the_functions_package():
    # Given the modules of villages_sync, and the rows of the doc's table for it
    modules = _modules(PACKAGES["villages_sync"])

    # When the table's rows are read
    rows = _table_rows("### villages_sync (shared/)")

    # Then each module has its row, and each row names a module that exists
    assert modules - rows == set(), "modules without a line"
    assert rows - modules == set(), "lines for modules that are gone"


def test_architecture_doc_has_a_line_for_every_module_of_the_operator_package():
    # Given the modules of villages_sync_ops, and the rows of the doc's table for it
    modules = _modules(PACKAGES["villages_sync_ops"])

    # When the table's rows are read
    rows = _table_rows("### villages_sync_ops (ops/)")

    # Then each module has its row, and each row names a module that exists
    assert modules - rows == set(), "modules without a line"
    assert rows - modules == set(), "lines for modules that are gone"
