"""Follow-up questions: can a message stand alone, or does it lean on the question before it?

The test is grammatical, not about any article: English marks a message that leans on
what came before with closed-class words, a third-person pronoun with no name before it
("Where did *he* announce *it*?"), a demonstrative standing for a whole clause ("Why did
they do *that*?"), a leading conjunction or "what about" ("*and* the visitors?"), or a bare
fragment ("Why?", "The date?"). A message with none of these is self-contained and is
never changed by context. Other languages are left alone offline: the closed classes
below are English; with a language model the rewrite step reads any language.

An elliptical continuation ("and the visitors?", "what about Norway?") asks the previous
question again about something else. Offline, ``continuation_readings`` spells out
each way of reading it (the new phrase in place of each run of the previous question's
content words); the engine lets the reader model choose the reading it can best answer.
"""

from __future__ import annotations

import re

from .tokens import APOSTROPHES, WordSplitter

# Third-person personal and possessive pronouns: they point back to someone already named.
_PRONOUNS = frozenset("he him his she her hers it its they them their theirs".split())
# Pro-forms that stand for a clause, a place or a time when nothing follows them ("who said that?",
# "how many were exchanged there?"); before a noun ("this exchange") a demonstrative points at the
# article itself, and "there are" is existential: neither needs context.
_FINAL_PROFORMS = frozenset("that those there then".split())
# A message that opens with these continues the previous one ("and the children?", "what about Norway?").
_CONTINUATIONS = frozenset("and but or also plus so then".split())
_CONTINUATION_PHRASES = ("what about", "how about", "and what about", "what of")
# Closed-class words that may be capitalised without being a name ("Did", "Where", "The").
_FUNCTION_WORDS = _PRONOUNS | _FINAL_PROFORMS | _CONTINUATIONS | frozenset(
    """a an the this these who whom whose what which when where why how is are was were be been being
    do does did have has had can could will would shall should may might must not no yes of in on at to
    for from by with about as into after before since during than if i you we me my your our many much""".split()
)
_DETERMINERS = ("the ", "a ", "an ")
_WH_WORDS = frozenset("who whom whose what which when where why how".split())
# "and the visitors?" is a phrase standing for part of the last question; "and where did he go then?" is a question.
_MAX_PHRASE_WORDS = 4
# "Why?" and "The date?" are fragments; "Who is Lindqvist?" (three words) already says what it asks.
_FRAGMENT_WORDS = 2

# Case kept: a capital marks a name. Apostrophes hold "Anna's" and "didn't" together; a hyphen parts words.
_WORDS = WordSplitter(joiners=APOSTROPHES)


def _is_name(word: str) -> bool:
    """A capitalised word that is not a function word: "Lindqvist", "Anna's", "Norway"."""
    base = re.split(r"['’]", word, maxsplit=1)[0]
    return base[:1].isupper() and base.casefold() not in _FUNCTION_WORDS


def _continuation_end(text: str) -> int | None:
    """Where the opening of a continuation ("and", "what about") ends in ``text``; None when it opens otherwise."""
    opening = list(_WORDS.spans(text))[:3]
    lowered = [m.group(0).casefold() for m in opening]
    for phrase in sorted(_CONTINUATION_PHRASES, key=len, reverse=True):
        size = len(phrase.split())
        if lowered[:size] == phrase.split():
            return opening[size - 1].end()
    if lowered and lowered[0] in _CONTINUATIONS:
        return opening[0].end()
    return None


def needs_context(question: str) -> bool:
    """True when the message cannot stand alone: a pronoun with nothing to refer to, an ellipsis, a fragment."""
    tokens = _WORDS.split(question)
    if not tokens:
        return False
    lowered = [t.casefold() for t in tokens]
    if _continuation_end(question) is not None:
        return True
    if len(tokens) <= _FRAGMENT_WORDS:
        return True
    named = False
    for position, (token, word) in enumerate(zip(tokens, lowered)):
        if word in _PRONOUNS and not named:
            return True
        if word in _FINAL_PROFORMS and position == len(tokens) - 1:
            return True
        named = named or _is_name(token)
    return False


def read_with_context(question: str, context: str | None) -> str | None:
    """The previous question this message should be read with, or None when it stands alone."""
    if not context or not context.strip() or not needs_context(question):
        return None
    return context.strip()


def _continued_phrase(follow_up: str) -> str | None:
    """The phrase an elliptical continuation asks about ("and the visitors?" -> "visitors"), or None."""
    text = follow_up.strip().rstrip("?!.… ").strip()
    end = _continuation_end(text)
    if end is None:
        return None
    phrase = text[end:].strip(" ,")
    while phrase.casefold().startswith(_DETERMINERS):
        phrase = phrase.split(" ", 1)[1] if " " in phrase else ""
    tokens = _WORDS.split(phrase)
    if not tokens or len(tokens) > _MAX_PHRASE_WORDS or tokens[0].casefold() in _WH_WORDS:
        return None
    if any(t.casefold() in _PRONOUNS for t in tokens):
        return None  # "and what did he say?" leans on a name, not on a part of the question
    return phrase


def continuation_readings(previous: str, follow_up: str) -> list[str]:
    """The previous question with the continuation's phrase in place of each run of its content words.

    "How many goals did the hosts score?" + "and the visitors?" -> "How many visitors did the hosts score?",
    "How many goals did the visitors?"; then each single word of a longer run ("How many goals did the visitors
    score?", …). The offline answerer chooses among them. Empty when the follow-up is no elliptical continuation.
    """
    phrase = _continued_phrase(follow_up)
    if phrase is None:
        return []
    runs: list[tuple[int, int]] = []
    words: list[tuple[int, int]] = []
    last_named = False
    for match in _WORDS.spans(previous):
        word = match.group(0)
        if word.casefold() in _FUNCTION_WORDS:
            continue
        words.append((match.start(), match.end()))
        named = _is_name(word) and match.start() > 0
        # "home team" and "Anna Lindqvist" are one run each; "Lindqvist say" is two.
        if runs and previous[runs[-1][1] : match.start()].strip() == "" and named == last_named:
            runs[-1] = (runs[-1][0], match.end())
        else:
            runs.append((match.start(), match.end()))
        last_named = named
    # Without a parser a run may join a noun and a verb ("the match take place"): each of its words is tried too.
    spans = runs + [w for w in words if w not in runs]
    readings = [previous[:start] + phrase + previous[end:] for start, end in spans]
    return list(dict.fromkeys(r for r in readings if r.casefold() != previous.casefold()))
