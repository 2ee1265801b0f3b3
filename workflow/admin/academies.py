"""Per-académie contacts: the name and the address its emails ask answers to be sent to."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from workflow.store.academie_settings import PACKAGED
from workflow.store.settings import get_settings


@cache
def _contacts(directory: Path, slug: str) -> dict[str, str]:
    path = directory / f"{slug}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {key: str(data[key]) for key in ("nom", "reply_to") if key in data}


def reply_to_for(slug: str) -> str | None:
    """The address the académie wants answers to its emails sent to (``reply_to``)."""
    directory = get_settings().academies_dir or PACKAGED
    return _contacts(directory, slug).get("reply_to")
