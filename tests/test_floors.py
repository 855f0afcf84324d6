"""The floors hold (README, "How it is built"): what import-linter cannot see.

import-linter tracks external packages as a whole, so "handlers/ builds no SQL" is checked
here: a handler may hold the transaction's `AsyncSession`, but every query lives in
storage/.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSION_ONLY = {"sqlalchemy.ext.asyncio"}


def sqlalchemy_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module}
        elif isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
        else:
            continue
        found |= {n for n in names if n == "sqlalchemy" or n.startswith("sqlalchemy.")}
    return found


def test_handlers_build_no_sql() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imports - SESSION_ONLY)
        for path in sorted((ROOT / "handlers").rglob("*.py"))
        if (imports := sqlalchemy_imports(path)) - SESSION_ONLY
    }
    assert offenders == {}, f"queries belong in storage/: {offenders}"


def test_the_check_sees_a_query_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("from sqlalchemy import select\nimport sqlalchemy.orm\n")
    assert sqlalchemy_imports(module) == {"sqlalchemy", "sqlalchemy.orm"}
