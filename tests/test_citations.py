"""LLM integrity: a swapped name, an added "not" or a shown sentence that says something else than its English
rendering is stripped, through the real openai client against the loopback model; faithful twins are kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rag import Engine
from rag.claims import known_names, latin_names, negates, unsupported_names
from tests.conftest import OpenEngine, make_settings
from tests.openai_fake import FakeOpenAI, label_of, translating

ZELENSKY = "President Volodymyr Zelensky took to social media"
COMPLETED = "have completed a substantial prisoner swap"


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
