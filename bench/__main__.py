"""``python -m bench``: every benchmark, one after the other."""

from __future__ import annotations

from bench import bench_evaluate

bench_evaluate.main()
