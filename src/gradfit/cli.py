"""The ``gradfit`` command line: ``train``, ``evaluate``, ``search``, ``sample``, ``lesson``
and ``figures``.

``gradfit train`` with no arguments runs the lecture's recipe on MNIST-1D (an MLP
40-100-100-10 with ReLU, He initialisation and zero biases, cross-entropy, SGD with lr 0.05
and momentum 0.9, StepLR(10, 0.5), batches of 100, 50 epochs) and writes a run folder.

Exit codes: 0 success, 2 bad input or a run folder in use (``gradfit: error: ...``,
nothing written), 3 the training diverged (NaN/inf loss; the last good checkpoint is kept),
4 an operating-system error (a read-only folder, a full disk: one line naming the path and
the reason; files already on disk stay whole), 130 interrupted.

Importing this module is cheap: NumPy-heavy and plotting modules (matplotlib, optuna, tqdm,
scikit-learn, mnist1d) are imported inside the commands that use them.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main", "build_parser"]

EXAMPLES_TRAIN = """\
examples:
  gradfit train                                   # the lecture's recipe on MNIST-1D
  gradfit train --optimizer adam --lr 1e-3 --epochs 20 --hidden 128,128
  gradfit train --data digits --standardize --activation tanh --out runs/digits
  gradfit train --data table.csv --target label --val-split 0.25
  gradfit train --config run.toml --seed 1        # flags override the file
  gradfit train --resume runs/digits --epochs 80  # continue (or extend) a run
  gradfit train --model cnn1d                     # the course's 1-D CNN on MNIST-1D
  gradfit train --model transformer --data text:notes.txt --tensorboard
"""

EXAMPLES_SEARCH = """\
examples:
  gradfit search --epochs 10 --trials 30 --jobs 2 \\
      --param lr=1e-4..1e-1:log --param momentum=0.5..0.99 --param batch_size=32,64,128
  gradfit search --config space.toml --storage postgresql://user:pw@db/gradfit
Re-running the same command continues the study stored in OUT/study.db.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are raised so ``main`` prints one line and returns 2."""

    def error(self, message: str):
        from gradfit.train import UsageError

        raise UsageError(f"{message} (see {self.prog} --help)")


class _LazyHelp(str):
    """A help text computed when help is shown (argparse formats it with ``%``), so that
    building the parser does not import gradfit.nn to list what it offers."""

    def __new__(cls, text, shown: str):
        obj = super().__new__(cls, shown)
        obj.text = text
        return obj

    def __mod__(self, params):
        return self.text() % params


def _listing(prefix: str, table: str) -> _LazyHelp:
    def text():
        from gradfit.train import builders

        names = getattr(builders, table)
        return prefix + ", ".join(names() if callable(names) else names)

    return _LazyHelp(text, prefix)


# The flags that override the configuration (train and search), in --help order:
# (flag, the "section.key" it sets or None where ``flags_layer`` reads it itself, metavar,
# type: a conversion, "repeat" (repeatable) or "bool" (--x / --no-x), help). The parser,
# ``flags_layer`` and --resume's refusal all read this one table.
CONFIG_FLAGS: list[tuple] = [
    ("--config", None, "FILE", None, "a TOML configuration file"),
    (
        "--data",
        None,
        "NAME|FILE",
        None,
        "built-in set (mnist1d, digits, gabor, linreg, lecture-random), a .csv/.npz file "
        "(default mnist1d), or text for --model transformer/lstm: stdlib-text (the Python "
        "standard library's source) or text:PATH (a file or folder)",
    ),
    ("--target", "data.target", "COLUMN", None, "target column of a CSV (array of an NPZ)"),
    (
        "--val-split",
        None,
        "FRACTION",
        None,
        'validation fraction, or "auto" (default: the set\'s own test split, else 0.2)',
    ),
    (
        "--standardize",
        "data.standardize",
        None,
        "bool",
        "standardise features with the training mean and std",
    ),
    ("--data-seed", "data.seed", "N", int, "seed of the validation split"),
    ("--model", "model.kind", "KIND", None, _listing("model kind (default mlp): ", "MODELS")),
    (
        "--hidden",
        None,
        "W,W,...",
        None,
        "hidden layer widths (default 100,100; 'none' for a linear model)",
    ),
    (
        "--activation",
        "model.activation",
        "NAME",
        None,
        _listing("activation after each hidden layer (default relu): ", "activation_classes"),
    ),
    (
        "--init",
        "model.init",
        "NAME",
        None,
        _listing("weight initialisation (default kaiming_uniform): ", "INITS"),
    ),
    (
        "--loss",
        "loss.name",
        "NAME",
        None,
        "auto (default), cross_entropy, mse, l1, huber, smooth_l1",
    ),
    (
        "--optimizer",
        "optimizer.name",
        "NAME",
        None,
        "sgd (default), adam, adamw, nadam, radam, adamax, adadelta, rmsprop, adagrad, rprop, "
        "asgd, lbfgs, lecture.momentum, lecture.nesterov, lecture.adam, ...",
    ),
    ("--lr", "optimizer.lr", "LR", float, "learning rate (default 0.05)"),
    ("--momentum", "optimizer.momentum", "M", float, "momentum (SGD default 0.9)"),
    ("--weight-decay", "optimizer.weight_decay", "WD", float, "weight decay"),
    (
        "--optimizer-arg",
        None,
        "KEY=VALUE",
        "repeat",
        "any other optimizer argument, e.g. betas=0.9,0.99 (repeatable)",
    ),
    (
        "--scheduler",
        "scheduler.name",
        "NAME",
        None,
        "step_lr (default, step_size 10, gamma 0.5), none, multistep, exponential, cosine, "
        "linear, onecycle, plateau, ...",
    ),
    (
        "--scheduler-arg",
        None,
        "KEY=VALUE",
        "repeat",
        "a scheduler argument, e.g. T_max=50 (repeatable)",
    ),
    ("--epochs", "train.epochs", "N", int, "epochs (default 50)"),
    ("--batch-size", "train.batch_size", "N", int, "batch size (default 100)"),
    ("--seed", "train.seed", "N", int, "seed of initialisation and shuffling (default 0)"),
    ("--dtype", "train.dtype", "DTYPE", None, "float32 (default) or float64"),
    (
        "--set",
        None,
        "SECTION.KEY=VALUE",
        "repeat",
        "set any configuration value, e.g. train.shuffle=false (repeatable)",
    ),
]


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


def _config_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration (override --config; see docs/cli.md)")
    for flag, _, metavar, kind, text in CONFIG_FLAGS:
        if kind == "bool":
            g.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        elif kind == "repeat":
            g.add_argument(flag, action="append", default=[], metavar=metavar, help=text)
        else:
            g.add_argument(flag, type=kind, metavar=metavar, help=text)


CHECKPOINT_HELP = "weights to use (default RUN_DIR/checkpoint.safetensors)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradfit",
        description="Fit models by gradient descent and backpropagation (gradfit, on NumPy).",
        epilog="Run 'gradfit COMMAND --help' for the options of a command.",
    )
    from gradfit import __version__

    parser.add_argument("--version", action="version", version=f"gradfit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser(
        "train",
        help="train a model and write a run folder",
        description="Train a model (an MLP, the course's 1-D CNNs, a character transformer "
        "or LSTM) on a data set; writes config.toml, metrics.jsonl, "
        "checkpoints and loss/accuracy plots to a run folder.",
        epilog=EXAMPLES_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _config_flags(t)
    r = t.add_argument_group("run folder")
    r.add_argument("--out", metavar="DIR", help="run folder (default runs/<name or time>)")
    r.add_argument("--name", metavar="NAME", help="run name, for the default folder runs/NAME")
    r.add_argument(
        "--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint"
    )
    r.add_argument(
        "--overwrite", action="store_true", help="replace the run files in an existing --out folder"
    )
    r.add_argument(
        "--allow-data-change",
        action="store_true",
        help="with --resume: continue even though the data file changed since the checkpoint",
    )
    r.add_argument(
        "--distributed",
        action="store_true",
        help="data-parallel over MPI: run as `mpiexec -n N gradfit train --distributed ...` "
        "(needs pip install 'gradfit[mpi]'); each rank trains on its shard of every batch",
    )
    _output_flags(t, tensorboard=True)
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser(
        "evaluate",
        help="loss, accuracy and confusion matrix of a trained run",
        description="Evaluate a run's model (default: on its validation data); prints the "
        "loss, the accuracy and the confusion matrix, and writes confusion_matrix.png and "
        "evaluation.json.",
    )
    e.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by gradfit train")
    e.add_argument("--data", metavar="NAME|FILE", help="evaluate on this data set instead")
    e.add_argument("--target", metavar="COLUMN", help="target column of a CSV")
    e.add_argument(
        "--split",
        choices=("val", "train"),
        default="val",
        help="which part of the run's own data (default val)",
    )
    e.add_argument("--checkpoint", metavar="FILE", help=CHECKPOINT_HELP)
    e.add_argument("--out", metavar="DIR", help="where to write the outputs (default RUN_DIR)")
    e.add_argument("--quiet", action="store_true", help="print nothing")
    e.set_defaults(func=_cmd_evaluate)

    s = sub.add_parser(
        "search",
        help="hyperparameter search with Optuna",
        description="Search hyperparameters of the training configuration with Optuna; "
        "prunes trials on the validation loss of each epoch (median pruner).",
        epilog=EXAMPLES_SEARCH,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _config_flags(s)
    sg = s.add_argument_group("search")
    sg.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=SPACE",
        help="a search dimension: lr=1e-4..1e-1:log, momentum=0.5..0.99, "
        "hidden_width=16..256 (integers), batch_size=32,64,128 (choices)",
    )
    sg.add_argument("--trials", type=int, metavar="N", help="trials to add (default 20)")
    sg.add_argument("--jobs", type=int, metavar="N", help="worker processes (default 1)")
    sg.add_argument("--sampler", metavar="NAME", help="tpe (default), random or grid")
    sg.add_argument("--pruner", metavar="NAME", help="median (default) or none")
    sg.add_argument(
        "--metric",
        metavar="NAME",
        help="objective: val_loss (default, minimised) or val_accuracy (maximised)",
    )
    sg.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage URL (default sqlite:///OUT/study.db); PostgreSQL or "
        "MySQL to search from many machines",
    )
    sg.add_argument("--study-name", metavar="NAME", help="study name (default gradfit)")
    sg.add_argument("--sampler-seed", type=int, metavar="N", help="seed of the sampler")
    sg.add_argument("--out", metavar="DIR", help="search folder (default runs/search)")
    _output_flags(s)
    s.set_defaults(func=_cmd_search)

    sp = sub.add_parser(
        "sample",
        help="write text with a trained character model",
        description="Continue a prompt with the character model of a run trained with "
        "gradfit train --model transformer (or lstm); prints the prompt and the new text.",
    )
    sp.add_argument("run_dir", metavar="RUN_DIR", help="a run folder of a text model")
    sp.add_argument(
        "--prompt", default="\n", metavar="TEXT", help="text to continue (default: a newline)"
    )
    sp.add_argument(
        "--tokens", type=int, default=200, metavar="N", help="characters to add (default 200)"
    )
    sp.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        metavar="T",
        help="divide the logits by T: below 1 safer, above 1 more varied (default 1)",
    )
    sp.add_argument(
        "--top-k", type=int, metavar="K", help="draw only from the K most likely characters"
    )
    sp.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the draws (default 0)"
    )
    sp.add_argument("--checkpoint", metavar="FILE", help=CHECKPOINT_HELP)
    sp.set_defaults(func=_cmd_sample)

    sub.add_parser(
        "lesson",
        help="copy a lesson notebook into the current folder (gradfit lesson --help)",
        add_help=False,
    )
    sub.add_parser(
        "figures", help="reproduce the lecture's figures (gradfit figures --help)", add_help=False
    )
    return parser


def _output_flags(p: argparse.ArgumentParser, tensorboard: bool = False) -> None:
    o = p.add_argument_group("output")
    if tensorboard:
        o.add_argument(
            "--tensorboard",
            action="store_true",
            help="log metrics, learning rate and per-layer gradient/activation statistics "
            "to RUN/tensorboard (needs pip install 'gradfit[tensorboard]')",
        )
    o.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show the progress bar (default: on a terminal)",
    )
    o.add_argument("--quiet", action="store_true", help="print only errors")
    o.add_argument(
        "--threads",
        type=_threads,
        default="auto",
        metavar="N",
        help="BLAS threads: auto (default: 1 for small networks, where it is "
        "fastest), or a number; results do not depend on it",
    )


def _threads(text: str):
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected auto or a positive integer, got {text!r}")
    return n


# --- flags -> configuration layer -----------------------------------------------------------


def flags_layer(args: argparse.Namespace) -> dict:
    """The configuration values given as flags, as one layer ``{section: {key: value}}``."""
    from gradfit import datasets
    from gradfit.train.config import parse_assignment, parse_value, parse_widths

    layer: dict[str, dict] = {}

    def put(section, key, value):
        layer.setdefault(section, {})[key] = value

    for flag, key, *_ in CONFIG_FLAGS:
        v = getattr(args, _dest(flag), None)
        if key is not None and v is not None:
            put(*key.split("."), v)
    if args.data is not None:
        from gradfit.train.data import STDLIB_TEXT

        name = args.data.lower().replace("_", "-")
        if name in datasets.BUILTIN or name == STDLIB_TEXT:
            put("data", "name", name)
            put("data", "path", "")
        elif args.data.startswith("text:"):
            # A text file or folder: a character model reads it (a transformer unless
            # --model says which).
            put("data", "path", args.data.removeprefix("text:"))
            if args.model is None:
                put("model", "kind", "transformer")
        else:
            put("data", "path", args.data)
    if args.val_split is not None:
        v = parse_value(args.val_split)
        put("data", "val_split", v)
    if args.hidden is not None:
        put("model", "hidden", parse_widths(args.hidden))
    for text in args.optimizer_arg:
        put("optimizer", *parse_assignment(text, "--optimizer-arg"))
    for text in args.scheduler_arg:
        put("scheduler", *parse_assignment(text, "--scheduler-arg"))
    for text in args.set:
        from gradfit.train import UsageError

        key, value = parse_assignment(text, "--set")
        if key.count(".") != 1:
            raise UsageError(
                f"--set {text!r}: expected SECTION.KEY=VALUE, e.g. optimizer.weight_decay=1e-4"
            )
        section, k = key.split(".")
        put(section, k, value)
    return layer


def resolve_config(args: argparse.Namespace) -> tuple[dict, dict]:
    """(validated configuration, raw config file) from ``--config`` and the flags."""
    from gradfit.train.config import config_from_layers, read_toml

    layers = []
    raw: dict = {}
    if args.config:
        raw = read_toml(args.config)
        layers.append((raw, args.config))
    layers.append((flags_layer(args), "the command line"))
    return config_from_layers(layers), raw


# --- commands -------------------------------------------------------------------------------


def _cmd_train(args: argparse.Namespace) -> int:
    from gradfit.train import UsageError, run

    if args.resume:
        given = given_config_flags(args)
        if given or args.config:
            bad = ", ".join(given + (["--config"] if args.config else []))
            raise UsageError(
                f"--resume continues {args.resume} with its saved config.toml; {bad} cannot "
                "change it (only --epochs can extend it; start a new run to change the rest)"
            )
        if args.out or args.overwrite or args.name:
            raise UsageError(
                "--resume writes into the run folder it continues; --out, --name "
                "and --overwrite do not apply"
            )
        run.resume(
            args.resume,
            epochs=args.epochs,
            allow_data_change=args.allow_data_change,
            **_output_options(args),
        )
        return 0
    if args.allow_data_change:
        raise UsageError("--allow-data-change applies to --resume only")
    cfg, _ = resolve_config(args)
    run.train(cfg, out=args.out, name=args.name, overwrite=args.overwrite, **_output_options(args))
    return 0


def _output_options(args: argparse.Namespace) -> dict:
    """The options that new and resumed runs share."""
    keys = ("progress", "quiet", "threads", "distributed", "tensorboard")
    return {k: getattr(args, k) for k in keys}


def given_config_flags(args: argparse.Namespace) -> list[str]:
    """The configuration flags given but --config and --epochs; those that set a key
    first, as ``flags_layer`` applies them."""
    keyed_first = sorted(CONFIG_FLAGS, key=lambda entry: entry[1] is None)
    return [
        flag
        for flag, *_ in keyed_first
        if flag not in ("--config", "--epochs")
        and getattr(args, _dest(flag), None) not in (None, [])
    ]


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from gradfit.train import run

    run.evaluate(
        args.run_dir,
        data=args.data,
        target=args.target,
        split=args.split,
        checkpoint=args.checkpoint,
        out=args.out,
        quiet=args.quiet,
    )
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from gradfit.train import search

    cfg, raw = resolve_config(args)
    search.search_command(cfg, raw, args)
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from gradfit.train.run import sample

    text = sample(
        args.run_dir,
        prompt=args.prompt,
        tokens=args.tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        seed=args.seed,
        checkpoint=args.checkpoint,
    )
    print(text)
    return 0


def _lesson(argv: list[str]) -> int:
    """``gradfit lesson``: ``gradfit.lecture.lesson.main`` (its own parser and messages)."""
    from gradfit.lecture.lesson import main as lesson_main

    try:
        return int(lesson_main(list(argv)) or 0)
    except SystemExit as e:  # its own --help or argument errors
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:
        return _broken_pipe()


def _figures(argv: list[str]) -> int:
    try:
        from gradfit.lecture import cli_main
    except ImportError as e:
        print(
            f"gradfit: error: the figures command needs gradfit.lecture.cli_main ({e})",
            file=sys.stderr,
        )
        return 1
    from gradfit.train import EXIT_OS, describe_os_error

    try:
        return int(cli_main(list(argv)) or 0)
    except SystemExit as e:  # its own --help or argument errors
        return e.code if isinstance(e.code, int) else 0
    except OSError as e:  # a read-only or impossible --out, as for the other commands
        _error(describe_os_error(e))
        return EXIT_OS


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "figures":
        return _figures(argv[1:])
    if argv and argv[0] == "lesson":
        return _lesson(argv[1:])
    from gradfit.train import EXIT_OS, DivergenceError, Interrupted, UsageError, describe_os_error

    command = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        if args.command is None:
            parser.print_help()
            return 0
        return int(args.func(args) or 0)
    except UsageError as e:
        _error(str(e))
        return _exit(e.exit_code)
    except DivergenceError as e:
        # Every rank sees the same (allreduced) loss, so all stop here together: no abort,
        # which would cut rank 0 short while it reports and keeps the last checkpoint.
        if not _quiet_rank():
            _error(str(e))
        return e.exit_code
    except KeyboardInterrupt as e:
        if _quiet_rank():
            return 130
        if isinstance(e, Interrupted):
            _error(
                "interrupted; the run continues from its last checkpoint with "
                f"gradfit train --resume {e.run_dir}"
            )
        elif command == "search":
            _error("interrupted; running the same gradfit search again continues the study")
        else:
            _error("interrupted")
        return 130
    except OSError as e:  # a read-only folder, a full disk, a path that is a file
        if isinstance(e, BrokenPipeError):
            return _broken_pipe()
        _error(describe_os_error(e))
        return _exit(EXIT_OS)
    except SystemExit as e:  # --help and --version
        return e.code if isinstance(e.code, int) else 0


def _broken_pipe() -> int:
    """`gradfit ... | head`: stop quietly, as Unix tools do."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


def _error(msg: str) -> None:
    one_line = " ".join(msg.split("\n"))
    print(f"gradfit: error: {one_line}", file=sys.stderr, flush=True)


def _exit(code: int) -> int:
    """Under MPI, a rank that stops with an error ends the whole job (MPI_Abort) rather
    than leaving the other ranks waiting in their next collective."""
    if code:
        from gradfit import distributed as dist

        if dist.get_world_size() > 1:
            dist.abort(code)
    return code


def _quiet_rank() -> bool:
    """MPI ranks other than 0 leave the messages to rank 0."""
    from gradfit import distributed as dist

    return not dist.is_main_process()


if __name__ == "__main__":
    sys.exit(main())
