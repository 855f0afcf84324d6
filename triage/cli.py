"""Command-line faces of triage: ``gridcall classify`` and ``gridcall triage …``.

:func:`classify_stream` is the line-oriented classification behind ``gridcall classify``:
one report per input line, one JSON object per output line, in order, so that the output can
be pasted next to the input or joined with it by line number. It is plain Python so that the
CLI command, tests and ad-hoc scripts share it.

:data:`triage_group` is the ``gridcall triage`` command group (``train``, ``split``,
``eval``), registered by the main CLI; the heavy imports (numpy, the training code) happen
inside the commands, so that ``gridcall --help`` stays fast.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click

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


@click.group("triage")
def triage_group() -> None:
    """Train and evaluate the triage classifier."""


@triage_group.command("train")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Corpus directory with train.jsonl (and src/ for --split). [default: the repo's]",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the model. [default: the shipped triage/model/triage.json]",
)
@click.option(
    "--split/--no-split",
    default=False,
    show_default=True,
    help="Regenerate train.jsonl and test.jsonl from src/*.jsonl first.",
)
@click.option(
    "--corrections",
    "corrections",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    multiple=True,
    help="Staff corrections from `gridcall triage export-corrections` to fold in (repeatable).",
)
def train_command(
    corpus_dir: Path | None, out_path: Path | None, split: bool, corrections: tuple[Path, ...]
) -> None:
    """Rebuild the model from the corpus; the same corpus always gives the same bytes."""
    from triage.classifier import MODEL_PATH
    from triage.dataset import CORPUS_DIR, CorpusError
    from triage.train import TrainingUnavailable, train

    corpus = corpus_dir if corpus_dir is not None else CORPUS_DIR
    out = out_path if out_path is not None else MODEL_PATH
    try:
        if split:
            _split(corpus)
        click.echo(f"training on {corpus / 'train.jsonl'} …", err=True)
        report = train(corpus, out, corrections)
    except (CorpusError, TrainingUnavailable) as exc:
        raise click.ClickException(str(exc)) from exc
    except FileNotFoundError as exc:
        raise click.ClickException(f"{exc.filename}: no such file") from exc
    click.echo(
        f"wrote {report.path} ({report.size:,} bytes, sha256 {report.sha256[:16]}…): "
        f"{report.examples} examples ({report.corrections} from corrections), "
        f"{report.features} features, "
        f"{report.iterations} iterations, train accuracy {report.train_accuracy:.3f}, "
        f"{report.seconds:.1f}s"
    )


@triage_group.command("split")
@click.option(
    "--corpus",
    "corpus_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Corpus directory holding src/*.jsonl. [default: the repo's]",
)
def split_command(corpus_dir: Path | None) -> None:
    """Regenerate train.jsonl and test.jsonl from src/*.jsonl (a stable hash per text)."""
    from triage.dataset import CORPUS_DIR, CorpusError

    try:
        _split(corpus_dir if corpus_dir is not None else CORPUS_DIR)
    except CorpusError as exc:
        raise click.ClickException(str(exc)) from exc


@triage_group.command("eval")
@click.argument("path", type=click.Path(dir_okay=False))
def eval_command(path: str) -> None:
    """Print accuracy, F1 and the confusion matrix of the classifier on a labelled file."""
    from triage.evaluate import run_eval

    sys.exit(run_eval(path, sys.stdout))


def _split(corpus: Path) -> None:
    from triage.dataset import write_split

    result = write_split(corpus)
    click.echo(
        f"split {corpus / 'src'}: {len(result.train)} train, {len(result.test)} test",
        err=True,
    )
    for dropped, kept in result.duplicates:
        note = "" if dropped.label == kept.label else f" (labelled {kept.label} there)"
        click.echo(f"  duplicate dropped: {dropped.text[:40]!r} as {dropped.label}{note}", err=True)


def main() -> int:
    """``python -m triage.cli``: stdin to stdout, tolerant of undecodable input bytes."""
    for stream in (sys.stdin, sys.stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace")
    classify_stream(sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
