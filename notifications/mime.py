"""What makes writing a message cheap: the ``SMTP`` policy with each distinct header folded
once per process, and multipart boundaries drawn once per process.

Why: the ``email`` package parses a header when it is set and folds it again each time the
message is written. Folding a display name with accents and a dash (« formaflow — Académie
de … ») takes about 3 ms on this machine, more than everything else in a message, and a
random boundary per message means parsing, folding and compiling a regular expression for
a Content-Type that is new each time. A bulk action writes hundreds of messages whose
From, Reply-To, Date and MIME headers are the same, inside the transitions' transactions:
nine tenths of a bulk validation went to redoing identical work (README « Performances »,
``python -m bench.paf_bulk``).

How, without changing what is sent:

* a header set from a string is parsed and folded by ``email.policy.SMTP`` itself, exactly
  as before, once per distinct (name, value); what is stored is the value as set, carrying
  that folded text, which the generator writes (``fold``). Reading a stored header back
  (the package does it when it adds a parameter or a part) parses the value as set, as
  the package would have, once per distinct value. The caches are bounded and thread-safe
  (``functools.lru_cache``); header objects are immutable.
* a boundary has one requirement (RFC 2046 §5.1.1): it must not occur in the parts it
  separates. Ours have the package's own shape (``===============<19 digits>==``), random,
  drawn once per process instead of once per message. Text parts are quoted-printable and
  attachments base64, where a run of ``=`` cannot occur; ``boundary`` still checks the
  parts and answers ``None`` (the package then draws one, as before) if it is there.
"""

from __future__ import annotations

import secrets
import sys
from email.headerregistry import BaseHeader
from email.policy import SMTP, EmailPolicy
from functools import lru_cache
from typing import Any

CACHE_SIZE = 4096
"""Distinct header values kept: shared ones (sender, MIME headers) stay, unique ones
(Subject, Message-ID) pass through."""


class _Folded(str):
    """A header value as it was set, with its folded text as ``SMTP`` writes it."""

    folded: str


class PrefoldedPolicy(EmailPolicy):
    """``SMTP`` with each header folded when it is set, once per distinct value (see the
    module's docstring)."""

    def header_max_count(self, name: str) -> int | None:
        return _max_count(name.lower())

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is str:
            return name, _stored(name, value)
        return super().header_store_parse(name, value)

    def header_fetch_parse(self, name: str, value: str) -> str:
        if isinstance(value, _Folded):
            return _parsed(name, str(value))
        header: str = super().header_fetch_parse(name, value)
        return header

    def fold(self, name: str, value: str) -> str:
        if isinstance(value, _Folded):
            return value.folded
        folded: str = super().fold(name, value)
        return folded

    def fold_binary(self, name: str, value: str) -> bytes:
        if isinstance(value, _Folded):
            return value.folded.encode("ascii", "surrogateescape")  # as EmailPolicy does
        return super().fold_binary(name, value)


POLICY = PrefoldedPolicy(linesep="\r\n")
"""The policy of every message built by ``notifications.rendering.build_message``: the
settings of ``email.policy.SMTP``."""


@lru_cache(maxsize=256)
def _max_count(name: str) -> int | None:
    # The registry builds a new header class on each lookup: once per name is enough.
    count: int | None = SMTP.header_max_count(name)
    return count


@lru_cache(maxsize=CACHE_SIZE)
def _stored(name: str, value: str) -> _Folded:
    """``value`` with the text ``SMTP`` folds it to, from the header object it makes of it
    (which refuses CR/LF as before)."""
    stored = _Folded(value)
    stored.folded = SMTP.fold(name, SMTP.header_store_parse(name, value)[1])
    return stored


@lru_cache(maxsize=CACHE_SIZE)
def _parsed(name: str, value: str) -> BaseHeader:
    header: BaseHeader = SMTP.header_fetch_parse(name, value)
    return header


def _draw() -> str:
    # The shape of ``email.generator``'s boundaries: 15 « = », 19 digits, « == ».
    return f"{'=' * 15}{secrets.randbelow(sys.maxsize):019d}=="


ALTERNATIVE = _draw()
"""This process's boundary between a message's text and HTML parts."""
MIXED = next(b for b in iter(_draw, None) if b != ALTERNATIVE)
"""This process's boundary between the body and the attachments (nested: must differ)."""


def boundary(shared: str, parts: tuple[str | bytes, ...]) -> str | None:
    """``shared`` if it occurs in none of ``parts`` (their contents before encoding);
    ``None`` otherwise, so that the package draws a fresh one for that message."""
    as_bytes = shared.encode("ascii")
    for part in parts:
        if (shared in part) if isinstance(part, str) else (as_bytes in part):
            return None
    return shared
