"""The re-ranker: the kind of answer asked for, where it sits, and the evidence order every caller sees."""

from __future__ import annotations

import pytest

from rag import Engine, Evidence, Passage
from rag.embeddings import MiniLMEmbedding
from rag.matching import TermMatcher
from rag.rerank import Reranker, answer_frame, in_time_frame, type_fit
from rag.text import stem, words

COMMON = frozenset({"ukraine", "russia"})  # as in an article about them: no answer by themselves


def fit(kind: str, passage: str, question: str) -> float:
    return type_fit(kind, passage, question, {stem(w) for w in words(question)}, COMMON)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What was the location of the prisoner exchange?", "place"),
        ("where did they meet", "place"),
        ("In which country's border area was the handover?", "place"),
        ("how many servicemen did each country hand over", "number"),
        ("how long was the meeting", "duration"),
        ("When did the invasion begin?", "time"),
        ("Who doubted the offer?", "person"),
        ("What is Zelensky's full name?", "person"),
        ("How old is Valerii?", "age"),
        ("Was it a breakthrough?", None),
    ],
)
def test_answer_frame_names_the_kind_of_answer(question: str, kind: str | None) -> None:
    assert answer_frame(question)[0] == kind


def test_a_common_name_with_a_direction_is_a_place() -> None:
    question = "Where were families waiting?"
    assert fit("place", "As families awaited news in northern Ukraine, emotions ran high.", question) > 0
    assert fit("place", "Ukraine and Russia held talks while families were waiting.", question) == 0


def test_a_list_of_places_is_one_answer() -> None:
    question = "Where had they been captured?"
    one = fit("place", "They had been captured in areas like Kyiv.", question)
    listed = fit("place", "They had been captured in areas like Kyiv, Chernihiv, and Donetsk.", question)
    assert listed == pytest.approx(one)


def test_a_marked_place_fits_better_than_a_bare_name() -> None:
    question = "Where did it happen?"
    marked = fit("place", "It happened at the border with Belarus.", question)
    bare = fit("place", "It happened in Istanbul.", question)
    assert marked > bare > 0


def test_a_possessive_name_answers_which_countrys_but_is_no_place_for_where() -> None:
    passage = "Italy's Prime Minister offered to mediate."
    assert fit("place", passage, "Which country's prime minister offered to mediate?") > 0
    assert fit("place", passage, "Where was the prime minister born?") == 0


def test_an_age_is_a_number_of_years_old_not_any_number() -> None:
    question = "How old is Valerii?"
    assert fit("age", "Valerii was taken two months ago.", question) == 0
    assert fit("age", "Valerii, a 25-year-old engineer, was taken.", question) > 0
    assert fit("age", "Valerii, aged 25, was taken.", question) > 0


def test_a_total_does_not_answer_how_many_each_side_freed() -> None:
    question = "how many soldiers did each side free?"
    assert fit("number", "In all, 390 soldiers and civilians were freed.", question) == 0
    assert fit("number", "Each country freed 270 soldiers and 120 civilians.", question) > 0


def test_answer_evidence_is_in_reranked_order_with_scores(engine: Engine) -> None:
    answer = engine.answer("Where were families waiting for news?")
    assert "northern Ukraine" in answer.evidence[0].passage.text
    assert answer.citations[0].passage_id == answer.evidence[0].passage.passage_id
    assert all(e.relevance > 0 for e in answer.evidence)
    assert [e.passage.passage_id for e in engine.retrieve("Where were families waiting for news?")] == [
        e.passage.passage_id for e in answer.evidence
    ]


def test_where_questions_put_passages_that_name_a_place_first(engine: Engine) -> None:
    question = "In which areas had the released been captured?"
    evidence = engine.retrieve(question)
    assert "Kyiv" in evidence[0].passage.text
    names_place = [fit("place", e.passage.text, question) > 0 for e in evidence]
    assert names_place == sorted(names_place, reverse=True)  # every passage naming a place before any that does not
    assert names_place.count(False) > 0  # the fused retrieval did bring placeless passages to re-rank


@pytest.mark.parametrize(
    ("question", "passage", "answers"),
    [
        ("How many soldiers are still held?", "The two sides exchanged 390 soldiers.", False),
        ("When will the next exchange happen?", "The exchange happened on Friday.", False),
        ("Do obstacles remain?", "Significant obstacles remain on the path to peace.", True),
        ("Will there be more talks?", "Lavrov expressed intentions to hold additional talks.", True),
        ("How many soldiers were exchanged?", "The two sides exchanged 390 soldiers.", True),
    ],
)
def test_a_question_on_what_goes_on_or_comes_next_needs_a_passage_that_speaks_of_it(
    embedder: MiniLMEmbedding, question: str, passage: str, answers: bool
) -> None:
    sentence = Passage("doc:1", "doc", 1, passage, 1, "h")
    evidence = Evidence(sentence, score=1.0, dense_similarity=0.6, keyword_score=1.0)
    [ranked] = Reranker(TermMatcher(embedder, [sentence], None)).rank(question, [evidence]).items
    assert ranked.time_frame_matched is answers


@pytest.mark.parametrize(
    "question", ["Когда состоится следующий обмен?", "Коли буде наступний обмін?", "¿Cuándo será el próximo canje?"]
)
def test_next_and_will_are_read_in_other_languages_too(question: str) -> None:
    assert not in_time_frame(question, "The exchange took place on Friday.")
    assert in_time_frame(question, "Both sides will hold further talks.")
    assert in_time_frame("Що ще сказав Лавров?", "Lavrov spoke on Friday.")  # "ще" is also "else": not asked
