"""A dossier's sessions as an iCalendar file (RFC 5545), with the icalendar library.

Each event's UID is derived from the session's row id only, so every export of the same
session carries the same UID and a calendar updates the event instead of adding a copy;
``SEQUENCE`` is the session's revision, bumped by each change, so the newer export wins.
Times are written in UTC (``…Z``): unambiguous whatever the reader's zone, and shown in
Europe/Paris by a French calendar. The visio link goes in ``URL``, ``LOCATION`` and the
description, since calendars show different ones.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from workflow.dossiers.inputs import is_safe_link
from workflow.reads.paperwork import CalendarSession, Header

UID_DOMAIN = "formaflow"


def _utc(value: datetime) -> datetime:
    """iCalendar times are to the second."""
    return value.astimezone(UTC).replace(microsecond=0)


def session_uid(session_id: int) -> str:
    return f"session-{session_id}@{UID_DOMAIN}"


def to_ics(header: Header, sessions: list[CalendarSession], now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//formaflow//Sessions de formation//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{header.reference} — {header.title}")
    calendar.add("x-wr-timezone", "Europe/Paris")
    for item in sessions:
        s = item.session
        event = Event()
        event.add("uid", session_uid(s.id))
        event.add("sequence", s.revision)
        event.add("dtstamp", _utc(now))
        event.add("created", _utc(s.created_at))
        event.add("dtstart", _utc(s.starts_at))
        event.add("dtend", _utc(item.ends_at))
        event.add("summary", f"{item.modality} — {header.title}")
        lines = [f"Dossier {header.reference} : {header.title}", f"Modalité : {item.modality}"]
        if item.formateur:
            lines.append(f"Formateur : {item.formateur}")
        if s.planned_headcount is not None:
            lines.append(f"Effectif prévu : {s.planned_headcount}")
        if is_safe_link(s.connection_link):
            lines.append(f"Lien de connexion : {s.connection_link}")
            event.add("url", s.connection_link)
            event.add("location", s.connection_link)
        elif s.connection_link:
            # Stored before links were checked: never a URL nor a line of its own.
            lines.append("Lien de connexion : adresse invalide, à corriger dans formaflow")
        event.add("description", "\n".join(lines))
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
