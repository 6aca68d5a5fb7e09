"""A living corpus: articles added, changed or removed while the bot runs, noticed by the real watcher.

Waits poll a condition until a generous deadline; how fast a change is answered is the bench's
``reload`` figure, never an assert here.
"""

from __future__ import annotations

import ast
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rag import EmptyCorpusError, Settings
from rag.live import CorpusWatcher, LiveEngine
from rag.reader import AnswerabilityReader
from tests.conftest import EUROVISION, make_settings
from tests.fake_embedder import HashedWordsEmbedding
from tests.telegram_loopback import running_bot
from tests.test_followups import ask

NEW_QUESTION = "Which ballad won the contest?"
NEW_TITLE = "Basel Hosts the Eurovision Final"
QUESTION = "How many people were exchanged?"  # answered by the seed article
DEADLINE_S = 60.0  # a deadline for a condition on a loaded 2-core machine, not a speed check


def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {DEADLINE_S:.0f} s"
        time.sleep(0.05)


@pytest.fixture
def live_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def live(
    live_settings: Settings, fake_embedder: HashedWordsEmbedding, reader: AnswerabilityReader
) -> Iterator[LiveEngine]:
    """Reload mechanics, not retrieval, are tested here: the stand-in embedder, the shared reader."""
    holder = LiveEngine.open(live_settings, embedder=fake_embedder, reader=reader)
    yield holder
    holder.close()


def test_article_added_then_removed_while_the_bot_runs(live_settings: Settings, live: LiveEngine) -> None:
    article = live_settings.corpus_dir / "eurovision.md"
    before = live.current.info().passages
    with running_bot(live_settings, live, user_rate_limit=1000) as harness:  # it asks again and again
        assert NEW_TITLE not in ask(harness, NEW_QUESTION)
        article.write_text(EUROVISION, encoding="utf-8")

        eventually(lambda: f"Sources — {NEW_TITLE}" in ask(harness, NEW_QUESTION), "the new article answers")
        reply = ask(harness, NEW_QUESTION)
        assert "JJ" in reply and "Wasted Love" in reply
        assert live.current.last_sync is not None and live.current.last_sync.embedded == 3  # only the new sentences
        assert live.current.info().passages == before + 3
        articles = ask(harness, "/articles")
        assert f"{NEW_TITLE} — 2025-06-01, 3 passages" in articles and f", {before} passages" in articles
        assert NEW_QUESTION in ask(harness, "/start")  # the newest article's examples
        # The reloaded engine asks them in the background: the one it refuses is soon no longer suggested.
        eventually(lambda: "World Cup" not in ask(harness, "/start"), "the refused example is left out")
        assert NEW_QUESTION in ask(harness, "/start")
        assert "Last sync:" in ask(harness, "/about")

        article.unlink()
        eventually(lambda: NEW_TITLE not in ask(harness, NEW_QUESTION), "the removed article is no longer cited")
        assert live.current.passage_with_context("eurovision:1") == []
        assert "390" in ask(harness, QUESTION)  # the rest of the corpus is untouched


def test_removing_every_article_stops_citing_them_until_one_is_added(
    live_settings: Settings, live: LiveEngine
) -> None:
    # Asked in the article's own words ("people", not "prisoners"): which sentence answers is not under test here.
    removed = {p: p.read_text(encoding="utf-8") for p in live_settings.corpus_dir.glob("*.md")}
    with running_bot(live_settings, live, user_rate_limit=1000) as harness:
        assert "390" in ask(harness, QUESTION)
        for path in removed:
            path.unlink()
        eventually(lambda: "no articles to answer from" in ask(harness, QUESTION),
                   "the bot says it has no articles")
        assert "no articles to answer from" in ask(harness, "/articles")
        with pytest.raises(EmptyCorpusError):
            live.current.answer(QUESTION)
        (live_settings.corpus_dir / "eurovision.md").write_text(EUROVISION, encoding="utf-8")
        eventually(lambda: "Wasted Love" in ask(harness, NEW_QUESTION), "a new article is answered from again")
        assert "390" not in ask(harness, QUESTION)


def test_broken_file_is_skipped_and_retried_on_its_next_change(
    live_settings: Settings, live: LiveEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING")
    article = live_settings.corpus_dir / "eurovision.md"
    reloads = live.reloads
    watcher = CorpusWatcher(live_settings.corpus_dir, live.reload).start()
    try:
        # Half-written: its blocks are allocated but not filled yet, so they read as zeros. (A file that is merely
        # not UTF-8 is read as Windows-1252, not skipped.)
        article.write_bytes(EUROVISION.encode()[:60] + bytes(4096))
        eventually(lambda: live.reloads > reloads, "the change is noticed")
        assert caplog.text.count("corpus.skipped") == 1 and "eurovision.md" in caplog.text
        assert "390" in live.current.answer(QUESTION).text  # the others still answer
        article.write_text(EUROVISION, encoding="utf-8")  # the editor saves it properly
        eventually(lambda: "JJ" in live.current.answer(NEW_QUESTION).text, "the fixed file answers")
    finally:
        watcher.stop()


def test_a_failed_rebuild_keeps_the_previous_engine(live_settings: Settings, live: LiveEngine) -> None:
    engine = live.current
    (live_settings.corpus_dir / "Prisoner Exchange.md").write_text("Two files, one id.\n", encoding="utf-8")
    assert live.reload() is False
    assert live.current is engine and "390" in live.current.answer(QUESTION).text


def start_watching(corpus: Path, poll_seconds: float = 0.0) -> tuple[CorpusWatcher, list[float]]:
    """A watcher over ``corpus`` that is surely watching: an article is written until the watcher reports it (a
    change made before its watch is set up would be missed, and a test could pass for that reason). Returns the
    watcher and the times it reported a change; the article written is ``probe.md``."""
    reported: list[float] = []
    watcher = CorpusWatcher(corpus, lambda: reported.append(time.monotonic()), poll_seconds=poll_seconds).start()

    def noticed() -> bool:
        if not reported:
            (corpus / "probe.md").write_text(f"Written at {time.monotonic()}.\n", encoding="utf-8")
            time.sleep(0.3)
        return bool(reported)

    eventually(noticed, "the watcher reports a new article")
    return watcher, reported


def changed_files(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every file name the watcher logged as changed, in order."""
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("corpus.changed files=")]
    return [name for line in lines for name in ast.literal_eval(line.partition("=")[2])]


def test_only_article_files_are_changes_to_the_corpus(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="rag.live")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    watcher, _ = start_watching(corpus)
    try:
        # Files watchfiles' own filter lets through (it drops editors' .swp and ~ files): not articles either.
        for junk in ("notes.tmp", "draft.docx", "photo.PNG"):
            (corpus / junk).write_text("not an article", encoding="utf-8")
        (corpus / "new.md").write_text(EUROVISION, encoding="utf-8")  # after them: reported after (or with) them
        eventually(lambda: "new.md" in changed_files(caplog), "the new article is reported")
    finally:
        watcher.stop()
    assert set(changed_files(caplog)) == {"probe.md", "new.md"}


def test_polling_notices_changes_where_file_events_do_not_arrive(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="rag.live")
    corpus = tmp_path / "mounted"
    corpus.mkdir()
    watcher, reported = start_watching(corpus, poll_seconds=0.2)
    try:
        # A volume mounted again: the directory is replaced, and file events watch the one that is gone.
        corpus.rename(tmp_path / "unmounted")
        corpus.mkdir()
        (corpus / "new.md").write_text(EUROVISION, encoding="utf-8")
        eventually(lambda: "new.md" in changed_files(caplog), "polling notices the article")
    finally:
        watcher.stop()
    assert len(reported) >= 2


def test_two_replicas_on_one_chroma_server_write_the_index_once(
    tmp_path: Path, chroma_server: int, fake_embedder: HashedWordsEmbedding, reader: AnswerabilityReader
) -> None:
    settings = make_settings(tmp_path, chroma_host="127.0.0.1", chroma_port=chroma_server, collection_prefix="replicas")
    # One shared corpus folder.
    replicas = [LiveEngine.open(settings, embedder=fake_embedder, reader=reader) for _ in range(2)]
    (settings.corpus_dir / "eurovision.md").write_text(EUROVISION, encoding="utf-8")
    threads = [threading.Thread(target=replica.reload) for replica in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    embedded = sorted(replica.current.last_sync.embedded for replica in replicas)  # type: ignore[union-attr]
    assert embedded == [0, 3]  # one wrote the new sentences, the other found them there and only reloaded
    for replica in replicas:
        assert "JJ" in replica.current.answer(NEW_QUESTION).text
        replica.close()
