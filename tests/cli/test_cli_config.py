"""Configuration: defaults, layering, TOML writing/reading, value parsing."""

from __future__ import annotations

import math
import tomllib

import pytest
import torch  # noqa: F401 - the project's tests require the reference implementation

from gradfit.train import UsageError
from gradfit.train.config import (
    DEFAULTS,
    Layers,
    config_from_layers,
    dumps_toml,
    parse_assignment,
    parse_value,
    parse_widths,
)


def test_defaults_are_the_lecture_recipe():
    c = config_from_layers([])
    assert c["data"]["name"] == "mnist1d"
    assert c["model"] == {
        "kind": "mlp",
        "hidden": [100, 100],
        "activation": "relu",
        "init": "kaiming_uniform",
        "bias": "zeros",
    }
    assert c["optimizer"] == {"name": "sgd", "lr": 0.05, "momentum": 0.9}
    assert c["scheduler"] == {"name": "step_lr", "step_size": 10, "gamma": 0.5}
    assert c["train"]["epochs"] == 50 and c["train"]["batch_size"] == 100


def test_changing_the_optimizer_drops_the_old_ones_arguments():
    c = config_from_layers([({"optimizer": {"name": "adam", "lr": 1e-3}}, "flags")])
    assert c["optimizer"] == {"name": "adam", "lr": 1e-3}
    # The same optimizer (any spelling) keeps them, and a later layer overrides one key.
    c = config_from_layers([({"optimizer": {"name": "SGD"}}, "a"), ({"optimizer": {"lr": 1}}, "b")])
    assert c["optimizer"] == {"name": "SGD", "lr": 1, "momentum": 0.9}
    c = config_from_layers([({"scheduler": {"name": "none"}}, "flags")])
    assert c["scheduler"] == {"name": "none"}


def test_a_data_file_replaces_the_builtin_set():
    c = config_from_layers([({"data": {"path": "x.csv", "target": "y"}}, "f")])
    assert c["data"]["name"] == "" and c["data"]["path"] == "x.csv"


def test_errors_name_the_key_the_value_and_the_source():
    with pytest.raises(UsageError, match=r'train\.epochs = "ten" \(from run\.toml\): expected an'):
        config_from_layers([({"train": {"epochs": "ten"}}, "run.toml")])
    with pytest.raises(UsageError, match=r"unknown key model\.hiden .*hidden"):
        config_from_layers([({"model": {"hiden": [3]}}, "run.toml")])
    with pytest.raises(UsageError, match=r"model\.hidden = \[10, 0\].*positive layer widths"):
        config_from_layers([({"model": {"hidden": [10, 0]}}, "run.toml")])
    with pytest.raises(UsageError, match=r"optimizer\.lr = nan.*finite"):
        config_from_layers([({"optimizer": {"lr": math.nan}}, "x")])
    with pytest.raises(UsageError, match="one level of tables"):
        Layers().apply({"optimizer": {"betas": {"a": 1}}}, "x")
    # A bool is not an integer, though Python says it is.
    with pytest.raises(UsageError, match="train.seed = True"):
        config_from_layers([({"train": {"seed": True}}, "x")])


def test_search_tables_are_ignored_by_train():
    c = config_from_layers([({"search": {"trials": 3}, "search_space": {"lr": "1..2"}}, "f")])
    assert "search" not in c and "search_space" not in c


def test_toml_writer_round_trips():
    cfg = {
        "a": {
            "f": [1e-05, 0.1, 1e300, 2.0, -0.0, math.inf, -math.inf],
            "i": -3,
            "s": 'quote " back \\ ünï',
            "b": True,
            "empty": [],
            "strs": ["x", "y"],
        },
        "b": {"n": 0},
    }
    back = tomllib.loads(dumps_toml(cfg, header="two\nlines"))
    assert back == cfg
    assert repr(back["a"]["f"][0]) == "1e-05"  # floats keep every digit
    assert math.isnan(tomllib.loads(dumps_toml({"t": {"x": math.nan}}))["t"]["x"])
    full = config_from_layers([])
    assert tomllib.loads(dumps_toml(full)) == full


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.9", 0.9),
        ("1e-3", 1e-3),
        ("10", 10),
        ("true", True),
        ("[0.9, 0.99]", [0.9, 0.99]),
        ("0.9,0.99", [0.9, 0.99]),
        ("adam", "adam"),
        ('"x y"', "x y"),
        ("none", "none"),
    ],
)
def test_parse_value(text, value):
    assert parse_value(text) == value


def test_parse_widths_and_assignments():
    assert parse_widths("100,100") == [100, 100]
    assert parse_widths("none") == [] and parse_widths("") == []
    assert parse_widths("[64]") == [64]
    with pytest.raises(UsageError, match="--hidden '10,x'"):
        parse_widths("10,x")
    with pytest.raises(UsageError, match="must be >= 1, got 0"):
        parse_widths("0")
    assert parse_assignment("betas=0.9,0.99", "--x") == ("betas", [0.9, 0.99])
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        parse_assignment("betas", "--optimizer-arg")


def test_defaults_are_not_shared_between_configs():
    a = config_from_layers([])
    a["model"]["hidden"].append(7)
    assert config_from_layers([])["model"]["hidden"] == [100, 100]
    assert DEFAULTS["model"]["hidden"] == [100, 100]
