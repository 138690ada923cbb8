"""Side-by-side benchmarks of gradfit against PyTorch on the CPU (issue #6).

Run ``python -m benchmarks`` from the repository root (``--quick`` for a smoke run); the
table is printed and written to BENCHMARKS.md. This package imports nothing heavy at
import time, so the worker processes choose their thread counts before numpy loads.
"""
