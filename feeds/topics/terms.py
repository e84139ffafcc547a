"""The terms of stories and their TF-IDF, exactly as scikit-learn's `TfidfVectorizer` gives
them (lowercase words of two letters or more and each pair of words side by side, sublinear
term frequencies, smooth IDF, rows to unit length), counted in less time, and in parts.

The vectorizer counts a story's terms one at a time in Python; here a story's terms are
counted at once (`Counter`), and the stories can be counted in parts (`count_terms`, one part
a process) and the counts joined (`tfidf`): a term's column, and the order of a row's
terms, come out as the vectorizer's (columns in the order of the terms' names; in a row,
the terms in the order the corpus first used them), so the matrix is the same, value for
value.

Pure: no I/O, no clock, no threads. numpy, SciPy and scikit-learn are imported when a matrix
is made.
"""

from __future__ import annotations

import itertools
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from scipy.sparse import csr_matrix

# scikit-learn's default: words of two letters or more.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# Stories are counted in parts of at least this many characters (smaller ones are not worth
# a process of their own).
MIN_PART_CHARS = 2_000_000

T = TypeVar("T")


class FanOut(Protocol):
    """How jobs are run: each job's result, in the jobs' order."""

    def __call__(self, jobs: Sequence[Callable[[], T]], /) -> list[T]: ...


def in_turn(jobs: Sequence[Callable[[], T]], /) -> list[T]:
    """The jobs run one after the other, here."""
    return [job() for job in jobs]


def words(token_pattern: str, text: str) -> list[str]:
    """The terms the vectorizer sees in `text` (its default analyzer: lowercase, its token
    pattern, then each word and each pair of words side by side), in their order."""
    found = _pattern(token_pattern).findall(text.lower())
    return [*found, *map(" ".join, itertools.pairwise(found))]


@lru_cache(maxsize=4)
def _pattern(token_pattern: str) -> re.Pattern[str]:
    return re.compile(token_pattern)


@dataclass(frozen=True, slots=True)
class Counted:
    """Some stories' term counts: their terms in the order the stories first use them, and
    per story (row), each term it uses (its place in `terms`, in the order the story first
    uses it) and how often."""

    terms: list[str]
    columns: array[int]
    counts: array[int]
    row_ends: array[int]


def count_terms(texts: Sequence[str], token_pattern: str = TOKEN_PATTERN) -> Counted:
    """The term counts of `texts`."""
    ids: defaultdict[str, int] = defaultdict()
    ids.default_factory = ids.__len__  # a new term gets the next id
    columns, counts, row_ends = array("i"), array("i"), array("q")
    for text in texts:
        counted = Counter(words(token_pattern, text))
        columns.extend(map(ids.__getitem__, counted))
        counts.extend(counted.values())
        row_ends.append(len(columns))
    return Counted(list(ids), columns, counts, row_ends)


def parts(texts: Sequence[str], most: int, *, least: int = MIN_PART_CHARS) -> list[Sequence[str]]:
    """`texts` cut into at most `most` runs of about as many characters each, in order: as
    many as leave each `least` characters or more, on average (one at least)."""
    total = sum(map(len, texts))
    n = max(1, min(most, total // max(least, 1)))
    cuts, seen = [0], 0
    for i, text in enumerate(texts):
        seen += len(text)
        if len(cuts) < n and seen >= total * len(cuts) / n:
            cuts.append(i + 1)
    cuts.append(len(texts))
    return [texts[a:b] for a, b in itertools.pairwise(cuts) if b > a]


def tfidf(
    texts: Sequence[str],
    *,
    min_df: int,
    fan_out: FanOut = in_turn,
    workers: int = 1,
    least: int = MIN_PART_CHARS,
) -> tuple[csr_matrix, dict[str, int], npt.NDArray[np.float32]] | None:
    """`texts`' TF-IDF matrix (float32, a row per text), the vocabulary (term -> column) and
    IDF per column, of the terms in at least `min_df` texts: what `TfidfVectorizer(
    sublinear_tf=True, ngram_range=(1, 2), min_df=min_df, dtype=np.float32)` gives. The
    texts are counted in up to `workers` parts of at least `least` characters, each a job of
    `fan_out` (which runs them, in processes of their own or not). None when no text has a
    term used often enough."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfTransformer

    if not texts:
        return None
    counted = fan_out([partial(count_terms, part) for part in parts(texts, workers, least=least)])
    # Each later part's term ids to the corpus's: the order the corpus first uses its terms
    # (the first part's are already).
    terms = counted[0].terms
    ids = dict(zip(terms, range(len(terms)), strict=True)) if len(counted) > 1 else {}
    columns = [np.frombuffer(counted[0].columns, dtype=np.intc).astype(np.int64)]
    ends = [np.zeros(1, dtype=np.int64), np.frombuffer(counted[0].row_ends, dtype=np.int64)]
    for part in counted[1:]:
        to_corpus = np.fromiter(
            (ids.setdefault(term, len(ids)) for term in part.terms), np.int64, len(part.terms)
        )
        columns.append(to_corpus[np.frombuffer(part.columns, dtype=np.intc)])
        ends.append(np.frombuffer(part.row_ends, dtype=np.int64) + ends[-1][-1])
    terms = list(ids) if ids else terms
    if not terms:
        return None
    first_used = np.concatenate(columns)
    row_ends = np.concatenate(ends)
    counts = np.concatenate([np.frombuffer(p.counts, dtype=np.intc) for p in counted])
    matrix = csr_matrix(
        (counts, first_used.astype(np.int32), row_ends.astype(np.int32)),
        shape=(len(row_ends) - 1, len(terms)),
        dtype=np.float32,
    )
    matrix.sort_indices()  # a row's terms in the order the corpus first uses them
    # Terms in fewer than `min_df` texts go; the others are numbered by name.
    kept = np.bincount(matrix.indices, minlength=len(terms)) >= min_df
    kept_terms = list(itertools.compress(terms, kept.tolist()))
    if not kept_terms:
        return None
    vocabulary = {term: i for i, term in enumerate(sorted(kept_terms))}
    column_of = np.full(len(terms), -1, dtype=np.int32)
    column_of[kept] = np.fromiter(map(vocabulary.__getitem__, kept_terms), np.int32)
    keep = kept[matrix.indices]
    row_ends = np.concatenate([[0], np.cumsum(keep)])[matrix.indptr].astype(np.int32)
    counts_kept = csr_matrix(
        (matrix.data[keep], column_of[matrix.indices[keep]], row_ends),
        shape=(matrix.shape[0], len(vocabulary)),
    )
    transformer = TfidfTransformer(sublinear_tf=True)
    transformer.fit(counts_kept)
    weighted = csr_matrix(transformer.transform(counts_kept, copy=False))
    return weighted, vocabulary, transformer.idf_.astype(np.float32)
