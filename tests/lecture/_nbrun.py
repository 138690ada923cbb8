"""Run a notebook top to bottom in a fresh Jupyter kernel, for the notebook tests.

Why not plain ``NotebookClient(nb).execute()``: two guards.

1. No shell traffic while a cell runs. nbclient stands in for a front end's ipywidgets
   ``Output`` widget (``interactive`` puts its plot in one) and echoes every output captured
   there back to the kernel as a ``comm_msg`` on the shell channel, from the task reading
   IOPub, while another task awaits the cell's ``execute_reply`` on that same shell socket.
   jupyter_client's ``Session.send`` writes through a plain shadow of the asyncio socket, so
   pyzmq's asyncio layer never hears of the send; a ZeroMQ send processes the socket's
   pending commands, and when the ``execute_reply`` has just arrived, that consumes the
   edge-triggered wake-up of the socket's file descriptor. The reply then sits unread until
   the await's timeout (the per-cell timeout) fires and a last non-blocking poll finds it:
   the kernel idle, the client waiting, nothing printed (lesson 04 hit it in about one run
   in ten). A batch run has no use for that echo (the captured outputs still reach the
   executed notebook's widget state), so ``_OutputWidget`` does not send it: the only shell
   messages are then one ``execute_request`` per cell, each sent before its reply is awaited.
2. A wall-clock limit per notebook, shorter than the per-cell timeout,
   so that any stall fails the test with the notebook and the cell named, instead of waiting
   out a long timeout (and then passing) or blocking the run.
"""

import asyncio
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from nbclient import NotebookClient
from nbclient.output_widget import OutputWidget

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "examples" / "notebooks"


class NotebookStalled(AssertionError):
    """A notebook did not finish within its wall-clock limit."""


class _OutputWidget(OutputWidget):
    """nbclient's stand-in for the ``Output`` widget without the echo to the kernel (see
    the module docstring): outputs are still collected into the widget's saved state."""

    def sync_state(self) -> None:
        pass


def write_kernel_spec(root: Path) -> Path:
    """A JUPYTER_PATH folder whose ``python3`` kernel is this interpreter, so the notebooks
    import the gradfit under test (the kernel inherits this process's environment)."""
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


@contextmanager
def _environ(**values):
    saved = dict(os.environ)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def _within(coroutine, limit: float) -> bool:
    """Run ``coroutine``; False if it took longer than ``limit`` seconds (then it is
    cancelled, which shuts its kernel down, and whatever it raises on the way is dropped:
    nbclient reports a cancelled cell as a dead kernel)."""
    task = asyncio.ensure_future(coroutine)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if task in done:
        task.result()  # raises the notebook's own error, if any
        return True
    task.cancel()
    try:
        await task
    except (Exception, asyncio.CancelledError):
        pass
    return False


def run_notebook(nb, workdir, kernel_path, *, limit: float):
    """Execute ``nb`` in place in a fresh ``python3`` kernel started in ``workdir``.

    Args:
        nb: an nbformat notebook (its cells get their outputs).
        workdir: the kernel's working folder (files the notebook writes go there).
        kernel_path: a folder from ``write_kernel_spec``.
        limit: seconds the whole notebook may take, kernel start and shutdown included.

    Returns the client (``client.widget_state`` holds what widgets displayed). Raises
    ``NotebookStalled`` past ``limit``; a cell's error raises nbclient's
    ``CellExecutionError`` as usual.
    """
    client = NotebookClient(
        nb,
        timeout=int(limit) + 60,  # never first: the notebook's limit below names the cell
        startup_timeout=min(60, int(limit)),
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.widget_registry["@jupyter-widgets/output"]["OutputModel"] = _OutputWidget
    current = {"index": None}

    def on_cell_execute(cell, cell_index):
        current["index"] = cell_index

    client.on_cell_execute = on_cell_execute
    variables = {
        "JUPYTER_PATH": str(kernel_path),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    with _environ(**variables):
        if not asyncio.run(_within(client.async_execute(), limit)):
            i = current["index"]
            where = "before its first cell" if i is None else f"in cell {i}"
            head = "" if i is None else f": {nb.cells[i].source[:80]!r}"
            raise NotebookStalled(
                f"the notebook did not finish within {limit:g} s (stalled {where}{head})"
            )
    return client
