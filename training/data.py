"""Training pairs for the answerability reader: (question, sentence) -> does the sentence answer it?

The questions and their articles come from ``sources.py``. For each question the positive is the sentence holding its answer; negatives are the other sentences of its
paragraph and the sentences BM25 finds closest in the article (what retrieval will offer at answer time).
Unanswerable questions are scarce, so more are made the way SQuAD 2.0's crowd workers made theirs: an
entity, number or year of an answerable question changed to another from the same article, a negation, or an
antonym the answering sentence states; each is paired with the sentence that answered the original (so only the
change can tell them apart). And since readers add context a sentence need not repeat ("... according to the
article?", the article's topic), a share of the questions is also asked that way, against the same sentences.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s

from sources import WORD_TOKEN, Item, load_items

if TYPE_CHECKING:
    from reword import WordNet

# Held out from training: one article with real unanswerable questions (for calibrating the refusal
# threshold) and a few answerable-only articles (for the validation loss).
CALIBRATION_ARTICLES = {"Spectre_(2015_film)", "Oxford", "Lipid", "Andes"}

# English function words: a capitalised one ("With", "Approximately") starts no name.
FUNCTION_WORDS = frozenset(
    """a about above after again against all also am an and any approximately are around as at be because been
    before being below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just many me more most much my near
    no nor not now of off on once only or other our out over own same she should since so some such than that the
    their them then there these they this those through to too under until up upon very was we were what when where
    which while who whom whose why will with would you your""".split()
)
ANTONYMS = {
    "first": "last", "last": "first", "largest": "smallest", "smallest": "largest", "most": "least",
    "least": "most", "highest": "lowest", "lowest": "highest", "before": "after", "after": "before",
    "earliest": "latest", "latest": "earliest", "increase": "decrease", "decrease": "increase",
    "north": "south", "south": "north", "east": "west", "west": "east", "oldest": "youngest",
    "youngest": "oldest", "longest": "shortest", "shortest": "longest", "maximum": "minimum",
    "minimum": "maximum", "best": "worst", "worst": "best", "won": "lost", "lost": "won", "began": "ended",
    "start": "end", "end": "start", "upper": "lower", "lower": "upper", "early": "late", "late": "early",
    "positive": "negative", "negative": "positive", "major": "minor", "minor": "major", "private": "public",
    "public": "private", "larger": "smaller", "smaller": "larger", "higher": "lower", "more": "fewer",
    "fewer": "more", "male": "female", "female": "male", "internal": "external", "external": "internal",
}
COPULAS = {"is", "are", "was", "were"}
DO_AUX = {"did", "does", "do"}
WH_WORDS = {"what", "who", "whom", "which", "when", "where", "why", "how"}


@dataclass(frozen=True)
class Pair:
    question: str
    sentence: str
    label: int  # 1: the sentence answers the question
    kind: str  # where the pair came from, for the data report


# --- synthetic unanswerable questions -------------------------------------------------------------------


def capitalised_spans(text: str) -> list[str]:
    """Runs of capitalised words ("Harold Wilson", "Bank of England") that do not start with a function word."""
    tokens = WORD_TOKEN.findall(text)
    spans, current = [], []
    for token in tokens:
        capital = token[:1].isupper() and token.lower() not in FUNCTION_WORDS
        connector = bool(current) and token.lower() in {"of", "de", "the", "and", "von", "van", "la"}
        if capital or connector:
            current.append(token)
            continue
        if current:
            spans.append(current)
        current = []
    if current:
        spans.append(current)
    cleaned = []
    for span in spans:
        while span and span[-1].lower() in FUNCTION_WORDS:
            span = span[:-1]
        if span:
            cleaned.append(" ".join(span))
    return cleaned


def _mentions(sentence: str, phrase: str) -> bool:
    return phrase.lower() in sentence.lower()


def swap_entity(item: Item, rng: random.Random) -> str | None:
    """Another name from the same article in place of one the question asks about."""
    positive = " ".join(item.positives)
    names = [s for s in capitalised_spans(item.question) if _mentions(positive, s)]
    if not names:
        return None
    name = rng.choice(names)
    width = len(name.split())
    pool = {
        s
        for sentence in item.article_sentences
        for s in capitalised_spans(sentence)
        if abs(len(s.split()) - width) <= 1 and not _mentions(positive, s) and s.lower() not in name.lower()
        and name.lower() not in s.lower()
    }
    if not pool:
        return None
    return item.question.replace(name, rng.choice(sorted(pool)), 1)


def swap_number(item: Item, rng: random.Random) -> str | None:
    """A year or number the answering sentence does not give."""
    positive = " ".join(item.positives)
    numbers = [n for n in re.findall(r"\b\d+\b", item.question) if n in positive]
    if not numbers:
        return None
    number = rng.choice(numbers)
    value = int(number)
    for _ in range(10):
        if len(number) == 4 and 1000 < value < 2100:
            candidate = str(value + rng.choice([-1, 1]) * rng.randint(1, 30))
        else:
            candidate = str(max(0, value + rng.choice([-1, 1]) * rng.randint(1, max(2, value))))
        if candidate != number and candidate not in positive:
            return re.sub(rf"\b{number}\b", candidate, item.question, count=1)
    return None


def negate(item: Item, rng: random.Random) -> str | None:
    """'Who was the first …' -> 'Who was not the first …'; 'When did X release …' -> 'When did X not release …'."""
    tokens = item.question.split()
    if len(tokens) < 4 or tokens[0].lower() not in WH_WORDS:
        return None
    for i in range(1, min(4, len(tokens) - 1)):
        word = tokens[i].lower()
        if word in COPULAS and tokens[i + 1][:1].islower() and tokens[i + 1].lower() != "not":
            return " ".join(tokens[: i + 1] + ["not"] + tokens[i + 1 :])
        if word in DO_AUX:
            # skip the subject (a capitalised name or a determiner phrase) to the first lower-case verb
            for j in range(i + 2, min(i + 7, len(tokens))):
                previous = tokens[j - 1]
                if tokens[j][:1].islower() and tokens[j].lower() not in FUNCTION_WORDS and (
                    previous[:1].isupper() or previous.lower() not in FUNCTION_WORDS
                ):
                    return " ".join(tokens[:j] + ["not"] + tokens[j:])
            return None
    return None


Opposites = Callable[[str], list[str]]  # a word -> its opposites in the same form ("closed" -> "opened")


def listed_opposites(word: str) -> list[str]:
    """The small table above: comparatives, directions and time words WordNet gives no opposite in form."""
    return [ANTONYMS[word]] if word in ANTONYMS else []


def with_wordnet(wordnet: "WordNet") -> Opposites:
    """The table's opposites, then WordNet's (``train.py --wordnet-antonyms``, and calibration's changed questions)."""
    return lambda word: listed_opposites(word) + wordnet.antonyms(word)


def antonym(item: Item, rng: random.Random, opposites: Opposites = listed_opposites) -> str | None:
    """'the first' -> 'the last', 'open to the public' -> 'closed to the public': a word of the question the
    answering sentence states, replaced by an opposite the sentence does not say."""
    tokens = item.question.split()
    positive = item.positives[0].lower()
    words = [t.rstrip("?,.;:!") for t in tokens]  # "public?" -> "public", its mark kept below
    options = [
        (i, replacement)
        for i, word in enumerate(words)
        if word.lower() in ANTONYMS or word.isalpha() and word.islower() and word not in FUNCTION_WORDS
        for replacement in opposites(word.lower())
    ]
    rng.shuffle(options)
    for i, replacement in options:
        word = words[i].lower()
        # Only a word the sentence states makes the change unanswerable: "before" in a question whose sentence
        # never says it ("... met last week") is the reader's own context, and turning it into "after" would teach
        # that any time word the sentence does not repeat means "no answer".
        if not re.search(rf"\b{word}\b", positive) or re.search(rf"\b{replacement}\b", positive):
            continue
        return " ".join(tokens[:i] + [replacement + tokens[i][len(words[i]) :]] + tokens[i + 1 :])
    return None


def with_context(item: Item, rng: random.Random) -> str | None:
    """The same question with words that change nothing: readers add the article or its topic to what they ask.

    Paired with the sentence that answers the original (an answer) and with another (not one), so words the
    sentence does not hold stop reading as "unanswerable" when they only say what the question is about.
    """
    question = item.question.rstrip().rstrip("?").rstrip()
    if not question:
        return None
    lowered = question[0].lower() + question[1:] if not question.split()[0].isupper() else question
    titled = not item.article.startswith(("du:", "selqa:"))  # Du et al.'s lines carry no title
    topic = item.article.replace("_", " ")
    templates = ["{q}, according to the article?", "According to the article, {l}?", "{q} in this story?",
                 "{q}, as far as the text says?"]
    if titled:
        templates += ["{q} in the article about {t}?", "About {t}: {l}?", "Regarding {t}, {l}?"]
    return rng.choice(templates).format(q=question, l=lowered, t=topic)


def unanswerable_variant(
    item: Item, rng: random.Random, opposites: Opposites = listed_opposites
) -> tuple[str, str] | None:
    """One perturbed question (and how it was made), or None when no perturbation applies."""
    perturbations: dict[str, Callable[[Item, random.Random], str | None]] = {
        "entity": swap_entity, "number": swap_number, "negation": negate,
        "antonym": lambda item, rng: antonym(item, rng, opposites),
    }
    # Weighted like SQuAD 2.0's own mix (Rajpurkar et al. 2018, table 3), where an antonym and a changed name
    # are the most common tricks, then negation and numbers.
    order = rng.sample(["entity", "entity", "entity", "antonym", "antonym", "antonym", "number", "negation"], k=8)
    for kind in order:
        question = perturbations[kind](item, rng)
        if question and question != item.question:
            return kind, question
    return None


# --- pairs ------------------------------------------------------------------------------------------------


def _stems(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(texts, stopwords="en", show_progress=False, return_ids=False)  # type: ignore[return-value]


def chat_style(question: str, rng: random.Random) -> str:
    """Readers type without the question mark, or in lower case: teach the model not to care."""
    roll = rng.random()
    if roll < 0.12:
        return question.rstrip("?").rstrip()
    if roll < 0.2:
        return question.lower().rstrip("?").rstrip()
    return question


Reworder = Callable[[str, str, random.Random], "str | None"]  # (question, its sentence, rng) -> other words


def make_pairs(
    items: list[Item], seed: int, synthetic_share: float = 0.7, reworder: Reworder | None = None,
    reword_share: float = 0.6, context_share: float = 0.15, opposites: Opposites = listed_opposites,
) -> list[Pair]:
    """Positives, paragraph and BM25 negatives, real and synthetic unanswerables, questions with added context.

    With a ``reworder`` (training/reword.py), a share of the questions is also asked in other words, against the
    same sentences and with the same labels: shared words alone must not decide.
    """
    rng = random.Random(seed)
    pairs: list[Pair] = []

    def also_reworded(question: str, sentence: str, made: list[Pair]) -> None:
        if reworder is None or rng.random() >= reword_share:
            return
        changed = reworder(question, sentence, rng)
        if changed:
            made.extend(Pair(changed, p.sentence, p.label, f"reworded-{p.kind}") for p in list(made))

    by_article: dict[str, list[Item]] = {}
    for item in items:
        by_article.setdefault(item.article, []).append(item)
    for article, article_items in by_article.items():
        sentences = list(dict.fromkeys(s for i in article_items for s in i.article_sentences))
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(sentences, stopwords="en", show_progress=False), show_progress=False)
        k = min(6, len(sentences))
        results, _ = retriever.retrieve(
            bm25s.tokenize([i.question for i in article_items], stopwords="en", show_progress=False),
            k=k, show_progress=False,
        )
        for item, found in zip(article_items, results):
            question = chat_style(item.question, rng)
            close = [sentences[j] for j in found if sentences[j] not in item.positives]
            same_paragraph = [s for s in item.paragraph if s not in item.positives]
            rng.shuffle(same_paragraph)
            if not item.positives:  # a real unanswerable question: nothing near it answers
                for sentence in list(dict.fromkeys(same_paragraph[:4] + close[:2])):
                    pairs.append(Pair(question, sentence, 0, "real-unanswerable"))
                continue
            made = [Pair(question, item.positives[0], 1, "answer")]
            # The closest other sentence always; one from the same paragraph for every other question.
            negatives = close[:1] + (same_paragraph[:1] if rng.random() < 0.5 else [])
            made += [Pair(question, sentence, 0, "other-sentence") for sentence in dict.fromkeys(negatives)]
            also_reworded(question, item.positives[0], made)
            pairs += made
            if rng.random() < context_share:
                framed = chat_style(with_context(item, rng) or question, rng)
                pairs.append(Pair(framed, item.positives[0], 1, "context-answer"))
                pairs += [Pair(framed, sentence, 0, "context-other") for sentence in close[:1]]
            if rng.random() < synthetic_share:
                variant = unanswerable_variant(item, rng, opposites)
                if variant:
                    kind, changed = variant
                    made = [Pair(chat_style(changed, rng), item.positives[0], 0, f"synthetic-{kind}")]
                    also_reworded(made[0].question, item.positives[0], made)
                    pairs += made
    rng.shuffle(pairs)
    return pairs


def split_items(items: list[Item]) -> tuple[list[Item], list[Item]]:
    """Training items, and the held-out articles used for validation and the refusal threshold."""
    train = [i for i in items if i.article not in CALIBRATION_ARTICLES]
    held = [i for i in items if i.article in CALIBRATION_ARTICLES]
    return train, held


if __name__ == "__main__":
    import argparse
    from collections import Counter

    parser = argparse.ArgumentParser(description="Build the reader's training pairs and show a sample.")
    parser.add_argument("--train-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "train")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--sample", type=int, default=30, help="synthetic unanswerables to print for a read by eye")
    args = parser.parse_args()
    all_items = load_items(args.train_dir)
    train_items, held_items = split_items(all_items)
    train_pairs = make_pairs(train_items, args.seed)
    print(f"items: {len(all_items)} (train {len(train_items)}, held out {len(held_items)})")
    print("pairs:", len(train_pairs), Counter(p.kind for p in train_pairs))
    synthetic = [p for p in train_pairs if p.kind.startswith("synthetic")]
    for pair in random.Random(args.seed).sample(synthetic, min(args.sample, len(synthetic))):
        print(f"[{pair.kind}] {pair.question}\n    | {pair.sentence[:160]}")
