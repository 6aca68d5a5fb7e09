"""Names across scripts: "Путін" is not in an article that never mentions Putin; "Шольц" is Scholz.

A quoted sentence must name everyone the question names (rag.multilingual), and
a claim everyone it names (rag.claims). A question or a claim in Ukrainian or
Russian writes those names in Cyrillic, and inflects them ("Ганні", "в Берліні"),
so they are romanized both the Ukrainian and the Russian way and compared with the
article's names by spelling similarity (accents aside: "Zúrich" is Zurich);
a few country names differ too much and are listed. A capital opens every sentence,
so whether a sentence's first word is a name is asked of a morphological dictionary
(pymorphy3, Ukrainian and Russian: "Шольц" is a surname, "Вибори" a common noun).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache
from typing import Literal

import pymorphy3

from .models import Passage
from .tokens import CYRILLIC, WordSplitter, without_possessive

NAME_SIMILARITY = 0.7  # "stambuli" ~ "istanbul" 0.75, "zelenskoho" ~ "zelensky" 0.78; "putin" ~ "trump" 0.4
# A sentence in Latin script that capitalises this share of its later words capitalises nouns (German):
# there a capital does not make a name.
NOUN_CAPITALS_SHARE = 1 / 3
_PROPER_NOUN_TAGS = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})  # pymorphy3's (OpenCorpora) tags
_UKRAINIAN_LETTERS = re.compile(r"[іїєґ]", re.I)

_UKRAINIAN_STYLE = {"г": "h", "и": "y"}
_RUSSIAN_STYLE = {"г": "g", "и": "i"}
_COMMON = {
    "і": "i", "ї": "i", "є": "ie", "ґ": "g", "ы": "y", "э": "e", "ё": "e", "ъ": "",
    "а": "a", "б": "b", "в": "v", "д": "d", "е": "e", "ж": "zh", "з": "z", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ь": "", "ю": "iu", "я": "ia", "'": "", "’": "",
}
# Names whose usual English form is not a spelling of the Cyrillic one, by the start of the Cyrillic word.
_EXONYMS = {
    "рос": "russia", "україн": "ukraine", "украин": "ukraine", "білорус": "belarus", "беларус": "belarus",
    "сша": "us", "америк": "america", "туреч": "turkey", "турц": "turkey", "німеч": "germany", "герман": "germany",
    "bielorrus": "belarus", "biélorus": "belarus", "ucrani": "ukraine", "turquí": "turkey", "alemani": "germany",
}
_WORDS = WordSplitter()


def _lettered_words(text: str) -> list[str]:
    """Words that open with a letter ("Lindqvist's", "S10"): a number is neither a name nor a sentence's first word."""
    return [word for word in _WORDS.split(text) if word[0].isalpha()]


def article_names(passages: list[Passage]) -> frozenset[str]:
    """Lower-cased words the article writes only with a capital ("Lindqvist", and "Meanwhile": harmless)."""
    capitalised, lower = set(), set()
    for passage in passages:
        for word in _lettered_words(passage.text):
            word = without_possessive(word)
            (lower if word[0].islower() else capitalised).add(word.casefold())
    return frozenset(capitalised - lower)


def cyrillic_names(question: str) -> list[str]:
    """Capitalised Cyrillic words past the first: "Чи був Путін у Берліні?" → ["Путін", "Берліні"].

    Only Cyrillic: German capitalises every noun, so a Latin capital says little in another language.
    """
    words = _lettered_words(question)
    return [w for w in words[1:] if w[0].isupper() and not w.isupper() and CYRILLIC.match(w)]


def cyrillic_language(text: str) -> Literal["uk", "ru"]:
    """Ukrainian when the text has a letter Russian lacks (і, ї, є, ґ), else Russian."""
    return "uk" if _UKRAINIAN_LETTERS.search(text) else "ru"


def romanized(name: str) -> set[str]:
    """The name in Latin letters without accents, the Ukrainian and the Russian way (or itself when Latin)."""
    lower = name.casefold()
    exonyms = {english for start, english in _EXONYMS.items() if lower.startswith(start)}
    if not CYRILLIC.search(lower):
        return {"".join(ch for ch in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(ch))} | exonyms
    forms = {
        "".join(style.get(ch, _COMMON.get(ch, ch)) for ch in lower) for style in (_UKRAINIAN_STYLE, _RUSSIAN_STYLE)
    }
    return forms | exonyms


@lru_cache(maxsize=2)
def _morphology(language: str) -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang=language)  # its dictionary ships in a package: nothing is downloaded


def _dictionary_says_name(word: str, sentence: str) -> bool:
    """Whether a capitalised Cyrillic word is a name by the dictionaries: the first of them (the sentence's language
    first) that knows the word gives its readings as names at least half its weight ("Шольц" is the surname,
    "Вибори" a noun); a word neither knows is a foreign name ("Йоханссон")."""
    language = cyrillic_language(sentence)
    for analyzer in (_morphology(language), _morphology("ru" if language == "uk" else "uk")):
        readings = [parse for parse in analyzer.parse(word) if parse.is_known]
        if readings:
            as_name = sum(parse.score for parse in readings if _PROPER_NOUN_TAGS & set(parse.tag.grammemes))
            return as_name >= sum(parse.score for parse in readings) / 2
    return True


def shown_names(sentence: str, known: frozenset[str] = frozenset()) -> list[str]:
    """The names a sentence in a language other than English writes, in any script and position.

    Past the first word, a capitalised word is a name, except in Latin script in a sentence that capitalises
    nouns too (German). The first word, capitalised anyway: in Cyrillic when the dictionaries say so or it spells
    one of the articles' ``known`` names; in Latin
    script when it is one of the articles' ``known`` names, or opens a longer name ("Vladimir Putin …").
    Words in capitals only ("США", "ONU") are abbreviations, left out.
    """
    words = [without_possessive(w) for w in _lettered_words(sentence)]
    later = [w for w in words[1:] if not CYRILLIC.match(w)]
    capitalises_nouns = bool(later) and sum(w[0].isupper() for w in later) / len(later) >= NOUN_CAPITALS_SHARE
    capitalised = [bool(w[0].isupper() and not w.isupper()) for w in words]
    found = []
    for position, word in enumerate(words):
        if not capitalised[position]:
            continue
        if CYRILLIC.match(word):
            # The Ukrainian dictionary tags no place names and weighs readings alike, so an article's own name
            # ("a city it names", transliterated) counts as a name at the start too, as in Latin script below.
            is_name = position > 0 or _dictionary_says_name(word, sentence) or matching_name(word, known) is not None
        elif position == 0:
            opens_a_name = len(words) > 1 and capitalised[1] and not capitalises_nouns
            is_name = word.casefold() in known or opens_a_name
        else:
            is_name = not capitalises_nouns or bool(CYRILLIC.search(sentence))
        if is_name:
            found.append(word)
    return found


def matching_name(name: str, known: frozenset[str]) -> str | None:
    """The article's name this question name stands for, if any is spelt closely enough."""
    best, best_ratio = None, 0.0
    for form in romanized(name):
        for candidate in known:
            ratio = difflib.SequenceMatcher(None, form, candidate).ratio()
            if ratio > best_ratio:
                best, best_ratio = candidate, ratio
    return best if best_ratio >= NAME_SIMILARITY else None
