"""Benchmarks: `python -m bench` seeds a database, starts the real server and prints figures."""
