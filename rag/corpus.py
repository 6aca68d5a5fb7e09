"""Load the corpus and split it into sentence passages with stable ids.

One splitter for the whole project: documents → unique sentences → ``Passage``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pysbd
import yaml

from .errors import CorpusError, EmptyCorpusError
from .models import Document, Passage

log = logging.getLogger(__name__)

# ``progress(stage, done, total)``: what is being done ("Splitting sentences", "Embedding passages", …) and how far.
ProgressCallback = Callable[[str, int, int], None]

SUFFIXES = (".md", ".markdown", ".txt")
_SNIFF_BYTES = 8192  # enough of a file to tell text from binary
_MAX_CONTROL_SHARE = 0.01  # text has tabs and newlines, not other control characters
_MAX_SEGMENT_CHARS = 20_000  # pysbd's time and memory grow with the line: a huge paragraph is cut first
_PROGRESS_EVERY_CHARS = 1_000_000
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def slugify(name: str) -> str:
    """A short id fit for passage ids: ``"Prisoner Exchange.md"`` → ``"prisoner-exchange"``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or hashlib.sha1(name.encode()).hexdigest()[:8]


def _parse_front_matter(path: Path, block: str) -> dict[str, object]:
    """The front matter's keys, lower-cased; none, with one log line, when it is not a YAML mapping.

    A bad front matter costs the file its title and date, not its text: the body is still answered from.
    """
    try:
        meta = yaml.safe_load(block)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = where.line + 2 if where else "?"  # the block starts on the file's second line, after "---"
        log.warning("corpus.bad_front_matter path=%s line=%s reason=invalid_yaml", path, line)
        return {}
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        log.warning("corpus.bad_front_matter path=%s reason=not_a_mapping", path)
        return {}
    return {str(key).lower(): value for key, value in meta.items()}


def parse_document(path: Path, text: str) -> Document:
    """A ``Document`` from a file's text; title falls back to the first heading or the file name."""
    meta: dict[str, object] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        meta = _parse_front_matter(path, match.group(1))
        text = text[match.end() :]
    body = text.strip()
    title = str(meta.get("title") or "")
    if not title:
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        title = heading.group(1).strip() if heading else path.stem.replace("-", " ").replace("_", " ").strip()
    examples = meta.get("examples")
    return Document(
        doc_id=slugify(path.stem),
        title=title,
        date=str(meta.get("date") or ""),
        source=str(meta.get("source") or ""),
        text=body,
        examples=tuple(str(question) for question in examples) if isinstance(examples, list) else (),
    )


def read_article(path: Path) -> str | None:
    """The text of one article file, or None (with one log line naming it) when it is not text.

    UTF-8 first; a file that is not UTF-8 but reads as Windows-1252 or Latin-1 text (an old export)
    is decoded so and said so. One bad or half-written file must not keep the rest of the corpus from loading.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        log.warning("corpus.skipped path=%s reason=unreadable error=%s", path, exc.strerror)
        return None
    if b"\0" in raw[:_SNIFF_BYTES]:
        log.warning("corpus.skipped path=%s reason=binary", path)
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):  # latin-1 decodes any byte: cp1252 first, for its quotes and dashes
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        sample = text[:_SNIFF_BYTES]
        controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
        if controls > len(sample) * _MAX_CONTROL_SHARE:
            break
        log.warning("corpus.decoded path=%s encoding=%s reason=not_utf8", path, encoding)
        return text
    log.warning("corpus.skipped path=%s reason=binary", path)
    return None


def load_documents(corpus_dir: Path) -> list[Document]:
    """Every ``.md``/``.txt`` file under ``corpus_dir``, sorted by path so ids are stable."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus directory {corpus_dir} does not exist")
    documents: list[Document] = []
    seen: dict[str, Path] = {}
    for path in sorted(p for p in corpus_dir.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        text = read_article(path)
        if text is None:  # a live corpus reads it again on its next change
            continue
        doc = parse_document(path, text)
        if doc.doc_id in seen:
            raise CorpusError(f"{path} and {seen[doc.doc_id]} would share the id {doc.doc_id!r}; rename one")
        seen[doc.doc_id] = path
        if doc.text:
            documents.append(doc)
        else:
            log.warning("corpus.empty_document path=%s", path)
    if not documents:
        raise EmptyCorpusError(f"no .md or .txt articles with text in {corpus_dir}")
    return documents


def _normalise(sentence: str) -> str:
    """The form used to spot repeated sentences (the source repeats its headline and lead)."""
    return re.sub(r"\W+", " ", sentence.casefold()).strip()


def _clean_line(line: str) -> str:
    """Strip Markdown decoration a reader would not quote: heading marks, list bullets, emphasis."""
    line = re.sub(r"^\s{0,3}(#{1,6}\s+|[-*+]\s+|>\s?)", "", line)
    return re.sub(r"(\*\*|__|`)", "", line).strip()


class SentenceSplitter:
    """Splits documents into unique sentence passages.

    pysbd handles abbreviations such as "U.S. President" that a regex would cut.
    Each source line is treated as a paragraph: headlines carry no final full stop
    and must not be glued to the next sentence.
    """

    def __init__(self, language: str = "en") -> None:
        self._segmenter = pysbd.Segmenter(language=language, clean=False)

    def sentences(self, text: str, read: Callable[[int], None] | None = None) -> Iterable[tuple[int, str]]:
        """``(paragraph number, sentence)`` pairs in reading order; ``read(n)`` hears of each n characters done."""
        paragraph = 0
        for line in _lines(text):
            if read:
                read(len(line) + 1)
            line = _clean_line(line)
            if not line:
                continue
            paragraph += 1
            for piece in _pieces(line):
                for sentence in self._segmenter.segment(piece):
                    sentence = sentence.strip()
                    if re.search(r"\w", sentence):
                        yield paragraph, sentence

    def split(self, documents: list[Document], progress: ProgressCallback | None = None) -> list[Passage]:
        """Unique sentences of every document, each with a stable ``<doc_id>:<ordinal>`` id.

        A sentence already seen in the same document (a repeated headline or lead)
        is skipped, so the index never holds duplicates and ordinals stay stable.
        """
        total = sum(len(doc.text) for doc in documents)
        done, reported = 0, 0

        def read(chars: int) -> None:
            nonlocal done, reported
            done += chars
            if progress and done - reported >= _PROGRESS_EVERY_CHARS:
                reported = done
                progress("Splitting sentences", min(done, total), total)

        passages: list[Passage] = []
        for doc in documents:
            seen: set[str] = set()
            ordinal = 0
            for paragraph, sentence in self.sentences(doc.text, read):
                key = _normalise(sentence)
                if key in seen:
                    continue
                seen.add(key)
                ordinal += 1
                passages.append(
                    Passage(
                        passage_id=f"{doc.doc_id}:{ordinal}",
                        doc_id=doc.doc_id,
                        ordinal=ordinal,
                        text=sentence,
                        paragraph=paragraph,
                        content_hash=hashlib.sha256(f"{doc.title}\n{sentence}".encode()).hexdigest()[:16],
                    )
                )
        if progress:
            progress("Splitting sentences", total, total)
        return passages


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time: a 50 MB article is not copied into a list of lines first."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        yield text[start:end].rstrip("\r")
        start = end + 1


def _pieces(line: str) -> Iterator[str]:
    """A paragraph cut into pieces pysbd handles quickly, at a sentence end (". ") where there is one."""
    while len(line) > _MAX_SEGMENT_CHARS:
        cut = line.rfind(". ", 0, _MAX_SEGMENT_CHARS)
        cut = _MAX_SEGMENT_CHARS if cut < 0 else cut + 1
        yield line[:cut]
        line = line[cut:].lstrip()
    yield line
