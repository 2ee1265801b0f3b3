"""The calendar attached to a convocation (RFC 5545), with the icalendar library.

The UID of a session's event is derived from the session's row id only — the same as in
the dossier's calendar export — so a calendar that received the convocation, then its
update, or imported the export, updates one event instead of adding copies; ``SEQUENCE``
is the session's revision, raised by each change, so the newer version wins. Times are
UTC (``…Z``), shown in Europe/Paris by the reader's calendar.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event

from workflow.participants.roster import SessionSlot

UID_DOMAIN = "formaflow"


def session_uid(session_id: int) -> str:
    return f"session-{session_id}@{UID_DOMAIN}"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def convocation_calendar(
    reference: str,
    title: str,
    sessions: Sequence[SessionSlot],
    now: datetime,
    *,
    cancelled: bool = False,
) -> bytes:
    """The sessions as calendar events (stable UIDs, the session's revision as SEQUENCE);
    for a cancelled training, the same events cancelled (``METHOD:CANCEL``, a higher
    SEQUENCE), so that an agenda that imported them removes them."""
    calendar = Calendar()
    calendar.add("prodid", "-//formaflow//Convocation//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    calendar.add("x-wr-calname", f"{reference} — {title}")
    calendar.add("x-wr-timezone", "Europe/Paris")
    for session in sessions:
        event = Event()
        event.add("uid", session_uid(session.id))
        event.add("sequence", session.revision + (1 if cancelled else 0))
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(session.starts_at))
        event.add("dtend", _utc(session.ends_at))
        event.add("summary", f"{session.modality_label} — {title}")
        lines = [f"Formation {reference} : {title}", f"Modalité : {session.modality_label}"]
        if session.place:
            lines.append(f"Lieu : {session.place}")
            event.add("location", session.place)
        link = session.connection_link
        if link and link.lower().startswith(("https://", "http://")):
            lines.append(f"Lien de connexion : {link}")
            event.add("url", link)
            if not session.place:
                event.add("location", link)
        event.add("description", "\n".join(lines))
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
