"""``gradfit.backends.cpu``: the CPU's vector capability, as PyTorch names it."""

import functools


@functools.cache
def get_cpu_capability() -> str:
    """ "AVX512", "AVX2" or "DEFAULT" from the CPU's flags (Linux's /proc/cpuinfo), as
    PyTorch's dispatch chooses; "DEFAULT" where the flags cannot be read."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return "DEFAULT"
    if {"avx512f", "avx512cd", "avx512vl", "avx512bw", "avx512dq"} <= set(flags):
        return "AVX512"
    if {"avx2", "fma"} <= set(flags):
        return "AVX2"
    return "DEFAULT"
