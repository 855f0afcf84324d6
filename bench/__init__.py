"""Benchmarks: each writes its own section of BENCHMARKS.md (see ``bench/run``)."""
