"""BENCHMARKS.md is shared: each benchmark owns one `## Heading` section of it, and all of
them describe the machine and judge targets the same way."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """The processor's name, for the machine line of a section."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


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
