"""The reader's training recipe without torch (never installed in CI): the sources read, the pairs made from them,
questions reworded with WordNet, and the threshold calibration chooses, each on small data written here.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The scripts import each other as top-level modules, as `python training/<script>.py` runs them.
sys.path.insert(0, str(ROOT / "training"))
import calibrate  # noqa: E402
import data  # noqa: E402
import reword  # noqa: E402
import sources  # noqa: E402

PARAGRAPH = (
    "The Harbour Bridge was opened in 1932 by Premier Jack Lang. It carries eight lanes of traffic. "
    "Tolls are collected from southbound vehicles only."
)
SECOND_PARAGRAPH = "The bridge was designed by John Bradfield. Its arch is the largest steel arch in Australia."


def squad_file(path: Path, title: str, paragraphs: list[tuple[str, list[dict]]]) -> None:
    """A SQuAD 2.0-format file: each paragraph with its questions."""
    article = {"title": title, "paragraphs": [{"context": c, "qas": qas} for c, qas in paragraphs]}
    path.write_text(json.dumps({"data": [article]}), encoding="utf-8")


def qa(question: str, answer: str | None, context: str) -> dict:
    """A question with its answer span in ``context``, or an unanswerable one (``answer`` None)."""
    if answer is None:
        return {"question": question, "is_impossible": True, "answers": []}
    return {"question": question, "is_impossible": False,
            "answers": [{"text": answer, "answer_start": context.index(answer)}]}


@pytest.fixture
def train_dir(tmp_path: Path) -> Path:
    """The five sources `load_items` reads, a few questions each."""
    squad_file(tmp_path / "squad2-train-first10.json", "Harbour_Bridge", [
        (PARAGRAPH, [qa("When was the bridge opened?", "1932", PARAGRAPH),
                     qa("Who collects tolls from northbound vehicles?", None, PARAGRAPH)]),
        (SECOND_PARAGRAPH, [qa("Who designed the bridge?", "John Bradfield", SECOND_PARAGRAPH)]),
    ])
    squad_file(tmp_path / "squadshifts-new_wiki_v1.0.json", "Doctor_Who", [  # a dev article: never trained on
        (PARAGRAPH, [qa("When was the bridge opened?", "1932", PARAGRAPH)]),
    ])
    for name in ("selqa-ass-dev.json", "selqa-ass-test.json"):
        rows = [{"article": "Lighthouses", "question": f"What guides ships? ({name})",
                 "candidates": ["Storms are common.", " A lighthouse guides ships at night. "], "answers": [1]}]
        (tmp_path / name).write_text(json.dumps(rows), encoding="utf-8")
    # Du et al.: one tokenized sentence and question a line; of the first lines only 0, 2, 3 and 5 are in the share.
    lines = [("the river floods -lrb- every spring -rrb- .", "when does the river flood ?"),
             ("the bridge was opened in 1932 .", "when was the bridge opened ?"),
             ("the dam holds `` lake mead '' .", "what lake does the dam hold ?"),
             ("the bridge was opened in 1932 .", "When was the bridge opened?")]  # in the SQuAD 2.0 file: left out
    (tmp_path / "du2017-squad11-train44-src-test.txt").write_text("\n".join(s for s, _ in lines), encoding="utf-8")
    (tmp_path / "du2017-squad11-train44-tgt-test.txt").write_text("\n".join(q for _, q in lines), encoding="utf-8")
    return tmp_path


def test_sources_give_each_question_the_sentence_holding_its_answer(train_dir: Path) -> None:
    items = {item.question: item for item in sources.load_items(train_dir)}
    opened = items["When was the bridge opened?"]
    assert opened.positives == ["The Harbour Bridge was opened in 1932 by Premier Jack Lang."]
    assert opened.paragraph == [s for _, _, s in sources.sentence_spans(PARAGRAPH)] and len(opened.paragraph) == 3
    assert "The bridge was designed by John Bradfield." in opened.article_sentences  # the whole article
    assert items["Who designed the bridge?"].positives == ["The bridge was designed by John Bradfield."]
    assert items["Who collects tolls from northbound vehicles?"].positives == []  # SQuAD 2.0's unanswerable
    assert {i.article for i in items.values()} == {"Harbour_Bridge", "selqa:Lighthouses", "du:0"}  # no Doctor Who
    selqa = items["What guides ships? (selqa-ass-dev.json)"]
    assert selqa.positives == ["A lighthouse guides ships at night."]
    assert "when does the river flood?" in items and items["when does the river flood?"].positives == [
        "the river floods (every spring)."
    ]
    assert items['what lake does the dam hold?'].positives == ['the dam holds "lake mead".']
    assert "when was the bridge opened?" not in items  # outside Du's share, or already a SQuAD 2.0 question


def test_pairs_label_the_answering_sentence_and_only_it(train_dir: Path) -> None:
    items = sources.load_items(train_dir)
    answers = {i.question: i.positives for i in items}
    pairs = data.make_pairs(items, seed=3, synthetic_share=0.0, context_share=0.0)
    by_kind: dict[str, list[data.Pair]] = {}
    for pair in pairs:
        by_kind.setdefault(pair.kind, []).append(pair)
    assert {(p.question.rstrip("?").lower(), p.sentence) for p in by_kind["answer"]} == {
        (q.rstrip("?").lower(), positives[0]) for q, positives in answers.items() if positives
    }  # chat_style may drop the mark or the capitals: the pair is the same question
    assert all(p.label == 1 for p in by_kind["answer"])
    for pair in by_kind["other-sentence"] + by_kind["real-unanswerable"]:
        assert pair.label == 0
        question = next(q for q in answers if q.rstrip("?").lower() == pair.question.rstrip("?").lower())
        assert pair.sentence not in answers[question]
    assert {p.question for p in by_kind["real-unanswerable"]} <= {
        "Who collects tolls from northbound vehicles?", "Who collects tolls from northbound vehicles",
        "who collects tolls from northbound vehicles",
    }
    assert pairs == data.make_pairs(items, seed=3, synthetic_share=0.0, context_share=0.0)  # the seed decides


def test_a_reworded_question_keeps_the_sentence_and_label_of_each_pair(train_dir: Path) -> None:
    items = sources.load_items(train_dir)
    reworded = data.make_pairs(items, seed=3, synthetic_share=0.0, context_share=0.0, reword_share=1.0,
                               reworder=lambda question, sentence, rng: f"In other words: {question}")
    plain = {(p.question, p.sentence, p.label) for p in reworded if not p.kind.startswith("reworded-")}
    again = {(p.question.removeprefix("In other words: "), p.sentence, p.label)
             for p in reworded if p.kind.startswith("reworded-")}
    assert again and again <= plain


def item(question: str, positive: str, article_sentences: list[str]) -> sources.Item:
    return sources.Item(question, "Harbour_Bridge", [positive], [positive], article_sentences)


def test_unanswerable_variants_change_what_the_answering_sentence_states() -> None:
    positive = "The Harbour Bridge was opened in 1932 by Premier Jack Lang."
    article = [positive, "The bridge was designed by John Bradfield."]
    rng = random.Random(0)
    swapped = data.swap_entity(item("When did Jack Lang open the bridge?", positive, article), rng)
    assert swapped == "When did John Bradfield open the bridge?"  # the other name of the article
    number = data.swap_number(item("Who opened the bridge in 1932?", positive, article), rng)
    assert number is not None and number != "Who opened the bridge in 1932?"
    assert number.startswith("Who opened the bridge in 19") and number[-5:-1] not in positive
    assert data.negate(item("Who was the first to cross?", positive, article), rng) == "Who was not the first to cross?"
    assert data.negate(item("When did Lang open the bridge?", positive, article), rng) == "When did Lang not open the bridge?"
    largest = "Its arch is the largest steel arch in Australia."
    assert data.antonym(item("What is the largest arch?", largest, [largest]), rng) == "What is the smallest arch?"
    # A word the sentence does not state is the reader's own context, not a change to make.
    assert data.antonym(item("What was built before the war?", largest, [largest]), rng) is None


def wordnet_files(root: Path) -> Path:
    """A WordNet 3.0 database in miniature: 'prisoner'/'captive' one noun sense, 'open' and 'close' opposite verbs."""
    root.mkdir()
    synsets = {  # (part of speech, key): (lemmas, antonym pointers to (part of speech, key))
        ("noun", "prisoner"): (["prisoner", "captive"], []),
        ("verb", "open"): (["open"], [("verb", "close")]),
        ("verb", "close"): (["close"], [("verb", "open")]),
    }
    offsets: dict[tuple[str, str], int] = {}
    for name in ("noun", "verb", "adj", "adv"):
        header = "  1 This software and database is being provided to you, the LICENSEE, by Princeton University\n"
        at = len(header.encode("latin-1"))
        for key in [k for k in synsets if k[0] == name]:
            offsets[key] = at
            at += 100  # each line is padded to 100 bytes below
        lines = [header]
        for key in [k for k in synsets if k[0] == name]:
            lemmas, pointers = synsets[key]
            words = " ".join(f"{lemma} 0" for lemma in lemmas)
            links = " ".join(f"! {offsets.get(t, 0):08d} {t[0][0]} 0101" for t in pointers)
            line = f"{offsets[key]:08d} 29 {name[0]} {len(lemmas):02x} {words} {len(pointers):03d} {links} | gloss"
            lines.append(line.ljust(99) + "\n")
        (root / f"data.{name}").write_text("".join(lines), encoding="latin-1")
        (root / f"{name}.exc").write_text("", encoding="latin-1")
    index: dict[str, list[str]] = {"noun": [], "verb": [], "adj": [], "adv": []}
    for (name, _), (lemmas, pointers) in synsets.items():
        for lemma in lemmas:
            symbols = " ".join("!" for _ in pointers)
            offset = offsets[(name, lemmas[0])]
            index[name].append(f"{lemma} {name[0]} 1 {len(pointers)} {symbols} 1 5 {offset:08d}".replace("  ", " "))
    for name, lines in index.items():
        (root / f"index.{name}").write_text("  1 licence header\n" + "".join(f"{line}\n" for line in lines),
                                            encoding="latin-1")
    return root


class Decisive(random.Random):
    """A random source whose ``random()`` never falls under reword's 35% chance of keeping a word."""

    def random(self) -> float:
        return 0.99


def test_reword_puts_a_common_synonym_for_a_word_the_sentence_shares(tmp_path: Path) -> None:
    wordnet = reword.WordNet(wordnet_files(tmp_path / "wordnet"))
    skip = data.FUNCTION_WORDS
    sentence = "Ten prisoners were freed at the border."
    assert reword.reword("How many prisoners were freed?", sentence, wordnet, Decisive(), skip) == (
        "How many captives were freed?"  # in the word's number
    )
    assert reword.reword("Was the prisoner freed?", sentence, wordnet, Decisive(), skip) == "Was the captive freed?"
    # Only words the sentence shares: the question in other words must still be answered by the same sentence.
    assert reword.reword("How many prisoners were freed?", "Ten were freed.", wordnet, Decisive(), skip) is None
    assert wordnet.antonyms("opened") == ["closed"] and wordnet.antonyms("open") == ["close"]
    assert data.with_wordnet(wordnet)("open") == ["close"] and data.with_wordnet(wordnet)("first") == ["last"]
    changed = data.antonym(item("When was the door opened?", "The door was opened at noon.", []), random.Random(0),
                           data.with_wordnet(wordnet))
    assert changed == "When was the door closed?"


def scored(answerable: bool, best: float, second: float = 0.0, holds: bool = True) -> calibrate.Scored:
    return calibrate.Scored(answerable, best, second, best_has_answer=holds, second_has_answer=False)


def test_calibration_chooses_the_threshold_in_the_middle_of_the_gap_between_answers_and_refusals() -> None:
    def held_out(shift: float) -> list[calibrate.Scored]:
        # Answerable questions score 0.55 or more with the answer in the best sentence; unanswerable ones 0.35 or less.
        return [scored(True, 0.55 + shift + 0.04 * i) for i in range(10)] + [
            scored(False, 0.05 + shift + 0.03 * i) for i in range(11)
        ]

    threshold, table = calibrate.choose_threshold(held_out(0.0), second_share=0.8, unanswerable_share=1 / 3)
    assert threshold == pytest.approx(0.45)  # every threshold in (0.35, 0.55] is right: the middle, not an edge
    assert table[threshold]["answer_accuracy"] == table[threshold]["refusal_accuracy"] == 1.0
    assert table[0.02]["refusal_accuracy"] == 0.0 and table[0.98]["answer_accuracy"] == 0.0
    higher, _ = calibrate.choose_threshold(held_out(0.1), second_share=0.8, unanswerable_share=1 / 3)
    assert higher == pytest.approx(0.55)


def test_calibration_rates_count_a_second_sentence_only_when_it_is_quoted() -> None:
    # The best sentence lacks the answer, the second holds it and scores 0.9 of the best.
    question = calibrate.Scored(True, 0.8, 0.72, best_has_answer=False, second_has_answer=True)
    quoted = calibrate.rates([question], threshold=0.5, second_share=0.8, unanswerable_share=1 / 3)
    alone = calibrate.rates([question], threshold=0.5, second_share=0.95, unanswerable_share=1 / 3)
    assert quoted["answer_accuracy"] == 1.0 and quoted["citation_precision"] == 0.5
    assert alone["answer_accuracy"] == 0.0 and alone["citation_precision"] == 0.0
