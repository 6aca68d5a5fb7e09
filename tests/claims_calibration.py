"""How well sentences shown in another language are checked, on tests/data/claims.jsonl, and where the threshold lies.

Each line is a sentence in Ukrainian, Russian or Spanish as a model could show it, the corpus sentence it cites,
and whether it is faithful (a translation or paraphrase of that sentence) or altered (another name, number or
meaning, a negation, or a claim that belongs to another sentence). ``python -m tests.claims_calibration`` prints,
for each threshold of rag.meaning, how many faithful sentences survive and how many altered ones are caught, and
the figures of the real check (rag.citations.CitationChecker) with the threshold in force.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.citations import CitationChecker, DraftSentence
from rag.claims import claim_problem, known_names
from rag.corpus import SentenceSplitter, load_documents
from rag.embeddings import MiniLMEmbedding
from rag.language import LanguageGuard
from rag.meaning import CROSSLINGUAL_SUPPORT, MeaningCheck
from rag.models import Evidence, Passage
from rag.multilingual import E5Embedding
from rag.names import article_names
from rag.spelling import SpellingCorrector

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = ROOT / "tests" / "data" / "claims.jsonl"


@dataclass(frozen=True)
class LabelledClaim:
    """A sentence shown in another language, the corpus sentence it cites, and whether that sentence supports it."""

    id: str
    lang: str
    kind: str  # "faithful", or how it was altered
    faithful: bool
    passage_id: str
    shown: str


@dataclass(frozen=True)
class Figures:
    """Faithful sentences kept and altered ones caught, overall and by kind of alteration."""

    faithful_kept: int
    faithful: int
    altered_caught: int
    altered: int
    caught_by_kind: dict[str, tuple[int, int]]  # kind -> (caught, total)

    def line(self) -> str:
        kinds = " ".join(f"{kind}={caught}/{total}" for kind, (caught, total) in sorted(self.caught_by_kind.items()))
        return (f"faithful kept {self.faithful_kept}/{self.faithful}, altered caught "
                f"{self.altered_caught}/{self.altered} ({kinds})")


def load_claims(path: Path = CLAIMS) -> list[LabelledClaim]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [LabelledClaim(r["id"], r["lang"], r["kind"], r["faithful"], r["passage_id"], r["shown"]) for r in rows]


def corpus_passages() -> dict[str, Passage]:
    return {p.passage_id: p for p in SentenceSplitter().split(load_documents(ROOT / "corpus"))}


def figures(claims: list[LabelledClaim], caught: list[bool]) -> Figures:
    by_kind: Counter[str] = Counter(c.kind for c in claims if not c.faithful)
    caught_kind: Counter[str] = Counter(c.kind for c, hit in zip(claims, caught) if hit and not c.faithful)
    return Figures(
        faithful_kept=sum(c.faithful and not hit for c, hit in zip(claims, caught)),
        faithful=sum(c.faithful for c in claims),
        altered_caught=sum(not c.faithful and hit for c, hit in zip(claims, caught)),
        altered=sum(not c.faithful for c in claims),
        caught_by_kind={kind: (caught_kind[kind], total) for kind, total in by_kind.items()},
    )


def corpus_checker(embedder: MiniLMEmbedding, meaning: MeaningCheck, passages: list[Passage]) -> CitationChecker:
    """The checker as the engine builds it over the corpus: English told from other languages by LanguageGuard."""
    language = LanguageGuard(SpellingCorrector(passages, embedder.known_words()).known_words)
    return CitationChecker(embedder, {}, language.is_english, known_names([p.text for p in passages]), meaning)


def checked(checker: CitationChecker, claims: list[LabelledClaim], passages: dict[str, Passage]) -> list[bool]:
    """For each claim, whether the real checker strips it when a model shows it citing its passage."""
    stripped = []
    for claim in claims:
        passage = passages[claim.passage_id]
        evidence = [Evidence(passage=passage, score=1.0, dense_similarity=1.0, keyword_score=0.0)]
        stripped.append(not checker.check([DraftSentence(claim.shown, [claim.passage_id])], evidence).citations)
    return stripped


def sweep(meaning: MeaningCheck, claims: list[LabelledClaim], passages: dict[str, Passage]) -> list[tuple[float, Figures]]:
    """The figures at each threshold (the word-level checks of rag.claims decide alike at all of them)."""
    names = known_names([p.text for p in passages.values()])
    fixed, similarities = [], []
    for claim in claims:
        cited = [passages[claim.passage_id]]
        source = cited[0].text
        rule = claim_problem(claim.shown, source, article_names(cited), names, in_english=False)
        fixed.append(rule is not None)
        similarities.append(meaning.similarity(claim.shown, [source]))
    return [
        (threshold, figures(claims, [hit or similarity < threshold for hit, similarity in zip(fixed, similarities)]))
        for threshold in np.round(np.arange(0.78, 0.86, 0.005), 3)
    ]


def main() -> None:
    claims, passages = load_claims(), corpus_passages()
    meaning = MeaningCheck(E5Embedding())
    for threshold, result in sweep(meaning, claims, passages):
        print(f"threshold {threshold:.3f}: {result.line()}")
    checker = corpus_checker(MiniLMEmbedding(), meaning, list(passages.values()))
    print(f"in force ({CROSSLINGUAL_SUPPORT}), through CitationChecker: {figures(claims, checked(checker, claims, passages)).line()}")


if __name__ == "__main__":
    main()
