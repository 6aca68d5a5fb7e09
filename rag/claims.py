"""What a claim asserts that its cited sentence must also say: names, numbers and negations.

Word overlap and embeddings hardly notice a swapped name ("Chancellor Schmidt opened the bridge", citing a
sentence on Mayor Lindqvist) or an added "not": both keep nearly every word. These checks are generic:
a capitalised word, a number or a negation word present in the claim and absent from the source makes the
claim unsupported, whatever the article.
"""

from __future__ import annotations

import os

from .names import cyrillic_names, matching_name, shown_names
from .number_words import restated_numbers, stated_numbers
from .text import numbers, words
from .tokens import CYRILLIC, WordSplitter

# Negation words by language (English first): a claim that negates must cite a sentence that negates.
# The reader's language can be any of these when an LLM answers in it.
NEGATIONS = frozenset(
    """
    not no never none nobody nothing neither nor without cannot
    не ні ніколи ніхто ніщо нічого жоден жодного жодних жодної без немає нема
    нет ни никогда никто ничего ни одного
    nunca ningún ninguno ninguna nadie nada sin jamás tampoco
    ne pas jamais aucun aucune sans rien personne
    nicht kein keine keinen keiner keines nie niemals ohne niemand nichts
    non mai nessun nessuno nessuna senza niente
    não nenhum nenhuma sem
    nie nigdy bez żaden żadnych
    """.split()
)
# A number is a word of its own ("3 Norwegian sailors": "Norwegian" is no sentence's first word), and "U.S."
# is the name "US", as rag.text reads the source.
_TOKENS = WordSplitter(digits="apart", acronyms=True)


def negates(text: str) -> bool:
    """Whether the text says "not" in any of the listed languages ("didn't" and French "n'a" included)."""
    return any(w in NEGATIONS or w.endswith("n't") or w.startswith(("n'", "n’")) for w in words(text))


def _capitalised(token: str) -> bool:
    """A word that opens with a capital of the Latin alphabet ("Lindqvist", not "Österreich" or "Путін")."""
    return "A" <= token[0] <= "Z"


def latin_names(text: str, known: frozenset[str] = frozenset()) -> list[str]:
    """Capitalised words in Latin script, lower-cased, each hyphenated part on its own.

    The first word of a sentence is capitalised anyway: it counts only as part of a longer name
    ("Helmut Schmidt opened…") or when it is one of the ``known`` names (the article's: "Lindqvist said…").
    One-letter words ("I", the "U" of "U.S.") are left out.
    """
    tokens = _TOKENS.split(text)
    leads_a_name = len(tokens) > 1 and _capitalised(tokens[1])
    found: list[str] = []
    for position, token in enumerate(tokens):
        if not _capitalised(token):
            continue
        parts = [part for part in words(token) if len(part) > 1]
        if position == 0 and not leads_a_name and not known.intersection(parts):
            continue
        found.extend(parts)
    return found


def known_names(texts: list[str]) -> frozenset[str]:
    """Names the articles write past the start of a sentence and never in lower case ("Lindqvist", not "Although")."""
    capitalised = {name for text in texts for name in latin_names(text)}
    lower = {token for text in texts for token in _TOKENS.split(text) if token[0].islower()}
    return frozenset(capitalised - lower)


def _same_name(claimed: str, written: str) -> bool:
    """The same name, allowing an ending ("Austria"/"Austrian", "Kenya"/"Kenyan", "Tchaikovsky"/"Tchaikovskyy")."""
    if claimed == written:
        return True
    shorter = min(len(claimed), len(written))
    shared = len(os.path.commonprefix([claimed, written]))
    return shorter >= 4 and shared >= max(4, shorter - 1)


def unsupported_names(claim: str, source: str, known: frozenset[str] = frozenset()) -> list[str]:
    """Names the claim writes in Latin script that the source never writes (``known``: see latin_names)."""
    written = set(words(source))
    return [name for name in latin_names(claim, known) if not any(_same_name(name, w) for w in written)]


def unsupported_cyrillic_names(claim: str, source_names: frozenset[str]) -> list[str]:
    """Names the claim writes in Cyrillic ("Путін", "Берліні") that stand for none of the source's names."""
    return [name for name in cyrillic_names(claim) if matching_name(name, source_names) is None]


def unsupported_shown_names(claim: str, source_names: frozenset[str], article_names: frozenset[str]) -> list[str]:
    """Names a claim in another language writes, in any script and position, that stand for none of the source's."""
    return [name for name in shown_names(claim, article_names) if matching_name(name, source_names) is None]


def claim_problem(
    claim: str, source: str, source_names: frozenset[str], article_names: frozenset[str], *, in_english: bool
) -> str | None:
    """Why ``source`` does not back what ``claim`` asserts ("number", "name", "negation"), or None.

    ``source_names``: the source's capitalised words, for names a claim writes in another script or language;
    ``article_names``: every document's, for a name that opens the claim. A claim in English states numbers in
    digits or English words, and its capitals past the first word are names; one in another language (the
    reader's, when a model answers in it) may write numbers in its own words ("двісті сімдесят"), and its names
    are found by rag.names.shown_names.
    """
    if in_english:
        if not numbers(claim) <= numbers(source) or not stated_numbers(claim) <= stated_numbers(source):
            return "number"  # a number the cited sentence never states is invented, in digits or in any language's words
        if unsupported_names(claim, source, article_names):
            return "name"
        if CYRILLIC.search(claim) and unsupported_cyrillic_names(claim, source_names):
            return "name"
    else:
        if not stated_numbers(claim) <= stated_numbers(source) or restated_numbers(claim, source):
            return "number"
        if unsupported_shown_names(claim, source_names, article_names):
            return "name"
    if negates(claim) and not negates(source):
        return "negation"
    return None
