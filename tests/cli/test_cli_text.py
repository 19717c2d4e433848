"""``trendcast sentiment`` keeps every input column as it was and writes its own next to them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from trendcast.cli import main
from trendcast.cli.text import output_columns


def test_output_columns_suffix_on_clash() -> None:
    assert output_columns(["id", "text"]) == {"lang": "lang", "label": "label", "score": "score"}
    names = output_columns(["text", "label", "label_sentiment", "score"])
    assert names == {"lang": "lang", "label": "label_sentiment2", "score": "score_sentiment"}


def test_sentiment_keeps_the_input_label_column(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    given = pd.DataFrame({"text": ["质量很好，非常喜欢", "太差了，用了一天就坏了"],
                          "label": ["my-own-1", "my-own-2"], "score": [10, 20]})
    given.to_csv(src, index=False)
    dst = tmp_path / "out.csv"
    assert main(["sentiment", "--in", str(src), "--out", str(dst), "--model", "fast"]) == 0
    out = pd.read_csv(dst)
    assert list(out["label"]) == ["my-own-1", "my-own-2"] and list(out["score"]) == [10, 20]
    assert list(out["label_sentiment"]) == ["positive", "negative"]
    assert out["score_sentiment"].between(-1, 1).all() and "lang" in out.columns
