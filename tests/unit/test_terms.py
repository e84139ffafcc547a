"""Stories' terms and TF-IDF (feeds/topics/terms.py): scikit-learn's, value for value, however
the stories are counted."""

from __future__ import annotations

import random

import numpy as np
import pytest

from feeds.topics.terms import count_terms, parts, tfidf, words
from feeds.workers import run_forked

WORDS = " ".join(
    (
        "rain storm Storm forecast wind flood drought snow telescope galaxy orbit comet planet",
        "recipe oven flour butter simmer chef kitchen sauce Ünïcode d'été naïve café",
        "1987 u.s. mln dlrs a I x2 co-op e-mail",
    )
).split()


def corpus(n: int, seed: int = 0) -> list[str]:
    """`n` made-up texts: words of a small pool (so that terms repeat within and across
    texts, and some are in one text only), punctuation, capitals, accents and digits; and a
    few texts with no term at all."""
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        if i % 17 == 5:
            texts.append(["", "a I ! ?", "- x -"][i % 3])
            continue
        length = rng.randint(1, 60)
        chosen = [rng.choice(WORDS) for _ in range(length)] + [f"rare{i}"]
        rng.shuffle(chosen)
        texts.append(" ".join(w + rng.choice(["", "", ",", ".", "\n"]) for w in chosen))
    return texts


def vectorizer_of(texts: list[str], min_df: int):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        sublinear_tf=True, ngram_range=(1, 2), min_df=min_df, dtype=np.float32
    )
    return vectorizer, vectorizer.fit_transform(texts).tocsr()


@pytest.mark.parametrize("min_df", [1, 2, 3])
@pytest.mark.parametrize("workers", [1, 2, 5])
def test_the_tfidf_is_scikit_learns_value_for_value_in_one_part_or_several(
    min_df: int, workers: int
) -> None:
    """Same vocabulary, IDF and matrix, down to the order of each row's values (the order
    its length is summed in): the model learned from it is the same to the last bit."""
    texts = corpus(300)
    expected_vectorizer, expected = vectorizer_of(texts, min_df)
    made = tfidf(texts, min_df=min_df, workers=workers, least=1)
    assert made is not None
    matrix, vocabulary, idf = made
    assert vocabulary == expected_vectorizer.vocabulary_
    assert np.array_equal(idf, expected_vectorizer.idf_.astype(np.float32))
    assert matrix.dtype == expected.dtype and matrix.shape == expected.shape
    assert np.array_equal(matrix.indptr, expected.indptr)
    assert np.array_equal(matrix.indices, expected.indices)
    assert np.array_equal(matrix.data, expected.data)


def test_parts_run_in_forked_processes_give_the_same_matrix() -> None:
    texts = corpus(300, seed=1)
    alone = tfidf(texts, min_df=2)
    forked = tfidf(texts, min_df=2, fan_out=run_forked, workers=3, least=1)
    assert alone is not None and forked is not None
    assert alone[1] == forked[1]
    assert (alone[0] != forked[0]).nnz == 0
    assert np.array_equal(alone[0].indices, forked[0].indices)


def test_stories_without_terms_give_no_matrix() -> None:
    assert tfidf([], min_df=1) is None
    assert tfidf(["a", "! ?", ""], min_df=1) is None
    assert tfidf(["one story", "another text"], min_df=2) is None  # no term in two


def test_parts_keep_the_order_and_share_the_characters() -> None:
    texts = [f"{i:03} " + "x" * (i % 7 * 10) for i in range(100)]
    cut = parts(texts, 3, least=1)
    assert len(cut) == 3
    assert [t for part in cut for t in part] == texts
    sizes = [sum(map(len, part)) for part in cut]
    assert max(sizes) - min(sizes) <= 2 * max(map(len, texts))
    assert parts(texts, 3, least=10**9) == [texts]  # too small to be worth cutting


def test_a_story_counts_each_term_once_in_the_order_it_first_uses_it() -> None:
    counted = count_terms(["Rain, rain and storm", "storm rain wind"])
    assert words(r"(?u)\b\w\w+\b", "Rain, rain and storm") == [
        "rain",
        "rain",
        "and",
        "storm",
        "rain rain",
        "rain and",
        "and storm",
    ]
    assert counted.terms[:3] == ["rain", "and", "storm"]
    first = dict(zip(counted.columns[:6], counted.counts[:6], strict=True))
    assert {counted.terms[c]: n for c, n in first.items()} == {
        "rain": 2,
        "and": 1,
        "storm": 1,
        "rain rain": 1,
        "rain and": 1,
        "and storm": 1,
    }
    assert list(counted.row_ends) == [6, 11]
