"""Names across scripts, for questions in Ukrainian and Russian and claims in any language; numbers in words."""

from __future__ import annotations

import pytest

from rag import Engine
from rag.language import LanguageGuard
from rag.models import Passage
from rag.names import article_names, cyrillic_names, matching_name, shown_names
from rag.number_words import restated_numbers, stated_numbers

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


@pytest.mark.parametrize(
    ("sentence", "names"),
    [
        ("Путін особисто звільнив усіх полонених.", ["Путін"]),  # a surname opening the sentence
        ("Путин лично освободил всех пленных.", ["Путин"]),
        ("Обмін відбувся на кордоні з Білоруссю.", ["Білоруссю"]),  # a common noun opening it is no name
        ("Усі родини чекали.", []),
        ("Зеленский объявил о возвращении.", ["Зеленский"]),  # no dictionary knows it: a foreign name
        ("Президент Emmanuel Macron оголосив.", ["Emmanuel", "Macron"]),  # Latin script in a Cyrillic sentence
        ("El presidente Vladimir Putin anunció el regreso del personal ucraniano.", ["Vladimir", "Putin"]),
        ("Jedes Land tauschte Soldaten und Zivilisten aus.", []),  # German capitalises its nouns
    ],
)
def test_names_of_a_sentence_in_another_language_are_found_in_any_script_and_position(
    sentence: str, names: list[str]
) -> None:
    assert shown_names(sentence) == names


def test_an_articles_name_opening_a_cyrillic_sentence_is_a_name_though_the_dictionary_calls_it_a_noun() -> None:
    # The Ukrainian dictionary has no place-name tag: "Стамбул" alone reads as a common noun.
    assert shown_names("Стамбул прийняв переговорників.") == []
    assert shown_names("Стамбул прийняв переговорників.", article_names(PASSAGES)) == ["Стамбул"]


def test_a_sentence_in_spanish_is_not_taken_for_english_by_its_short_function_words() -> None:
    guard = LanguageGuard(frozenset())
    assert not guard.sentence_is_english("Rusia no devolvió a 270 soldados.")  # "no" and "a": 2 of 5 words
    assert guard.sentence_is_english("Each country exchanged 270 soldiers.")


def test_names_match_across_scripts_and_accents() -> None:
    known = article_names(PASSAGES)
    assert matching_name("Estambul", known) == "istanbul" and matching_name("Lávrov", known) == "lavrov"
    assert matching_name("Putin", known) is None


@pytest.mark.parametrize(
    ("sentence", "numbers"),
    [
        ("Кожна країна обміняла двісті сімдесят військових і сто двадцять цивільних.", {"270", "120"}),
        ("Обменяли двухсот семидесяти пленных", {"270"}),  # an inflected form
        ("Cada país intercambió doscientos setenta militares y ciento veinte civiles.", {"270", "120"}),
        ("participaron seiscientas personas", {"600"}),  # a feminine form num2words does not write
        ("dos mil veintidós, treinta y dos", {"2022", "32"}),
        ("270 військових і 1,000 цивільних", {"270", "1000"}),
        ("Un intercambio sin acuerdo; сім'я чекала.", set()),  # "un" is an article; "сім'я" is a family, not 7
        # A hundred multiplies what comes before it and is multiplied by the thousand after it (both read 1,100
        # and 1,200 once), and the Ukrainian feminine "дві" is two.
        ("сто двадцять тисяч біженців і дві тисячі волонтерів", {"120000", "2000"}),
        ("cien mil personas, doscientos mil euros, cent mille", {"100000", "200000"}),
    ],
)
def test_numbers_are_read_in_digits_and_in_words_of_several_languages(sentence: str, numbers: set[str]) -> None:
    assert stated_numbers(sentence) == numbers


def test_a_number_stated_more_often_than_the_source_states_it_is_restated() -> None:
    source = "Each country exchanged 270 military personnel and 120 civilians."
    assert restated_numbers("270 військових і двісті сімдесят цивільних", source) == {"270"}
    assert restated_numbers("270 військових і сто двадцять цивільних", source) == set()
