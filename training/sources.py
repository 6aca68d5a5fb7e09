"""Where the reader's training questions come from, read in place from ``../shared/train``.

- SQuAD 2.0 train, first ten articles: answerable questions and the real unanswerable ones;
- SQuAD-shifts new_wiki: answerable questions on 48 other Wikipedia articles;
- SelQA answer-sentence selection (dev and test): labelled answer and non-answer sentences of a section;
- Du et al. 2017 (test split): the sentence that answers each question of 44 SQuAD 1.1 train articles.

Licences and credit: rag/reader_model/MODEL_CARD.md. Sentences are split with pysbd, as the engine splits its corpus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pysbd

DROPPED_ARTICLES = {"Doctor_Who", "Doctor Who"}  # a SQuAD 1.1 dev title (in SelQA): never train on dev articles
WORD_TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*|[^\w\s]")


@dataclass
class Item:
    """One question with the sentences it is judged against."""

    question: str
    article: str
    positives: list[str]  # sentences that answer it (empty: unanswerable)
    paragraph: list[str]  # the sentences of its paragraph or section
    article_sentences: list[str] = field(default_factory=list, repr=False)



_SEGMENTER = pysbd.Segmenter(language="en", clean=False, char_span=True)


def sentence_spans(text: str) -> list[tuple[int, int, str]]:
    """The same splitter the engine uses, with character offsets."""
    return [(s.start, s.end, s.sent.strip()) for s in _SEGMENTER.segment(text) if s.sent.strip()]


def _squad_items(path: Path, with_impossible: bool) -> Iterator[Item]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    for article in data:
        title = article["title"]
        if title in DROPPED_ARTICLES:
            continue
        paragraphs = [(p, sentence_spans(p["context"])) for p in article["paragraphs"]]
        all_sentences = [s for _, spans in paragraphs for _, _, s in spans]
        for paragraph, spans in paragraphs:
            sentences = [s for _, _, s in spans]
            for qa in paragraph["qas"]:
                impossible = with_impossible and qa.get("is_impossible", False)
                positives: list[str] = []
                if not impossible:
                    for answer in qa["answers"]:
                        start = answer["answer_start"]
                        for lo, hi, sentence in spans:
                            if lo <= start < hi and sentence not in positives:
                                positives.append(sentence)
                    if not positives:
                        continue
                yield Item(qa["question"].strip(), title, positives, sentences, all_sentences)


def _selqa_items(path: Path) -> Iterator[Item]:
    for row in json.loads(path.read_text(encoding="utf-8")):
        if row["article"] in DROPPED_ARTICLES:
            continue
        candidates = [c.strip() for c in row["candidates"]]
        positives = [candidates[i] for i in row["answers"]]
        yield Item(row["question"].strip(), f"selqa:{row['article']}", positives, candidates, candidates)


def _detokenize(text: str) -> str:
    """Du et al.'s files are tokenized: 'lourdes , france' -> 'lourdes, france'."""
    for token, char in (("`` ", '"'), (" ''", '"'), ("-lrb- ", "("), (" -rrb-", ")"), ("-lsb- ", "["), (" -rsb-", "]")):
        text = text.replace(token, char)
    return re.sub(r" ([,.;:?!%)])", r"\1", text).strip()


def _du_items(src: Path, tgt: Path, known_questions: set[str], share: float = 0.4) -> Iterator[Item]:
    sentences = [_detokenize(s) for s in src.read_text(encoding="utf-8").splitlines()]
    questions = [_detokenize(q) for q in tgt.read_text(encoding="utf-8").splitlines()]
    for i, (sentence, question) in enumerate(zip(sentences, questions)):
        # Left out: questions already in the SQuAD 2.0 file, and all but a fixed, spread-out share of the rest
        # (lower-cased and tokenized, they teach less per pair; the share keeps training near an hour on 2 cores).
        if question_key(question) in known_questions or (i * 7919) % 100 >= share * 100:
            continue
        # No article boundaries in these files: lines nearby come from the same article, in order.
        window = list(dict.fromkeys(sentences[max(0, i - 40) : i + 40]))
        yield Item(question, f"du:{i // 400}", [sentence], window, window)


def write_article(article: dict, path: Path) -> Path:
    """A SQuAD article as a corpus file the engine reads (front matter with its title, one paragraph a block)."""
    body = "\n\n".join(p["context"].strip() for p in article["paragraphs"])
    path.write_text(f"---\ntitle: {article['title'].replace('_', ' ')}\n---\n\n{body}\n", encoding="utf-8")
    return path


def question_key(question: str) -> str:
    return " ".join(WORD_TOKEN.findall(question.lower()))


def load_items(train_dir: Path) -> list[Item]:
    squad2 = list(_squad_items(train_dir / "squad2-train-first10.json", with_impossible=True))
    shifts = list(_squad_items(train_dir / "squadshifts-new_wiki_v1.0.json", with_impossible=False))
    selqa = [
        item
        for name in ("selqa-ass-dev.json", "selqa-ass-test.json")
        for item in _selqa_items(train_dir / name)
    ]
    known = {question_key(i.question) for i in squad2}
    du = list(
        _du_items(
            train_dir / "du2017-squad11-train44-src-test.txt", train_dir / "du2017-squad11-train44-tgt-test.txt", known
        )
    )
    return squad2 + shifts + selqa + du
