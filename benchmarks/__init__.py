"""Benchmarks (not tests): ``python -m benchmarks [names…] [options]``.

Each ``benchmarks/bench_*.py`` module has ``main(argv: list[str] | None = None) -> int``; the runner
calls the named ones (all when none is named) and passes the remaining options on.
"""
