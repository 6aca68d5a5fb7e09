"""Numbers a sentence states in any of the bot's major languages, in digits or in words.

A claim shown in Ukrainian may write "триста сорок" where the cited sentence says 150: digits alone would
miss it. The words are not listed here: ``num2words`` writes every number below a thousand (and the words for
a thousand, a million, a billion) in each language, in each grammatical case it knows, and a parser adds up a
run of such words ("сто двадцять" = 100 + 20, "dos mil" = 2 × 1000). The word for one is left out: it is the
article in Spanish, French and German ("un", "une", "ein").
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from functools import lru_cache

from num2words import num2words

from .text import numbers
from .tokens import WordSplitter

LANGUAGES = ("en", "uk", "ru", "es", "de", "fr")
_CASES = {"uk": ("nominative", "genitive", "dative", "accusative", "instrumental", "locative"),
          "ru": ("nominative", "genitive", "dative", "accusative", "instrumental", "prepositional")}
_HUNDRED = 100  # "two hundred" is 2 × 100, and "two hundred thousand" (2 × 100) × 1000: it multiplies the running part
_SCALES = (1000, 10**6, 10**9)  # these close the running part into the total: "сто сорок тисяч" is 140 × 1000
# The feminine form ("дві", "две" for two): num2words names the genders of Ukrainian in full, of Russian by letter.
_GENDERS = {"uk": ("masculine", "feminine"), "ru": ("m", "f")}
# Words that join the parts of one number: "treinta y dos", "hundred and twenty", "vingt et un".
_JOINERS = frozenset({"and", "y", "et", "und", "і", "й", "та", "и"})
# An inflected form the lexicon lacks ("seiscientas" for "seiscientos"): the same word but for its last letters.
_ENDING_LETTERS = 2
_MIN_STEM = 5
_WORDS = WordSplitter(fold_case=True, digits="apart", joiners="'’-")


def _renderings(value: int, language: str, inflected: bool) -> set[str]:
    """The number in words, lower-cased; ``inflected``: in every case and gender num2words knows as well."""
    texts = {num2words(value, lang=language)}
    if inflected and language in _CASES:
        texts |= {num2words(value, lang=language, case=case, gender=gender)
                  for case in _CASES[language] for gender in _GENDERS[language]}
    return {text.casefold() for text in texts}


def _atoms() -> list[int]:
    """The numbers whose words make up the others (2-29, the tens, the hundreds): these are inflected."""
    return [*range(2, 30), *range(30, 100, 10), *range(100, 1000, 100)]


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, int]:
    """Word → value, for every word that alone writes a number below a thousand, or a scale word.

    A word two languages read as different numbers is left out, as is every word for one. A word that
    only writes a number together with a smaller one ("ciento" of "ciento veinte") is worked out from it.
    """
    readings: defaultdict[str, set[int]] = defaultdict(set)
    atoms = set(_atoms())
    multi_word: list[tuple[int, list[str]]] = []
    for language in LANGUAGES:
        for value in range(2, 1000):
            for text in _renderings(value, language, inflected=value in atoms):
                parts = [part for part in _WORDS.split(text) if part not in _JOINERS]
                if len(parts) == 1:
                    readings[parts[0]].add(value)
                else:
                    multi_word.append((value, parts))
        for scale in (_HUNDRED, *_SCALES):
            for count in (1, 2, 5):  # the singular and plural forms ("тисяча", "тисячі", "тисяч", "millones")
                parts = _WORDS.split(num2words(count * scale, lang=language).casefold())
                if len(parts) > 1:  # "двісті" alone is 200, not a word for hundreds
                    readings[parts[-1]].add(scale)
    known = {word: values for word, values in readings.items() if len(values) == 1}
    for value, (first, *rest) in multi_word:
        if first not in readings and all(part in known for part in rest):
            hundreds = value - sum(next(iter(known[part])) for part in rest)
            if hundreds > 0 and hundreds % 100 == 0:  # "one" of "one hundred" would come out as 0
                readings[first].add(hundreds)
    return {word: values.pop() for word, values in readings.items() if len(values) == 1 and 1 not in values}


def _word_value(word: str) -> int | None:
    lexicon = _lexicon()
    if word in lexicon:
        return lexicon[word]
    if len(word) < _MIN_STEM:
        return None
    values = {
        value for known, value in _stems().get(word[:_MIN_STEM], ())
        if len(os.path.commonprefix([known, word])) >= max(_MIN_STEM, max(len(known), len(word)) - _ENDING_LETTERS)
    }
    return values.pop() if len(values) == 1 else None


@lru_cache(maxsize=1)
def _stems() -> dict[str, list[tuple[str, int]]]:
    """Lexicon words by their first letters, to find an inflected form's entry without a scan."""
    grouped: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    for word, value in _lexicon().items():
        if len(word) >= _MIN_STEM:
            grouped[word[:_MIN_STEM]].append((word, value))
    return dict(grouped)


def number_mentions(text: str) -> list[tuple[str, bool]]:
    """Each number the text states, in order and with repeats: its value, and whether it is in words."""
    tokens = _WORDS.split(text.replace("’", "'"))
    mentions: list[tuple[str, bool]] = []
    position = 0
    while position < len(tokens):
        if tokens[position].isdigit():
            mentions.append((tokens[position], False))
            position += 1
            continue
        total, current, last, end = 0, 0, 0, position
        while end < len(tokens):
            value = _word_value(tokens[end])
            if value is None:
                joined = tokens[end] in _JOINERS and end > position and end + 1 < len(tokens)
                if joined and _word_value(tokens[end + 1]) is not None:
                    end += 1
                    continue
                break
            if value == _HUNDRED:
                current, last = max(current, 1) * _HUNDRED, _HUNDRED
            elif value in _SCALES:
                total, current, last = total + max(current, 1) * value, 0, 0
            elif last and value >= last:
                break  # "veintidós, treinta": the parts of one number get smaller, so this is the next number
            else:
                current, last = current + value, value
            end += 1
        if end > position:
            mentions.append((str(total + current), True))
        position = max(end, position + 1)
    return mentions


def stated_numbers(text: str) -> set[str]:
    """Every number the text states: digits ("1,000" as "1000") and number words in any of ``LANGUAGES``."""
    return numbers(text) | {value for value, spelled in number_mentions(text) if spelled}


def restated_numbers(claim: str, source: str) -> set[str]:
    """Numbers the claim states more often than the source does: "340 teachers and триста сорок nurses",
    citing a sentence that says 340 once, gives one of them a count the source gives to another number."""
    in_claim = Counter(value for value, _ in number_mentions(claim))
    in_source = Counter(value for value, _ in number_mentions(source))
    return {value for value, count in in_claim.items() if 0 < in_source[value] < count}
