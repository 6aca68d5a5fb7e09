"""Questions in other words: the reader must not need the sentence's own words to see that it answers.

SQuAD's crowd workers wrote their questions looking at the paragraph, so most questions reuse its words, and a
reader trained on them learns to trust shared words: "Where was her boy captured?" scores far below "Where was
her son captured?". Readers of a news article ask in their own words. ``reword`` replaces words a question shares
with its answering sentence by a WordNet synonym (the most frequent sense of the word, a synonym readers actually
use), so training sees the same question with and without the shared words, as an answer and, for the changed
unanswerable questions, as a non-answer.

WordNet 3.0 is read from its database files (Debian/Ubuntu: ``apt-get install wordnet-base`` puts them in
``/usr/share/wordnet``; or any WordNet 3.0 ``dict/`` folder). WordNet licence: Princeton University, free to
use, copy and distribute with its copyright notice; the trained model ships no WordNet data.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_WORDNET = Path("/usr/share/wordnet")
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
# WordNet's own detachment rules (morphy): inflected ending -> base ending, per part of speech.
DETACH = {
    "n": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"), ("men", "man"),
          ("ies", "y")],
    "v": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
    "a": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
    "r": [],
}
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Synset:
    lemmas: list[str]
    antonyms: list[tuple[int, str, int, int]]  # (word number here, target part of speech, target offset, its word)


@dataclass
class WordNet:
    """Synonyms of a word's most frequent sense, from WordNet's index and data files."""

    root: Path = DEFAULT_WORDNET
    _senses: dict[tuple[str, str], tuple[int, list[int]]] = field(default_factory=dict, repr=False)  # tagged, offsets
    _exceptions: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _synsets: dict[tuple[str, int], Synset] = field(default_factory=dict, repr=False)
    _irregular_verbs: set[str] = field(default_factory=set, repr=False)  # "begin": no "begined"

    def __post_init__(self) -> None:
        for pos, name in POS_FILES.items():
            for line in (self.root / f"index.{name}").read_text(encoding="latin-1").splitlines():
                if line.startswith(" "):
                    continue  # the licence header
                parts = line.split()
                pointers = int(parts[3])
                tagged = int(parts[5 + pointers])
                offsets = [int(o) for o in parts[6 + pointers :]]
                self._senses[(parts[0], pos)] = (tagged, offsets)
            exceptions = self.root / f"{name}.exc"
            for line in exceptions.read_text(encoding="latin-1").splitlines():
                inflected, base, *_ = line.split()
                self._exceptions[(inflected, pos)] = base
                if pos == "v":
                    self._irregular_verbs.add(base)

    def base_form(self, word: str, pos: str) -> str | None:
        """The dictionary form of an inflected word in one part of speech, or None if WordNet lacks it."""
        if (word, pos) in self._exceptions:
            base = self._exceptions[(word, pos)]
            return base if (base, pos) in self._senses else None
        if (word, pos) in self._senses:
            return word
        for ending, base in DETACH[pos]:
            if word.endswith(ending) and (word[: len(word) - len(ending)] + base, pos) in self._senses:
                return word[: len(word) - len(ending)] + base
        return None

    def _synset(self, pos: str, offset: int) -> Synset:
        """One line of ``data.<pos>``: the synset's lemmas and its antonym pointers, read once."""
        key = (pos, offset)
        if key not in self._synsets:
            with (self.root / f"data.{POS_FILES[pos]}").open("rb") as data:
                data.seek(offset)
                parts = data.readline().decode("latin-1").split()
            count = int(parts[3], 16)
            lemmas = [re.sub(r"\(.*\)$", "", parts[4 + 2 * i]) for i in range(count)]
            at = 4 + 2 * count
            antonyms = []
            for i in range(int(parts[at])):
                symbol, target, target_pos, numbers = parts[at + 1 + 4 * i : at + 5 + 4 * i]
                if symbol == "!":  # lexical: source and target word numbers, in hex
                    target_pos = "a" if target_pos == "s" else target_pos
                    antonyms.append((int(numbers[:2], 16), target_pos, int(target), int(numbers[2:], 16)))
            self._synsets[key] = Synset(lemmas, antonyms)
        return self._synsets[key]

    def _lemmas(self, pos: str, offset: int) -> list[str]:
        return self._synset(pos, offset).lemmas

    def synonyms(self, word: str) -> tuple[str, str, list[str]] | None:
        """(part of speech, base form, common synonyms) for the word's most frequent sense, or None."""
        reading = self._most_frequent_pos(word)
        if reading is None:
            return None
        pos, base = reading
        first_sense = self._senses[(base, pos)][1][0]
        # A synonym counts when this meaning is one of its own two most frequent ones ("start" for "begin",
        # not "get"), and it is a word people use (tagged in WordNet's sense-counted corpus).
        common = []
        for lemma in self._lemmas(pos, first_sense):
            tagged, offsets = self._senses.get((lemma.lower(), pos), (0, []))
            if lemma.lower() != base and lemma.islower() and tagged > 0 and first_sense in offsets[:2]:
                common.append(lemma.replace("_", " "))
        return pos, base, common

    def _antonym_pointers(self, pos: str, offset: int, lemma: str) -> list[str]:
        """The lemmas WordNet marks as the opposite ("!") of ``lemma`` in one synset."""
        synset = self._synset(pos, offset)
        lemmas = [name.lower() for name in synset.lemmas]
        if lemma not in lemmas:
            return []
        source = lemmas.index(lemma) + 1
        return [
            self._lemmas(target_pos, target)[word - 1]
            for from_word, target_pos, target, word in synset.antonyms
            if from_word == source
        ]

    def _most_frequent_pos(self, word: str) -> tuple[str, str] | None:
        """(part of speech, base form) of the word's most frequent reading, by WordNet's sense counts."""
        best: tuple[int, str, str] | None = None
        for pos in POS_FILES:
            base = self.base_form(word, pos)
            if base is not None:
                tagged = self._senses[(base, pos)][0]
                if best is None or tagged > best[0]:
                    best = (tagged, pos, base)
        return None if best is None else (best[1], best[2])

    def antonyms(self, word: str) -> list[str]:
        """Opposites of a word in the same form ("increase" -> "decrease", "opened" -> "closed"), from the
        antonym pointers of the two most frequent senses of its most frequent part of speech; only where the
        form can be kept (a base form, a plural noun or a regular past tense)."""
        reading = self._most_frequent_pos(word)
        if reading is None:
            return []
        pos, base = reading
        found: list[str] = []
        for offset in self._senses[(base, pos)][1][:2]:
            for opposite in self._antonym_pointers(pos, offset, base):
                if "_" in opposite or not opposite.islower():
                    continue
                # "uncover", "antitype": a prefix makes a fair opposite of an adjective only ("unofficial").
                if pos != "a" and opposite.endswith(base) and opposite != base:
                    continue
                if word == base:
                    found.append(opposite)
                elif pos == "n" and word == base + "s":
                    found.append(inflect(opposite, word, base))
                elif pos == "v" and word in (base + "ed", base + "d") and opposite not in self._irregular_verbs:
                    found.append(opposite + ("d" if opposite.endswith("e") else "ed"))
        return list(dict.fromkeys(found))

    def base_forms(self, word: str) -> set[str]:
        """The word and its dictionary form in every part of speech WordNet knows it in."""
        return {word} | {b for pos in POS_FILES if (b := self.base_form(word, pos)) is not None}


def inflect(synonym: str, word: str, base: str) -> str:
    """A noun synonym in the word's number ("prisoners" -> "captives")."""
    if word == base or " " in synonym:
        return synonym
    return synonym + ("es" if synonym.endswith(("s", "x", "ch", "sh")) else "s")


def reword(question: str, sentence: str, wordnet: WordNet, rng: random.Random, skip: frozenset[str]) -> str | None:
    """The question with some of the words it shares with the sentence (in any inflection) in other words.

    Names (capitalised words) and the words in ``skip`` (function words) stay; None when nothing was replaced.
    """
    shared = {b for w in _WORD.findall(sentence.lower()) for b in wordnet.base_forms(w)}
    replaced = False

    def swap(match: re.Match[str]) -> str:
        nonlocal replaced
        word = match.group(0)
        if not word.islower() or word in skip or len(word) < 3 or rng.random() < 0.35:
            return word
        found = wordnet.synonyms(word)
        if found is None or not found[2] or found[1] not in shared:
            return word
        pos, base, common = found
        # Nouns, and verbs in their base form ("did they begin"): other parts of speech and inflected verbs
        # came out garbled too often when read by eye ("performed" -> "doed", "largest" -> "big").
        if pos == "n" and (word == base or word == base + "s") or pos == "v" and word == base:
            replaced = True
            return inflect(rng.choice(common), word, base)
        return word

    changed = _WORD.sub(swap, question)
    return changed if replaced else None
