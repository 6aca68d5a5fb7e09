"""Loading and splitting: front matter, stable ids, no duplicate passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus import SentenceSplitter, load_documents, parse_document
from rag.errors import CorpusError
from tests.conftest import CORPUS


def test_seed_article_front_matter_is_parsed() -> None:
    [doc] = load_documents(CORPUS)
    assert doc.doc_id == "prisoner-exchange"
    assert doc.title.startswith("Major Prisoner Exchange")
    assert doc.date == "2025-05-23"
    assert doc.examples and all(q.endswith("?") for q in doc.examples)
    assert not doc.text.startswith("---")


def test_repeated_headline_and_lead_are_indexed_once() -> None:
    passages = SentenceSplitter().split(load_documents(CORPUS))
    texts = [p.text for p in passages]
    assert len(texts) == len(set(texts))
    assert sum("Major Prisoner Exchange Marks" in t for t in texts) == 1
    assert [p.ordinal for p in passages] == list(range(1, len(passages) + 1))
    assert all(p.passage_id == f"prisoner-exchange:{p.ordinal}" for p in passages)


def test_abbreviations_do_not_split_sentences() -> None:
    passages = SentenceSplitter().split(load_documents(CORPUS))
    trump = [p.text for p in passages if "Trump" in p.text]
    assert len(trump) == 1 and "U.S. President Donald Trump" in trump[0]


def test_ids_are_stable_across_runs() -> None:
    first = SentenceSplitter().split(load_documents(CORPUS))
    second = SentenceSplitter().split(load_documents(CORPUS))
    assert [(p.passage_id, p.content_hash) for p in first] == [(p.passage_id, p.content_hash) for p in second]


def test_several_documents_md_and_txt(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("Plain text article. It has two sentences.\n")
    (tmp_path / "A Story.md").write_text("# A heading title\n\nThe first line. The second line.\n")
    (tmp_path / "notes.json").write_text("{}")
    docs = load_documents(tmp_path)
    assert [d.doc_id for d in docs] == ["a-story", "b"]
    assert docs[0].title == "A heading title"
    passages = SentenceSplitter().split(docs)
    assert [p.passage_id for p in passages] == ["a-story:1", "a-story:2", "a-story:3", "b:1", "b:2"]


def test_missing_or_empty_corpus_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_documents(tmp_path / "nope")
    with pytest.raises(CorpusError, match="no .md or .txt"):
        load_documents(tmp_path)


def test_front_matter_without_title_falls_back_to_file_name() -> None:
    doc = parse_document(Path("my_story.md"), "---\ndate: 2024-01-01\n---\nBody text here.")
    assert doc.title == "my story" and doc.date == "2024-01-01" and doc.text == "Body text here."


def test_a_binary_or_latin1_file_does_not_stop_the_corpus(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "good.md").write_text("The mayor opened a bridge.\n")
    (tmp_path / "old-export.md").write_bytes("The caf\u00e9 in M\u00fcnchen served 12 guests \u2013 all of them.\n".encode("cp1252"))
    (tmp_path / "picture.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    caplog.set_level("WARNING")
    docs = load_documents(tmp_path)
    assert [d.doc_id for d in docs] == ["good", "old-export"]
    assert docs[1].text == "The caf\u00e9 in M\u00fcnchen served 12 guests \u2013 all of them."
    skipped = [r.getMessage() for r in caplog.records if "corpus.skipped" in r.getMessage()]
    assert skipped == [f"corpus.skipped path={tmp_path / 'picture.md'} reason=binary"]
    assert "corpus.decoded" in caplog.text and "encoding=cp1252" in caplog.text


def test_a_huge_paragraph_is_split_in_pieces_with_progress(tmp_path: Path) -> None:
    sentence = "The delegation number {} met the negotiators in the port. "
    paragraph = "".join(sentence.format(i) for i in range(2000))  # ~120,000 characters on one line
    (tmp_path / "huge.md").write_text(f"# Huge\n{paragraph}\n")
    stages: list[tuple[str, int, int]] = []
    passages = SentenceSplitter().split(load_documents(tmp_path), lambda *stage: stages.append(stage))
    assert len(passages) == 2001  # the heading and every sentence, none cut in two by the pieces
    assert all(p.text.startswith(("The delegation number", "Huge")) for p in passages)
    assert stages[-1][0] == "Splitting sentences" and stages[-1][1] == stages[-1][2] > 100_000


def test_a_bad_front_matter_costs_the_title_not_the_text(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "talks.md").write_text("---\ntitle: Talks: day two\ndate: 2025-05-23\n---\nThe talks went on.\n")
    (tmp_path / "good.md").write_text("---\ntitle: 'Talks: day one'\nsource:\n---\nThe talks began.\n")
    caplog.set_level("WARNING")
    bad, good = sorted(load_documents(tmp_path), key=lambda doc: doc.doc_id, reverse=True)
    assert (bad.title, bad.date, bad.text) == ("talks", "", "The talks went on.")
    assert (good.title, good.source) == ("Talks: day one", "")
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [f"corpus.bad_front_matter path={tmp_path / 'talks.md'} line=2 reason=invalid_yaml"]
