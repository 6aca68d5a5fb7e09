"""Speed, memory and scaling of exchange-bot, measured the way a user runs it.

Not part of the installed library: the sections drive the checkout's ``bot.py`` and the loopback
fakes in ``tests/``. Run from the checkout root with ``python -m benchmarks`` (or ``exchange-bot bench``).
"""
