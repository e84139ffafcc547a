"""Topics taught by example: what a user's explicit and folder topics teach, applied to the rest.

Every entry with explicit or folder topics is an example of them and a counter-example of the
other taught topics. Each topic with at least `min_examples` examples gets a linear model over
the TF-IDF of title and text (scikit-learn's, counted by `feeds.topics.terms`: sublinear term
frequencies, words and word pairs, IDF from every stored story), and a decision threshold
chosen from its own examples:

- up to `SVM_MIN_EXAMPLES` examples (or as many counter-examples): a centroid (Rocchio: the
  mean of the examples less a quarter of the mean of the counter-examples), scored by cosine,
  its threshold the one that gives the best F1 when each example is left out of the centroid
  in turn (leave-one-out) and the counter-examples are scored against it (with no
  counter-examples at all, the stories that are no example stand in for them);
- from then on a linear SVM (LinearSVC), its threshold the one that gives the best F1 over
  the decision values of 3-fold cross-validation.

The precision and recall at that threshold are kept with each topic (`seedfeed topics
--check`). A story is scored from the learned weights directly (`score_text`): scikit-learn's
per-call input checks cost ~20 times the arithmetic.

Pure: no I/O, no clock, no threads; the same examples and stories (sorted by key) give the same
model (fixed seeds), however the caller runs the jobs it is split into (`learn_and_file`'s
`fan_out`: here, or in processes of their own). scikit-learn is imported when a model is
learned, not before; numpy and SciPy when one is learned or used (reading and publishing
files without one needs neither).
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from feeds.topics.terms import TOKEN_PATTERN, FanOut, in_turn, tfidf, words

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from scipy.sparse import csr_matrix

    Vector = tuple[npt.NDArray[np.int32], npt.NDArray[np.float32]]
    Fit = tuple[npt.NDArray[np.float32], float, npt.NDArray[np.float64], npt.NDArray[np.bool_]]

log = logging.getLogger(__name__)

# Part of every model's key: a changed method learns again.
METHOD_VERSION = "1"
CENTROID = "centroid"
SVM = "svm"
# Topics with at least this many examples, and counter-examples, get an SVM.
SVM_MIN_EXAMPLES = 100
_ROCCHIO_BETA = 0.25
_FOLDS = 2
# A topic's threshold is at least the noise floor of the stories that are no example (when
# there are this many): their median score plus this many median absolute deviations.
_NOISE_MIN_STORIES = 20
_NOISE_MADS = 3.0
_FLOOR_RECALL_LOSS = 0.2
# A corpus of at least this many stories leaves out terms seen in one story only.
_MIN_DF_CORPUS = 50
# Learned weights smaller than this (in absolute value) are dropped: they move no score
# noticeably and would hold memory for every term an SVM saw.
_WEIGHT_FLOOR = 1e-4
NEAREST = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """A stored story that teaches: its key (the entry id), text, and the topics it is an
    example of (explicit and folder slugs)."""

    key: str
    title: str
    text: str
    topics: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicModel:
    """One learned topic: how many examples taught it, how, its threshold, and the precision
    and recall cross-validation on those examples gave at that threshold."""

    slug: str
    title: str
    examples: int
    method: str
    threshold: float
    precision: float
    recall: float


@dataclass(frozen=True, kw_only=True)
class Learned:
    """What the examples taught: the topics, their weights, and the examples themselves (as
    vectors, to name the nearest ones). `key` says which examples and settings made it."""

    key: str
    topics: tuple[TopicModel, ...]
    # Taught topics with fewer than `min_examples` examples: (slug, examples).
    thin: tuple[tuple[str, int], ...]
    # The fitted vectorizer's vocabulary (term -> feature), IDF per feature, and the pattern
    # of its words: what scoring a story needs of it, without importing scikit-learn.
    vocabulary: dict[str, int] | None = None
    idf: npt.NDArray[np.float32] | None = None
    token_pattern: str = ""
    # features x topics; a story's scores are its vector times these, plus `intercepts`.
    weights: csr_matrix | None = None
    intercepts: npt.NDArray[np.float32] | None = None
    example_keys: tuple[str, ...] = ()
    example_titles: tuple[str, ...] = ()
    example_vectors: csr_matrix | None = None
    # Per topic, the rows of `example_vectors` that are its examples.
    example_rows: tuple[tuple[int, ...], ...] = ()


def story_text(title: str, text: str) -> str:
    """What a model reads of a story: its title and its text."""
    return f"{title}\n{text}"


def examples_key(
    marks: Sequence[tuple[str, str, Sequence[str]]], *, min_examples: int, kept_out: Sequence[str]
) -> str:
    """Which examples (and settings) a model comes from, from each example's (key,
    fingerprint of its title and text, topics): a model is learned again only when this
    changes."""
    digest = hashlib.sha256()
    digest.update(repr((METHOD_VERSION, min_examples, sorted(kept_out))).encode())
    for key, fingerprint, topics in sorted(marks):
        digest.update(repr((key, fingerprint, sorted(topics))).encode("utf-8", "replace"))
    return digest.hexdigest()


Filed = dict[str, list[tuple[TopicModel, float]]]


def learn_and_file(
    examples: Sequence[Example],
    stories: Sequence[tuple[str, str]],
    *,
    titles: Mapping[str, str],
    min_examples: int,
    kept_out: Sequence[str] = (),
    key: str = "",
    fan_out: FanOut = in_turn,
    workers: int = 1,
) -> tuple[Learned, Filed]:
    """Learn every taught topic with at least `min_examples` examples and not `kept_out`; and
    say which learned topics each story passes, with its score (by key, stories that pass
    none left out: what `scored_topics` gives, worked out together).

    `stories` are (key, title + text) of every stored story, examples included: the IDF comes
    from them all, and those that are no example stand in for counter-examples of a topic
    that has none. `titles` gives each slug's title; `key` names the model (`examples_key`).
    The stories' terms are counted, and the topics fitted, in `workers` shares, each a job of
    `fan_out` (`in_turn`: one after the other, here); the model is the same however they run.
    """
    examples = sorted(examples, key=lambda e: e.key)
    counts = Counter(slug for example in examples for slug in set(example.topics))
    skipped = set(kept_out)
    taught = sorted(slug for slug, n in counts.items() if n >= min_examples and slug not in skipped)
    thin = tuple(sorted((s, n) for s, n in counts.items() if n < min_examples and s not in skipped))
    if not taught:
        return Learned(key=key, topics=(), thin=thin), {}
    import numpy as np
    from scipy.sparse import csr_matrix

    # Examples are stories too (when they come from the catalogue, they are among them).
    texts = dict(stories)
    for example in examples:
        texts.setdefault(example.key, story_text(example.title, example.text))
    stories = sorted(texts.items())
    weighted = tfidf(
        [text for _, text in stories],
        min_df=2 if len(stories) >= _MIN_DF_CORPUS else 1,
        fan_out=fan_out,
        workers=workers,
    )
    if weighted is None:  # no word of two letters or more in any story
        return Learned(key=key, topics=(), thin=thin), {}
    matrix, vocabulary, idf = weighted
    row_of = {k: i for i, (k, _) in enumerate(stories)}
    vectors = matrix[[row_of[e.key] for e in examples]]
    # What the SVMs are fitted on: liblinear takes float64 with sorted indices, and converts
    # (copies, sorts) whatever else it is given at every fit, 3 fits a topic.
    svm_vectors = vectors.astype(np.float64)
    svm_vectors.sort_indices()
    keys = {e.key for e in examples}
    others = [i for k, i in row_of.items() if k not in keys]
    bare = matrix[others] if others else None
    every = np.asarray(vectors.sum(axis=0), dtype=np.float64).ravel()
    members = [np.array([slug in e.topics for e in examples], dtype=bool) for slug in taught]
    # The topics are fitted in `workers` shares, one a job of `fan_out`: the SVMs (which take
    # longest) dealt out first, then the centroids.
    order = sorted(range(len(taught)), key=lambda i: not _uses_svm(members[i]))
    shares = [order[i::workers] for i in range(max(1, workers))]
    fit = partial(_fit_topics, svm_vectors, vectors, bare, every)
    done = fan_out([partial(fit, [members[i] for i in share]) for share in shares if share])
    by_topic = dict(zip(itertools.chain(*shares), itertools.chain(*done), strict=True))
    fits = [(member, by_topic[i]) for i, member in enumerate(members)]
    weights = _dense_weights([fit[0] for _, fit in fits])
    offsets = np.array([fit[1] for _, fit in fits], dtype=np.float32)
    # Every story's score of every topic, in one product: the noise floors below, and the
    # topics each story is filed under.
    story_scores = np.asarray(matrix @ weights, dtype=np.float32) + offsets
    models: list[TopicModel] = []
    for column, (slug, (member, (_, _, scores, labels))) in enumerate(
        zip(taught, fits, strict=True)
    ):
        threshold = _best_threshold(scores, labels)
        if len(others) >= _NOISE_MIN_STORIES:
            # Raised to the noise floor, but never so far that it loses more than
            # `_FLOOR_RECALL_LOSS` of the examples (held out).
            floor = _noise_floor(story_scores[others, column])
            cap = float(np.quantile(scores[labels], _FLOOR_RECALL_LOSS))
            threshold = max(threshold, min(floor, cap))
        precision, recall = _rates(scores, labels, threshold)
        models.append(
            TopicModel(
                slug=slug,
                title=titles.get(slug, slug),
                examples=int(member.sum()),
                method=SVM if _uses_svm(member) else CENTROID,
                threshold=threshold,
                precision=precision,
                recall=recall,
            )
        )
    learned = Learned(
        key=key,
        topics=tuple(models),
        thin=thin,
        vocabulary=vocabulary,
        idf=idf,
        token_pattern=TOKEN_PATTERN,
        weights=csr_matrix(weights),
        intercepts=offsets,
        example_keys=tuple(e.key for e in examples),
        example_titles=tuple(e.title for e in examples),
        example_vectors=vectors,
        example_rows=tuple(tuple(int(i) for i in np.flatnonzero(m)) for m, _ in fits),
    )
    thresholds = np.array([t.threshold for t in models], dtype=np.float32)
    filed: Filed = {}
    for row, column in zip(*np.nonzero(story_scores > thresholds), strict=True):
        score = float(story_scores[row, column])
        filed.setdefault(stories[row][0], []).append((models[column], score))
    return learned, filed


def load_library() -> None:
    """Import what learning uses (scikit-learn: a second or two): a process about to learn
    can do it beforehand."""
    import sklearn.feature_extraction.text
    import sklearn.model_selection
    import sklearn.svm  # noqa: F401


def _uses_svm(member: npt.NDArray[np.bool_]) -> bool:
    positives = int(member.sum())
    return positives >= SVM_MIN_EXAMPLES and len(member) - positives >= SVM_MIN_EXAMPLES


def _fit_topics(
    svm_vectors: csr_matrix,
    vectors: csr_matrix,
    bare: csr_matrix | None,
    every: npt.NDArray[np.float64],
    members: Sequence[npt.NDArray[np.bool_]],
) -> list[Fit]:
    """Each topic's fit, from its examples (`members`, a mask of the examples each): an SVM
    or a centroid."""
    return [
        _fit_svm(svm_vectors, member)
        if _uses_svm(member)
        else _fit_centroid(vectors, member, bare, every)
        for member in members
    ]


def _fit_svm(vectors: csr_matrix, member: npt.NDArray[np.bool_]) -> Fit:
    """One topic's LinearSVC: its weights and intercept, with the held-out scores and labels
    its threshold is chosen from."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    model = LinearSVC(C=1.0, tol=1e-3, random_state=0)
    folds = StratifiedKFold(_FOLDS, shuffle=True, random_state=0)
    held_out = cross_val_predict(model, vectors, member, cv=folds, method="decision_function")
    model.fit(vectors, member)
    weights = np.asarray(model.coef_, dtype=np.float32).ravel()
    return weights, float(model.intercept_[0]), np.asarray(held_out, dtype=np.float64), member


def _fit_centroid(
    vectors: csr_matrix,
    member: npt.NDArray[np.bool_],
    bare: csr_matrix | None,
    every: npt.NDArray[np.float64],
) -> Fit:
    """One topic's centroid, as `_fit_svm` gives an SVM (`every`: the sum of all the
    examples' vectors)."""
    import numpy as np

    positives = vectors[member]
    n = positives.shape[0]
    total = np.asarray(positives.sum(axis=0), dtype=np.float64).ravel()
    counted = len(member) - n
    standing_in = counted == 0 and bare is not None and bare.shape[0] > 0
    if standing_in:  # no counter-examples: the other stories stand in for them
        assert bare is not None
        away = _ROCCHIO_BETA * np.asarray(bare.mean(axis=0), dtype=np.float64).ravel()
    elif counted:
        # The counter-examples' mean without copying their rows: all examples' sum less
        # these examples' own.
        away = _ROCCHIO_BETA * (every - total) / counted
    else:
        away = np.zeros_like(total)
    centroid = total / n - away
    weights = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
    # Leave-one-out: each example against the centroid of the others, in closed form.
    # (Rows are unit vectors: x.x = 1.)
    rest = total / (n - 1) - away if n > 1 else total - away
    dot_rest = positives @ rest
    dot_self = np.ones(n) / (n - 1) if n > 1 else np.zeros(n)
    held_dot = dot_rest - dot_self
    norm2 = float(rest @ rest) - 2 * dot_rest / max(n - 1, 1) + dot_self / max(n - 1, 1)
    held_out = held_dot / np.sqrt(np.maximum(norm2, 1e-24))
    counter_scores = np.asarray(
        bare @ weights if standing_in else (vectors @ weights)[~member], dtype=np.float64
    ).ravel()
    scores = np.concatenate([held_out, counter_scores])
    labels = np.concatenate([np.ones(n, dtype=bool), np.zeros(len(counter_scores), dtype=bool)])
    return weights.astype(np.float32), 0.0, scores, labels


def _best_threshold(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> float:
    """The threshold with the best F1 over held-out `scores`, halfway to the next lower score."""
    import numpy as np

    order = np.lexsort((~labels, -scores))  # highest first; at a tie, examples first
    ranked, hits = scores[order], labels[order]
    true_pos = np.cumsum(hits)
    false_pos = np.cumsum(~hits)
    f1 = 2 * true_pos / (true_pos + false_pos + int(hits.sum()))
    best = int(np.argmax(f1))
    below = float(ranked[best + 1]) if best + 1 < len(ranked) else float(ranked[best]) - 0.05
    return (float(ranked[best]) + below) / 2


def _noise_floor(scores: npt.NDArray[np.float32]) -> float:
    """A score the stories that are no example reach only when they stand out from the bulk
    of them: their median plus `_NOISE_MADS` times the median absolute deviation. Examples
    are few, and say little of what an unrelated story scores; the stories do (a topic is
    rarely most of them)."""
    import numpy as np

    median = float(np.median(scores))
    spread = float(np.median(np.abs(scores - median)))
    return median + _NOISE_MADS * spread


def _rates(
    scores: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_], threshold: float
) -> tuple[float, float]:
    """Precision and recall of `threshold` over held-out scores."""
    said = scores > threshold
    true_pos = int((said & labels).sum())
    return true_pos / max(int(said.sum()), 1), true_pos / max(int(labels.sum()), 1)


def _dense_weights(rows: Sequence[npt.NDArray[np.float32]]) -> npt.NDArray[np.float32]:
    """The topics' weights side by side (features x topics), those under `_WEIGHT_FLOOR`
    dropped."""
    import numpy as np

    dense = np.vstack(rows).T.copy()
    dense[np.abs(dense) < _WEIGHT_FLOOR] = 0
    return dense


# ---------------------------------------------------------------------------- scoring


def vectorize(learned: Learned, title: str, text: str) -> Vector:
    """A story's TF-IDF vector (feature indexes, values), as the model's vectorizer gives it:
    sublinear term counts, times the IDF, to unit length."""
    import numpy as np

    vocabulary, idf = learned.vocabulary, learned.idf
    if vocabulary is None or idf is None:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32)
    counts = Counter(
        index
        for term in words(learned.token_pattern, story_text(title, text))
        if (index := vocabulary.get(term)) is not None
    )
    indexes = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
    tf = np.fromiter((1 + math.log(c) for c in counts.values()), np.float32, len(counts))
    values = tf * idf[indexes]
    norm = float(np.linalg.norm(values))
    return indexes, values / norm if norm else values


def without_examples(learned: Learned) -> Learned:
    """`learned` without the examples' vectors and titles: what tagging needs (naming the
    nearest examples does not), in less memory."""
    return replace(
        learned, example_keys=(), example_titles=(), example_vectors=None, example_rows=()
    )


def score_vector(learned: Learned, vector: Vector) -> npt.NDArray[np.float32]:
    """Every learned topic's score of a story's vector (in `learned.topics` order)."""
    import numpy as np

    if learned.weights is None or learned.intercepts is None:
        return np.zeros(0, dtype=np.float32)
    indexes, values = vector
    scores = learned.weights[indexes].T @ values
    return np.asarray(scores, dtype=np.float32).ravel() + learned.intercepts


def scored_topics(
    learned: Learned, title: str, text: str, *, taken: frozenset[str] = frozenset()
) -> list[tuple[TopicModel, float]]:
    """The learned topics a story passes the threshold of, with its score, except `taken`
    (topics it has from its header, folder or taxonomy: those are never overridden)."""
    if not learned.topics:
        return []
    scores = score_vector(learned, vectorize(learned, title, text))
    return [
        (topic, float(score))
        for topic, score in zip(learned.topics, scores, strict=True)
        if score > topic.threshold and topic.slug not in taken
    ]


def nearest_examples(
    learned: Learned, vector: Vector, slug: str, *, count: int = NEAREST
) -> list[tuple[str, float]]:
    """The `count` examples of topic `slug` most like a story (title, cosine similarity)."""
    import numpy as np

    index = next((i for i, t in enumerate(learned.topics) if t.slug == slug), None)
    if index is None or learned.example_vectors is None:
        return []
    rows = np.array(learned.example_rows[index], dtype=np.int64)
    indexes, values = vector
    similar = np.asarray(learned.example_vectors[rows][:, indexes] @ values).ravel()
    order = np.lexsort((rows, -similar))[:count]
    return [(learned.example_titles[rows[i]], float(similar[i])) for i in order]
