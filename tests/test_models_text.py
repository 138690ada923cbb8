"""The character-data helper and the text models that the CLI and the notebook build on."""

import numpy as np
import pytest

import gradfit
from gradfit.datasets.text import CharText, load_text, stdlib_text
from gradfit.models_text import build_text_model, generate


def test_stdlib_text_and_char_batches(tmp_path):
    text = stdlib_text(5000)
    assert len(text) == 5000 and "def " in text
    data = CharText(text)
    assert data.decode(data.encode(text[:200])) == text[:200]
    assert len(data.train) == 4500 and data.vocab == sorted(set(text))
    gradfit.manual_seed(0)
    x, y = data.batch("train", 4, 16)
    assert x.shape == y.shape == (4, 16) and x.dtype == np.int64
    np.testing.assert_array_equal(x.numpy()[:, 1:], y.numpy()[:, :-1])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        data.encode("\x00")
    with pytest.raises(ValueError, match="block_size"):
        data.batch("val", 2, 600)
    (tmp_path / "a.txt").write_text("hello ")
    (tmp_path / "b.txt").write_text("world")
    assert load_text(tmp_path) == "hello world"


@pytest.mark.parametrize("kind", ["transformer", "lstm"])
def test_text_models_train_and_sample(kind):
    data = CharText(stdlib_text(20000))
    gradfit.manual_seed(0)
    cfg = {"block_size": 16, "n_layer": 1, "n_head": 2, "n_embd": 16}
    if kind == "lstm":
        cfg = {"block_size": 16, "n_embd": 16, "hidden_size": 32, "num_layers": 1}
    model = build_text_model(kind, data.vocab_size, **cfg)
    opt = gradfit.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        x, y = data.batch("train", 8, 16)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] == pytest.approx(np.log(data.vocab_size), rel=0.1)
    assert np.mean(losses[-3:]) < losses[0] - 0.5
    gradfit.manual_seed(1)
    out = generate(model, gradfit.tensor([data.encode("def ")] * 2), 30, temperature=0.8, top_k=5)
    assert out.shape == (2, 34) and out.numpy().max() < data.vocab_size
    gradfit.manual_seed(1)
    again = generate(model, gradfit.tensor([data.encode("def ")] * 2), 30, 0.8, 5)
    np.testing.assert_array_equal(out.numpy(), again.numpy())
    with pytest.raises(ValueError, match="unknown kind"):
        build_text_model("cnn", 3)
