"""The kind of answer asked for, and whether a sentence offers one: the checks of the offline cross-language path."""

from __future__ import annotations

import pytest

from rag.answer_types import answer_kind, in_time_frame, is_heading, offers_kind


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What was the location of the prisoner exchange?", "place"),
        ("In which country's border area was the handover?", "place"),
        ("how many servicemen did each country hand over", "number"),
        ("how long was the meeting", "duration"),
        ("When did the invasion begin?", "time"),
        ("How old is Valerii?", "age"),
        ("Who doubted the offer?", None),  # a name is no kind these checks can spot across languages
        ("Was it a breakthrough?", None),
    ],
)
def test_answer_kind_names_the_kind_of_answer(question: str, kind: str | None) -> None:
    assert answer_kind(question) == kind


@pytest.mark.parametrize(
    ("kind", "passage", "offers"),
    [
        ("number", "The two sides exchanged 390 soldiers.", True),
        ("number", "The war began in 2022.", False),  # a year is no count
        ("age", "Valerii was taken two months ago.", False),
        ("age", "Valerii, a 25-year-old engineer, was taken.", True),
        ("age", "Valerii, aged 25, was taken.", True),
        ("duration", "The two-hour meeting ended.", True),
        ("duration", "They met last week.", False),
        ("time", "They met on 16 May.", True),
        ("time", "Both sides may meet again.", False),  # "may" is a month only next to a number
        ("place", "They met in Istanbul.", True),
        ("place", "Zelensky announced the return.", False),  # a capital that no preposition makes a place
    ],
)
def test_offers_kind_finds_the_asked_for_thing(kind: str, passage: str, offers: bool) -> None:
    assert offers_kind(kind, passage) is offers


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
    question: str, passage: str, answers: bool
) -> None:
    assert in_time_frame(question, passage) is answers


@pytest.mark.parametrize(
    "question", ["Когда состоится следующий обмен?", "Коли буде наступний обмін?", "¿Cuándo será el próximo canje?"]
)
def test_next_and_will_are_read_in_other_languages_too(question: str) -> None:
    assert not in_time_frame(question, "The exchange took place on Friday.")
    assert in_time_frame(question, "Both sides will hold further talks.")
    assert in_time_frame("Що ще сказав Лавров?", "Lavrov spoke on Friday.")  # "ще" is also "else": not asked


def test_a_line_without_final_punctuation_is_a_heading() -> None:
    assert is_heading("Ukraine and Russia Exchange Prisoners")
    assert not is_heading("Ukraine and Russia exchanged prisoners.")
