"""Benchmarks: run with ``.venv/bin/python -m bench.<name>``; they print numbers, never assert."""
