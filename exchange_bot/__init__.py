"""The exchange-bot application: the ``exchange-bot`` command line (also ``python -m exchange_bot``).

It sits on top of the checkout: it calls the library (``rag``), starts the Telegram bot (``bot.py``) and, from a
checkout, the benchmarks. The library imports nothing of it (``tests/test_layout.py``).
"""
