"""BENCHMARKS.md is shared: each benchmark owns one `## Heading` section of it."""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, heading: str, section: str) -> None:
    """Replace the section that starts with `heading` (or append it), keeping the others."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        body = text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        kept = lines[:start] + section.rstrip("\n").splitlines() + [""] + lines[end:]
        body = "\n".join(kept).rstrip("\n") + "\n"
    path.write_text(body, encoding="utf-8")
