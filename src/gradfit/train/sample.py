"""``gradfit sample``: text from a run of a character model (``--model transformer`` or
``lstm``).

The vocabulary is the one the run was trained with (saved in its checkpoint); the prompt is
encoded with it, and ``gradfit.models_text.generate`` appends ``tokens`` characters, each
drawn from softmax(logits / temperature) over the ``top_k`` most likely, with a generator
seeded by ``seed``: the same run, prompt and seed give the same text.
"""

from __future__ import annotations

from pathlib import Path

from gradfit.train import builders
from gradfit.train.errors import UsageError


def sample(
    run_dir: str | Path,
    prompt: str = "\n",
    tokens: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    checkpoint: str | None = None,
) -> str:
    """The prompt followed by ``tokens`` sampled characters."""
    import gradfit
    from gradfit.models_text import generate
    from gradfit.train.run import load_run_config, run_weights, trained_model

    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    kind = cfg["model"]["kind"]
    if not builders.MODELS[kind].text:
        raise UsageError(
            f"run {run_dir} trained a {kind!r} model; gradfit sample needs a text model "
            "(gradfit train --model transformer or lstm)"
        )
    if tokens < 1:
        raise UsageError(f"--tokens {tokens}: expected a positive number of characters")
    if not temperature > 0:
        raise UsageError(f"--temperature {temperature}: expected a positive number")
    if top_k is not None and top_k < 1:
        raise UsageError(f"--top-k {top_k}: expected a positive integer")
    if not prompt:
        raise UsageError("--prompt '': expected at least one character to start from")
    path, weights, state = run_weights(run_dir, checkpoint)
    vocab = [str(c) for c in state.get("classes", [])]
    if not vocab:  # plain weights: the vocabulary comes from the run's text
        from gradfit.train.data import prepare

        vocab = prepare(cfg).classes
    index = {c: i for i, c in enumerate(vocab)}
    unknown = sorted({c for c in prompt if c not in index})
    if unknown:
        raise UsageError(
            f"--prompt has characters the run's vocabulary lacks: "
            f"{', '.join(repr(c) for c in unknown[:10])} (the text of run {run_dir} has "
            f"{len(vocab)} distinct characters)"
        )
    model = trained_model(cfg, cfg["model"]["block_size"], len(vocab), weights, path)
    gen = gradfit.Generator()
    gen.manual_seed(seed)
    idx = gradfit.tensor([[index[c] for c in prompt]], dtype=gradfit.int64)
    out = generate(model.lm, idx, tokens, temperature=temperature, top_k=top_k, generator=gen)
    return "".join(vocab[i] for i in out[0].tolist())
