"""``python -m exchange_bot …``: the same as the ``exchange-bot`` command."""

from .cli import app

app()
