"""``python -m benchmarks [--quick] [-s SECTION] [--json]``, from the root of a checkout."""

from .cli import main

main()
