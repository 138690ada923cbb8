"""The shape of the package: a one-way import ladder and a core that owns Tensor's fields.

(a) The module-level imports among gradfit's modules (those at the bottom of a file
    included) form no cycle.
(b) Every gradfit module can be imported first, in an interpreter where no gradfit module
    is loaded yet.
(c) Outside the core (tensor.py, autograd/, ops/, and _arrays.py, the internal array API
    itself) no code reads ``._array``, calls ``_make`` or touches ``._version``.

The layers are described in ``gradfit/__init__.py`` and docs/architecture.md.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = SRC / "gradfit"


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package's __init__) for every module of gradfit."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]):
    """Import statements that run when the module is imported: the module body and the
    blocks of its top-level if/try/with statements, wherever they sit in the file (not
    inside functions or classes, and not under ``if TYPE_CHECKING``)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _module_level_imports(node.body)
            yield from _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _module_level_imports(block)
            for handler in node.handlers:
                yield from _module_level_imports(handler.body)
        elif isinstance(node, ast.With):
            yield from _module_level_imports(node.body)


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imported_modules(name: str, path: Path, is_package: bool, anywhere: bool = False) -> set[str]:
    """The gradfit modules that importing ``name`` executes directly (``anywhere``: also
    those imported inside its functions and ``if TYPE_CHECKING`` blocks).

    ``from P import x`` imports the module ``P.x`` when there is one, else ``P`` itself.
    Importing ``a.b.c`` also runs the packages ``a`` and ``a.b``; those count too, except
    the importer's own ancestors (they are being imported already, by definition).
    """
    package = name if is_package else name.rpartition(".")[0]
    targets = set()
    tree = ast.parse(path.read_text())
    if anywhere:
        nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    else:
        nodes = list(_module_level_imports(tree.body))
    for node in nodes:
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module
        for alias in node.names:
            sub = f"{module}.{alias.name}"
            targets.add(sub if sub in MODULES else module)
    own = set(_ancestors(name))
    edges = set()
    for target in targets:
        if not target.startswith("gradfit"):
            continue
        while target not in MODULES:  # `import gradfit.x.y` naming an attribute
            target = target.rpartition(".")[0]
        for module in [*_ancestors(target), target]:
            if module != name and module not in own:
                edges.add(module)
    return edges


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_cycle_finder_finds_a_cycle_through_a_bottom_of_file_import(tmp_path):
    # The finder itself: a graph with a cycle is reported, a ladder is not.
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    # And the parser sees an import placed after the code, as tensor.py once had.
    source = "import numpy\n\ndef f():\n    import gradfit.random\n\nfrom gradfit import ops\n"
    tree = ast.parse(source)
    found = [
        getattr(n, "module", None) or n.names[0].name for n in _module_level_imports(tree.body)
    ]
    assert found == ["numpy", "gradfit"]


def test_module_level_imports_form_no_cycle():
    graph = {name: _imported_modules(name, *info) for name, info in MODULES.items()}
    assert graph["gradfit.tensor"] >= {"gradfit.ops.elementwise", "gradfit.autograd"}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle among gradfit's modules: " + " -> ".join(cycle)


# The bottom rungs of the ladder (gradfit/__init__.py): a module here imports only from
# its own rung or those below it.
RUNGS = {
    "gradfit._dtypes": 0,
    "gradfit._grad_mode": 0,
    "gradfit._hooks": 0,  # RemovableHandle, what register_*_hook returns
    "gradfit._cascade_sum": 0,  # sums in PyTorch's order (arrays only)
    "gradfit._layout": 0,  # torch.strided and the other layouts
    "gradfit._mt": 0,
    "gradfit._fused": 0,  # fused multiply-adds rounded as PyTorch's kernels
    "gradfit._exact": 0,  # when ops emulate PyTorch's roundings (grad mode only)
    "gradfit._stl": 0,  # libstdc++ sorting and PyTorch quickselect, for tie orders
    "gradfit._moments": 0,  # layer norm's row moments in PyTorch's order
    "gradfit._vecmath": 0,  # softmax's exp, log and lane sums in PyTorch's order
    "gradfit._rng": 0,
    "gradfit._meta": 0,  # the meta device's array type (arrays only)
    "gradfit._tensor_str": 0,  # tensor printing (issue 16)
    "gradfit._typenames": 0,  # PyTorch's legacy type strings (issue 16)
    # torch.autograd.profiler: a facade over gradfit.profiler, above the ladder (loaded on
    # first use; no core module may import it). Listed before its package: first match.
    "gradfit.autograd.profiler": None,
    "gradfit.autograd": 1,  # the graph machinery: Tensor only through TensorProtocol
    "gradfit.ops": 2,  # arrays in, arrays out
    "gradfit._arrays": 2,  # the internal array API (Tensor through the bound class)
    "gradfit._out": 2,  # the out= keyword of the math functions (tensor ops)
    "gradfit.return_types": 0,  # the named tuples some ops return
    "gradfit.tensor": 3,  # the one place that wraps arrays as Tensors
    "gradfit._tensorops": 3,  # the tensor operations tensor.py's methods call
    "gradfit._tensorops_more": 3,  # more of them: shape and linear algebra (ops-shape)
    "gradfit._tensorops_rt": 3,  # index_reduce, apply_/map_, gradient, corrcoef (rtapi)
    "gradfit._tensorops_gaps": 3,  # legacy linalg, *_scatter, shifts (apigaps)
    "gradfit.linalg": 3,
    "gradfit._stft": 3,  # stft/istft, Tensor methods (complexfft)
    "gradfit.storage": 3,  # Tensor.untyped_storage/storage: the memory a tensor views
    "gradfit._shared_memory": 3,  # Tensor.share_memory_: memory other processes map (apihooks)
}


def _rung(name: str) -> int | None:
    for prefix, rung in RUNGS.items():
        if name == prefix or name.startswith(prefix + "."):
            return rung
    return None


def test_core_imports_only_downwards():
    # Imports inside functions count here: a deferred import of a higher rung is the same
    # upward dependency, only hidden (deferring a lower one, e.g. to keep `import gradfit`
    # fast, is fine).
    for name, info in MODULES.items():
        rung = _rung(name)
        if rung is None:
            continue
        for target in _imported_modules(name, *info, anywhere=True) - {"gradfit"}:
            target_rung = _rung(target)
            assert target_rung is not None and target_rung <= rung, (
                f"{name} (rung {rung}) imports {target} (rung {target_rung}): the core's "
                "imports must point down the ladder"
            )


_IMPORT_EACH = textwrap.dedent(
    """
    import importlib, os, sys, traceback
    import numpy  # third-party libraries may be loaded; no gradfit module is

    failed = []
    for name in sys.argv[1:]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a child that has imported nothing of gradfit
            os.close(read)
            assert not [m for m in sys.modules if m.split(".")[0] == "gradfit"]
            try:
                importlib.import_module(name)
                code = 0
            except BaseException:
                os.write(write, traceback.format_exc().encode())
                code = 1
            os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as f:
            message = f.read().decode()
        _, status = os.waitpid(pid, 0)
        if status:
            failed.append(f"import {name} (first) failed:\\n{message}")
    print("\\n".join(failed))
    sys.exit(1 if failed else 0)
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork to import each module fresh")
def test_every_module_imports_first_in_a_fresh_interpreter():
    # One interpreter per module would cost ~0.3 s each; forked children of an
    # interpreter that has loaded NumPy but no gradfit module give the same check.
    # Two such parents, each with half the modules, run concurrently.
    names = sorted(MODULES)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("GRADFIT_THREADS", None)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _IMPORT_EACH, *names[i::2]],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=ROOT,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    failures = [out for p, out in zip(procs, outputs) if p.returncode]
    assert not failures, "\n".join(failures)


# (c) Tensor's private fields stay in the core. -------------------------------------

CORE = ("tensor.py", "autograd/", "ops/", "_arrays.py")
PRIVATE_FIELDS = {"_array", "_make", "_version"}


def _private_uses(source: str, label: str) -> list[str]:
    """``label:line name`` for each attribute ``_array``/``_make``/``_version`` used, and
    each ``getattr``/``setattr``/``hasattr`` spelling one as a string."""
    found = []
    for node in ast.walk(ast.parse(source)):
        name = None
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_FIELDS:
            name = node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in PRIVATE_FIELDS
        ):
            name = node.args[1].value
        if name:
            found.append((node.lineno, f"{label}:{node.lineno} {name}"))
    return [text for _, text in sorted(found)]


def _outside_core() -> dict[str, list[str]]:
    files = [p for p in PACKAGE.rglob("*.py")]
    files += [p for d in ("examples", "benchmarks") for p in (ROOT / d).rglob("*.py")]
    uses = {}
    for path in sorted(files):
        rel = path.relative_to(PACKAGE).as_posix() if path.is_relative_to(PACKAGE) else None
        if rel is not None and rel.startswith(CORE):
            continue
        label = rel or path.relative_to(ROOT).as_posix()
        found = _private_uses(path.read_text(), label)
        if found:
            uses[label] = found
    return uses


def test_scan_sees_private_fields():
    # The scanner reports each spelling it must catch, and not a public look-alike.
    source = "t._array\nTensor._make(a, None)\nt._version += 1\ngetattr(t, '_array', t)\nx.array\n"
    assert _private_uses(source, "probe") == [
        "probe:1 _array",
        "probe:2 _make",
        "probe:3 _version",
        "probe:4 _array",
    ]


def test_private_fields_stay_in_the_core():
    uses = _outside_core()
    assert not uses, (
        "use gradfit._arrays (unwrap, wrap, set_array, bump_version, modified) instead of "
        "Tensor's private fields:\n" + "\n".join(u for v in uses.values() for u in v)
    )
