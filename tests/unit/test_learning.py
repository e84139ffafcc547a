"""Learning topics from examples (feeds/topics/learning.py), with plain values."""

from __future__ import annotations

import pickle
import random
from typing import Any

import numpy as np
import pytest

from feeds.topics.learning import (
    CENTROID,
    SVM,
    SVM_MIN_EXAMPLES,
    Example,
    Learned,
    examples_key,
    learn_and_file,
    nearest_examples,
    score_vector,
    scored_topics,
    story_text,
    vectorize,
)

VOCABULARY = {
    "astronomy": "telescope galaxy orbit comet planet observatory nebula astronomers eclipse star",
    "cooking": "recipe oven flour butter simmer chef kitchen sauce roast garlic",
    "football": "striker goal league referee midfield penalty keeper stadium coach match",
    "weather": "rain storm forecast wind temperature flood drought snow humidity cloud",
}
COMMON = "the city council said on monday that people were told more would follow this year"


def story(topic: str | None, seed: int, *, words: int = 40) -> tuple[str, str]:
    """A made-up clipping: common words, and words of `topic` (None: of no topic)."""
    rng = random.Random(f"{topic}-{seed}")
    own = VOCABULARY[topic].split() if topic else []
    pool = COMMON.split()
    text = " ".join(
        rng.choice(own) if own and rng.random() < 0.35 else rng.choice(pool) for _ in range(words)
    )
    title_words = [rng.choice(own or pool) for _ in range(3)] + [rng.choice(pool)]
    return " ".join(title_words).capitalize(), text + "."


def learn(*args: Any, **kwargs: Any) -> Learned:
    """The model alone."""
    return learn_and_file(*args, **kwargs)[0]


def examples_of(counts: dict[str, int], *, start: int = 0) -> list[Example]:
    found = []
    for topic, count in counts.items():
        for i in range(start, start + count):
            title, text = story(topic, i)
            found.append(Example(key=f"{topic}-{i:03}", title=title, text=text, topics=(topic,)))
    return found


def stories_of(examples: list[Example], others: int = 30) -> list[tuple[str, str]]:
    """Every story: the examples, stories of the other topics (not taught) and of none."""
    stories = [(e.key, story_text(e.title, e.text)) for e in examples]
    for i in range(others):
        title, text = story(None if i % 2 else "weather", 1000 + i)
        stories.append((f"other-{i:03}", story_text(title, text)))
    return stories


def test_a_story_gets_the_topic_its_words_teach_and_no_other() -> None:
    examples = examples_of({"astronomy": 5, "cooking": 5, "football": 5})
    learned = learn(examples, stories_of(examples), titles={"cooking": "Cooking"}, min_examples=5)
    assert [(t.slug, t.method) for t in learned.topics] == [
        ("astronomy", CENTROID),
        ("cooking", CENTROID),
        ("football", CENTROID),
    ]
    assert learned.topics[1].title == "Cooking"
    for topic in ("astronomy", "cooking", "football"):
        for seed in range(100, 110):
            title, text = story(topic, seed)
            assert [t.slug for t, _ in scored_topics(learned, title, text)] == [topic]
    untaught = [story(None, seed) for seed in range(200, 210)]
    assert all(scored_topics(learned, title, text) == [] for title, text in untaught)


def test_one_taught_topic_alone_is_told_apart_from_the_other_stories() -> None:
    """With no counter-examples, the stories that are no example stand in for them."""
    examples = examples_of({"cooking": 5})
    learned = learn(examples, stories_of(examples, others=40), titles={}, min_examples=5)
    assert [t.slug for t in learned.topics] == ["cooking"]
    assert scored_topics(learned, *story("cooking", 300))
    assert not scored_topics(learned, *story("football", 300))


def test_topics_with_too_few_examples_or_kept_out_are_not_learned() -> None:
    examples = examples_of({"astronomy": 5, "cooking": 4, "football": 6})
    learned = learn(
        examples, stories_of(examples), titles={}, min_examples=5, kept_out=("football",)
    )
    assert [t.slug for t in learned.topics] == ["astronomy"]
    assert learned.thin == (("cooking", 4),)


def test_nothing_to_learn_gives_a_model_without_topics() -> None:
    learned = learn(examples_of({"cooking": 2}), [], titles={}, min_examples=5)
    assert learned.topics == () and learned.vocabulary is None
    assert scored_topics(learned, "Roast garlic", "A recipe.") == []


def test_a_topic_the_story_has_already_is_not_given_again() -> None:
    examples = examples_of({"astronomy": 5, "cooking": 5})
    learned = learn(examples, stories_of(examples), titles={}, min_examples=5)
    title, text = story("cooking", 400)
    assert scored_topics(learned, title, text, taken=frozenset({"cooking"})) == []


def test_many_examples_get_an_svm_with_a_threshold_from_cross_validation() -> None:
    many = SVM_MIN_EXAMPLES + 5
    examples = examples_of({"astronomy": many, "weather": many, "football": 6})
    learned = learn(examples, stories_of(examples), titles={}, min_examples=5)
    methods = {t.slug: t.method for t in learned.topics}
    assert methods == {"astronomy": SVM, "football": CENTROID, "weather": SVM}
    for topic in learned.topics:
        assert 0.8 <= topic.precision <= 1 and 0.8 <= topic.recall <= 1
    assert [t.slug for t, _ in scored_topics(learned, *story("weather", 500))] == ["weather"]


def test_scores_from_the_weights_are_scikit_learns_own() -> None:
    """The fast path (vectorize, score_vector: the kept vocabulary, IDF and token pattern,
    without scikit-learn) gives what the fitted vectorizer and the weights give through
    scikit-learn's API."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    many = SVM_MIN_EXAMPLES + 5
    examples = examples_of({"astronomy": many, "weather": many, "cooking": 5})
    stories = stories_of(examples)
    learned = learn(examples, stories, titles={}, min_examples=5)
    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    vectorizer.fit([text for _, text in sorted(stories)])
    assert learned.vocabulary == vectorizer.vocabulary_
    assert learned.weights is not None and learned.intercepts is not None
    for seed in range(600, 610):
        title, text = story("astronomy" if seed % 2 else "cooking", seed)
        expected = vectorizer.transform([story_text(f"{title} Ünïcode, d'été", text)])
        indexes, values = vectorize(learned, f"{title} Ünïcode, d'été", text)
        got = np.zeros(expected.shape[1], dtype=np.float32)
        got[indexes] = values
        np.testing.assert_allclose(got, expected.toarray().ravel(), atol=1e-6)
        scores = (expected @ learned.weights).toarray().ravel() + learned.intercepts
        np.testing.assert_allclose(score_vector(learned, (indexes, values)), scores, atol=1e-5)


def test_the_same_examples_give_the_same_model_whatever_their_order() -> None:
    many = SVM_MIN_EXAMPLES + 2
    examples = examples_of({"astronomy": many, "weather": many, "cooking": 5})
    stories = stories_of(examples)
    first = learn(examples, stories, titles={}, min_examples=5)
    second = learn(examples[::-1], stories[::-1], titles={}, min_examples=5)
    assert first.topics == second.topics
    assert first.weights is not None and second.weights is not None
    assert (first.weights != second.weights).nnz == 0
    assert pickle.dumps(first.topics) == pickle.dumps(second.topics)


def test_the_model_is_the_same_whether_its_topics_are_fitted_in_one_process_or_several() -> None:
    """The SVMs and centroids fitted in forked processes (liblinear's random generator is
    one per process), the terms counted in parts: the same weights, thresholds and filed
    stories, to the last bit."""
    from feeds.workers import run_forked

    many = SVM_MIN_EXAMPLES + 3
    examples = examples_of({"astronomy": many, "weather": many, "football": many, "cooking": 6})
    stories = stories_of(examples, others=40)
    alone, filed_alone = learn_and_file(examples, stories, titles={}, min_examples=5)
    forked, filed_forked = learn_and_file(
        examples, stories, titles={}, min_examples=5, fan_out=run_forked, workers=2
    )
    assert [t.method for t in forked.topics].count(SVM) == 3
    assert forked.topics == alone.topics
    assert forked.weights is not None and alone.weights is not None
    assert np.array_equal(forked.weights.toarray(), alone.weights.toarray())
    assert forked.intercepts is not None and alone.intercepts is not None
    assert np.array_equal(forked.intercepts, alone.intercepts)
    assert forked.example_rows == alone.example_rows
    assert filed_forked == filed_alone


def test_the_key_moves_with_the_examples_and_the_settings() -> None:
    marks = [("a", "f1", ("astronomy",)), ("b", "f2", ("astronomy", "cooking"))]
    key = examples_key(marks, min_examples=5, kept_out=())
    assert examples_key(marks[::-1], min_examples=5, kept_out=()) == key
    assert (
        examples_key([("b", "f2", ("cooking", "astronomy")), marks[0]], min_examples=5, kept_out=())
        == key
    )
    assert examples_key([marks[0], ("b", "f3", ("astronomy",))], min_examples=5, kept_out=()) != key
    assert examples_key(marks[:1], min_examples=5, kept_out=()) != key
    assert examples_key(marks, min_examples=6, kept_out=()) != key
    assert examples_key(marks, min_examples=5, kept_out=("astronomy",)) != key


def test_the_nearest_examples_are_those_of_the_topic_most_like_the_story() -> None:
    examples = examples_of({"astronomy": 5, "cooking": 5})
    learned = learn(examples, stories_of(examples), titles={}, min_examples=5)
    title, text = examples[2].title, examples[2].text  # an astronomy example itself
    nearest = nearest_examples(learned, vectorize(learned, title, text), "astronomy")
    assert len(nearest) == 3
    assert nearest[0] == (title, pytest.approx(1.0, abs=1e-5))
    assert nearest[1][1] <= nearest[0][1] and nearest[2][1] <= nearest[1][1]
    cooking_titles = {e.title for e in examples if e.topics == ("cooking",)}
    assert not {t for t, _ in nearest} & cooking_titles
    assert nearest_examples(learned, vectorize(learned, title, text), "unknown") == []


def test_the_stories_filed_while_learning_are_those_scoring_would_file() -> None:
    many = SVM_MIN_EXAMPLES + 2
    examples = examples_of({"astronomy": many, "weather": 6, "cooking": 5})
    stories = stories_of(examples, others=40)
    learned, filed = learn_and_file(examples, stories, titles={}, min_examples=5)
    for key, text in stories:
        title, body = text.split("\n", 1)
        scored = scored_topics(learned, title, body)
        got = filed.get(key, [])
        assert [t.slug for t, _ in got] == [t.slug for t, _ in scored], key
        np.testing.assert_allclose([s for _, s in got], [s for _, s in scored], atol=1e-5)
    assert any(filed.get(f"other-{i:03}") for i in range(0, 40, 2))  # weather stories
