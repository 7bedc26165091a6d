"""Benchmarks of gpu_bo against its peers (quality, suggestion latency, scaling).

Run them from the repository root, e.g. ``python benchmarks/quality.py --quick``; results land
in ``benchmarks/results/``.
"""
