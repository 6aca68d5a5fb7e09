"""Names across scripts: "Путін" is not in an article that never mentions Putin; "Шольц" is Scholz.

A quoted sentence must name everyone the question names (rag.multilingual), and
a claim everyone it names (rag.claims). A question or a claim in Ukrainian or
Russian writes those names in Cyrillic, and inflects them ("Ганні", "в Берліні"),
so they are romanized both the Ukrainian and the Russian way and compared with the
article's names by spelling similarity; a few country names differ too much and
are listed.
"""

from __future__ import annotations

import difflib

from .models import Passage
from .tokens import CYRILLIC, WordSplitter, without_possessive

NAME_SIMILARITY = 0.7  # "stambuli" ~ "istanbul" 0.75, "zelenskoho" ~ "zelensky" 0.78; "putin" ~ "trump" 0.4

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


def romanized(name: str) -> set[str]:
    """The name in Latin letters, the Ukrainian and the Russian way (or itself when already Latin)."""
    lower = name.casefold()
    if not CYRILLIC.search(lower):
        return {lower}
    forms = {
        "".join(style.get(ch, _COMMON.get(ch, ch)) for ch in lower) for style in (_UKRAINIAN_STYLE, _RUSSIAN_STYLE)
    }
    forms.update(english for start, english in _EXONYMS.items() if lower.startswith(start))
    return forms


def matching_name(name: str, known: frozenset[str]) -> str | None:
    """The article's name this question name stands for, if any is spelt closely enough."""
    best, best_ratio = None, 0.0
    for form in romanized(name):
        for candidate in known:
            ratio = difflib.SequenceMatcher(None, form, candidate).ratio()
            if ratio > best_ratio:
                best, best_ratio = candidate, ratio
    return best if best_ratio >= NAME_SIMILARITY else None
