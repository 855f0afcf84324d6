"""Line-oriented classification behind ``gridcall classify``.

One report per input line, one JSON object per output line, in order, so that the output can
be pasted next to the input or joined with it by line number. Kept free of click so that the
CLI command, tests and ad-hoc scripts share it.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import TextIO

from triage.classifier import Classifier, default_classifier
from triage.normalize import MAX_CHARS

_READ_LIMIT = MAX_CHARS * 4
"""Characters of one line held in memory; the classifier looks at fewer than that anyway."""


def _lines(inp: TextIO) -> Iterator[str]:
    """Yield each line's head without ever holding an unbounded line in memory.

    A line longer than the limit is read through to its end in chunks and only its start
    is kept, so a multi-megabyte line cannot exhaust memory or desynchronise the output.
    """
    while True:
        chunk = inp.readline(_READ_LIMIT)
        if not chunk:
            return
        line = chunk
        while not chunk.endswith("\n"):
            chunk = inp.readline(_READ_LIMIT)
            if not chunk:
                break
        yield line.rstrip("\r\n")


def classify_stream(inp: TextIO, out: TextIO, classifier: Classifier | None = None) -> int:
    """Classify every line of ``inp`` onto ``out``; return how many lines were written.

    A blank line still produces a line (the empty-text answer) so that output line N always
    belongs to input line N. Each line is flushed as it is written so the command can sit
    in a pipeline and answer interactively.
    """
    engine = classifier if classifier is not None else default_classifier()
    count = 0
    for line in _lines(inp):
        result = engine.classify(line)
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        out.flush()
        count += 1
    return count


def main() -> int:
    """``python -m triage.cli``: stdin to stdout, tolerant of undecodable input bytes."""
    for stream in (sys.stdin, sys.stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace")
    classify_stream(sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
