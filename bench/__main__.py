"""`python -m bench`: the entry point only; the run is bench/suite.py's, what it shares with
the other benchmarks bench/runner.py's. Nothing imports this module."""

from bench.suite import main

main()
