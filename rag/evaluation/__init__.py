"""Scoring the engine: question sets (``questions``), conversations with follow-ups (``conversations``) and
SQuAD-style samples with each article indexed alone (``squad``). Not on the answering path: the command line's
``eval``, the tests, the benchmarks and training call it."""
