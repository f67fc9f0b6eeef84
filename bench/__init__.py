"""Benchmarks: `make bench` (all) or `.venv/bin/python -m bench.<name>`; they print numbers, never assert."""
