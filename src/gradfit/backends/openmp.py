"""``gradfit.backends.openmp``: whether OpenMP is available (NumPy's BLAS threads)."""


def is_available() -> bool:
    return True
