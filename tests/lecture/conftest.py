"""Shared set-up for the notebook tests: a Jupyter kernel spec running this interpreter."""

import pytest

from tests.lecture._nbrun import write_kernel_spec


@pytest.fixture(scope="session")
def kernel_path(tmp_path_factory):
    """A JUPYTER_PATH folder whose ``python3`` kernel is this test run's Python, so the
    notebooks import the gradfit under test (tests/lecture/_nbrun.py runs them)."""
    return write_kernel_spec(tmp_path_factory.mktemp("jupyter"))
