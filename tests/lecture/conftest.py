"""Shared set-up for the notebook tests: a Jupyter kernel spec running this interpreter."""

import json
import sys

import pytest


@pytest.fixture(scope="session")
def kernel_path(tmp_path_factory):
    """A JUPYTER_PATH folder whose ``python3`` kernel is this test run's Python, so the
    notebooks import the gradfit under test."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (gradfit tests)",
                "language": "python",
            }
        )
    )
    return root
