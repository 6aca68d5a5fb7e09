"""The Telegram adapter's parts, used by the entry point ``bot.py``: its settings, the handlers and the state they
share, answering (a bounded answer pool), update journal, send queue, webhook, reply formatting, access and rate
policy, conversations, articles, transport, logs.

The engine (``rag``) knows nothing of this package; everything Telegram-specific stays here and in ``bot.py``.
"""
