"""The notebook runner (tests/lecture/_nbrun.py): the kernel runs the gradfit under test, the
client sends nothing on the shell channel while a cell runs (an Output widget's echo there
left the client waiting for a reply it had already received), and a stalled notebook fails
within its limit, naming the cell, with its kernel shut down."""

import os

import pytest
from jupyter_client.session import Session
from nbformat.v4 import new_code_cell, new_notebook

import gradfit
from tests.lecture._nbrun import NotebookStalled, run_notebook


def _stream(nb, i):
    return "".join(o.get("text", "") for o in nb.cells[i].outputs if o.output_type == "stream")


def test_no_shell_message_while_a_cell_runs(kernel_path, tmp_path, monkeypatch):
    sent = []
    send = Session.send

    def recording(self, stream, msg_or_type, *args, **kwargs):
        msg = send(self, stream, msg_or_type, *args, **kwargs)
        sent.append(msg["header"]["msg_type"])
        return msg

    monkeypatch.setattr(Session, "send", recording)  # this process only, not the kernel's
    nb = new_notebook(
        cells=[
            new_code_cell("import gradfit\nprint(gradfit.__file__)"),
            # what explore(..., sliders=...) does: outputs captured by an Output widget
            new_code_cell(
                "import ipywidgets\nout = ipywidgets.Output()\ndisplay(out)\n"
                "for i in range(5):\n    with out:\n        print('line', i)"
            ),
            new_code_cell("print('after')"),
        ]
    )
    client = run_notebook(nb, tmp_path, kernel_path, limit=60)
    assert _stream(nb, 0).strip() == gradfit.__file__
    assert _stream(nb, 2) == "after\n"
    [captured] = [s["outputs"] for s in client.widget_state.values() if "outputs" in s]
    assert "".join(o["text"] for o in captured) == "".join(f"line {i}\n" for i in range(5))
    # a kernel_info_request, one execute_request per cell, the shutdown: no comm_msg
    assert sent.count("execute_request") == 3
    assert set(sent) <= {"kernel_info_request", "execute_request", "shutdown_request"}


def test_a_stalled_notebook_fails_naming_the_cell(kernel_path, tmp_path):
    nb = new_notebook(
        cells=[
            new_code_cell("import os\nprint(os.getpid())"),
            new_code_cell("import time\ntime.sleep(600)"),
        ]
    )
    with pytest.raises(NotebookStalled, match=r"within 10 s \(stalled in cell 1: 'import time"):
        run_notebook(nb, tmp_path, kernel_path, limit=10)
    pid = int(_stream(nb, 0))
    with pytest.raises(ProcessLookupError):  # the kernel was shut down, not left running
        os.kill(pid, 0)
