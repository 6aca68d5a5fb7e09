"""Names across scripts, for questions in Ukrainian and Russian."""

from __future__ import annotations

import pytest

from rag import Engine
from rag.models import Passage
from rag.names import article_names, cyrillic_names, matching_name

PASSAGES = [
    Passage("a:1", "a", 1, "Natalia, a mother, waited in northern Ukraine.", 1, "1"),
    Passage("a:2", "a", 2, "Negotiators met in Istanbul; Lavrov spoke of Olha's son and of Russia.", 1, "2"),
]


def test_article_names_are_the_words_it_only_writes_with_a_capital() -> None:
    names = article_names(PASSAGES)
    assert {"natalia", "ukraine", "istanbul", "lavrov", "olha", "russia"} <= names
    assert "mother" not in names and "a" not in names


def test_cyrillic_names_skip_the_first_word_and_latin_capitals() -> None:
    assert cyrillic_names("Чи був Путін на зустрічі в Стамбулі?") == ["Путін", "Стамбулі"]
    assert cyrillic_names("Wer hat Zweifel an der Vermittlung?") == []  # German capitalises every noun


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("Наталії", "natalia"),  # Ukrainian genitive
        ("Натальи", "natalia"),  # Russian genitive
        ("Ольги", "olha"),  # г is h in Ukrainian, g in Russian
        ("Стамбулі", "istanbul"),
        ("Лавров", "lavrov"),
        ("Росії", "russia"),  # too far in spelling: listed
        ("Путін", None),
        ("Байден", None),
    ],
)
def test_a_cyrillic_name_finds_the_articles_spelling(name: str, known: str | None) -> None:
    assert matching_name(name, article_names(PASSAGES)) == known


def test_offline_questions_about_someone_the_article_does_not_name_are_refused(engine: Engine) -> None:
    for question in ("Чи був Путін на зустрічі в Стамбулі?", "Был ли Путин на встрече в Стамбуле?"):
        assert not engine.answer(question).grounded, question
    assert "Valerii" in engine.answer("Як звати сина Ольги?").text
