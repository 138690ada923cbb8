"""``torch.hub``: pretrained weights and models from a cache directory or a local repository.

gradfit downloads nothing (it runs where there is no network), but everything that needs
no download works as in PyTorch:

- ``get_dir`` / ``set_dir``: the hub directory, by PyTorch's rules (``set_dir`` wins, then
  ``$TORCH_HOME/hub``, then ``$XDG_CACHE_HOME/torch/hub``, then ``~/.cache/torch/hub``), so a
  cache PyTorch filled is found.
- ``load_state_dict_from_url``: loads the checkpoint from ``<hub dir>/checkpoints/<file
  name>`` when it is there (where PyTorch caches it); otherwise a one-line error naming
  the URL and the file to put in place.
- ``load`` / ``list`` / ``help`` with ``source="local"``: import the directory's
  ``hubconf.py`` and call (list, describe) its entry points.
- ``download_url_to_file`` and GitHub sources: a one-line error naming the URL.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from urllib.parse import urlparse

__all__ = [
    "download_url_to_file",
    "get_dir",
    "help",
    "list",
    "load",
    "load_state_dict_from_url",
    "set_dir",
]

_hub_dir: str | None = None
_builtin_list = list


def _no_network(url: str, hint: str = "") -> RuntimeError:
    return RuntimeError(f"gradfit.hub cannot download {url}: gradfit has no network access{hint}")


def _torch_home() -> str:
    cache = os.getenv("XDG_CACHE_HOME", os.path.join("~", ".cache"))
    return os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))


def get_dir() -> str:
    """The directory where hub keeps models and weights (see the module docstring)."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_torch_home(), "hub")


def set_dir(d) -> None:
    """Use ``d`` (a path, ``~`` expanded) as the hub directory from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(os.fspath(d))


def download_url_to_file(url: str, dst: str, hash_prefix=None, progress: bool = True) -> None:
    """Download ``url`` to ``dst``: not possible here, so a one-line error naming both."""
    raise _no_network(url, f" (wanted at {dst})")


def load_state_dict_from_url(
    url: str,
    model_dir: str | None = None,
    map_location=None,
    progress: bool = True,
    check_hash: bool = False,
    file_name: str | None = None,
    weights_only: bool = False,
):
    """The object saved in the checkpoint at ``url``, from the cache: ``model_dir`` (default
    ``<get_dir()>/checkpoints``) / ``file_name`` (default: the URL's last path component),
    as PyTorch caches it. A checkpoint that is not cached cannot be downloaded: a one-line
    error names the URL and the file to put in place. ``check_hash`` checks that the file's
    SHA-256 starts with the hash in its name (``name-<hash>.ext``), as PyTorch does."""
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    filename = file_name or os.path.basename(urlparse(url).path)
    cached = os.path.join(model_dir, filename)
    if not os.path.exists(cached):
        raise _no_network(url, f"; place the file at {cached} to load it from the cache")
    if check_hash:
        _check_hash(cached, filename)
    from gradfit.serialization import load as _load

    return _load(cached, map_location=map_location, weights_only=weights_only)


def _check_hash(path: str, filename: str) -> None:
    import hashlib
    import re

    m = re.search(r"-([a-f0-9]*)\.", filename)
    if m is None:
        return
    prefix = m.group(1)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if not digest.startswith(prefix):
        raise RuntimeError(f'invalid hash value (expected "{prefix}", got "{digest}")')


def _hubconf(repo_or_dir: str, source: str):
    if source not in ("github", "local"):
        raise ValueError(f'Unknown source: "{source}". Allowed values: "github" | "local".')
    if source == "github":
        raise _no_network(
            f"https://github.com/{repo_or_dir}",
            "; clone the repository and use source='local' with its directory",
        )
    path = os.path.join(os.fspath(repo_or_dir), "hubconf.py")
    if not os.path.exists(path):
        raise FileNotFoundError(f"Cannot find hubconf.py in {repo_or_dir}")
    sys.path.insert(0, os.fspath(repo_or_dir))
    try:
        spec = importlib.util.spec_from_file_location("hubconf", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(os.fspath(repo_or_dir))
    return module


def _entry(module, model: str):
    if not isinstance(model, str):
        raise ValueError("Invalid input: model should be a string of function name")
    fn = getattr(module, model, None)
    if fn is None or not callable(fn):
        raise RuntimeError(f"Cannot find callable {model} in hubconf")
    return fn


def list(  # noqa: A001 - PyTorch's name
    github: str,
    force_reload: bool = False,
    skip_validation: bool = False,
    trust_repo=None,
    verbose: bool = True,
    source: str = "github",
):
    """The entry points (public callables) of the repository's ``hubconf.py``."""
    module = _hubconf(github, source)
    return [
        name for name in dir(module) if callable(getattr(module, name)) and not name.startswith("_")
    ]


def help(  # noqa: A001 - PyTorch's name
    github: str,
    model: str,
    force_reload: bool = False,
    skip_validation: bool = False,
    trust_repo=None,
    source: str = "github",
):
    """The docstring of entry point ``model`` of the repository's ``hubconf.py``."""
    return _entry(_hubconf(github, source), model).__doc__


def load(
    repo_or_dir: str,
    model: str,
    *args,
    source: str = "github",
    trust_repo=None,
    force_reload: bool = False,
    verbose: bool = True,
    skip_validation: bool = False,
    **kwargs,
):
    """Call entry point ``model`` of ``hubconf.py`` in ``repo_or_dir`` with ``*args`` and
    ``**kwargs``. ``source="local"``: a directory on disk; ``"github"`` (PyTorch's default)
    needs a download, so it raises a one-line error naming the repository."""
    return _entry(_hubconf(repo_or_dir, source.lower()), model)(*args, **kwargs)
