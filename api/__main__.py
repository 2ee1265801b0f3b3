"""``python -m api`` is the same as the ``formaflow`` command."""

from api.cli import main

main()
