"""``build_message`` writes what the ``email`` package's ``SMTP`` policy writes, byte for
byte, whatever people typed in names, subjects and file names: the prefolded policy and
the shared boundaries (``notifications.mime``) only spare redoing identical work."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.mime import ALTERNATIVE, MIXED, POLICY, boundary
from notifications.rendering import Attachment, Envelope, build_message, clean_header

BOUNDARY = re.compile(r"={15}\d{19}==(?:\.\d+)?")


def reference(
    envelope: Envelope, text: str, html: str, attachments: Sequence[Attachment] = ()
) -> str:
    """``build_message`` as it was before ``notifications.mime``: the plain ``SMTP``
    policy, ``Address`` objects, a boundary drawn by the package for each message."""
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(clean_header(envelope.from_name), addr_spec=envelope.from_email)
    message["To"] = Address(clean_header(envelope.to_name), addr_spec=envelope.to_email)
    if envelope.reply_to:
        message["Reply-To"] = clean_header(envelope.reply_to)
    message["Subject"] = clean_header(envelope.subject)
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Formaflow-Dossier"] = clean_header(envelope.reference)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    for item in attachments:
        message.add_attachment(
            item.content,
            maintype=item.maintype,
            subtype=item.subtype,
            filename=clean_header(item.filename),
            params=dict(item.params),
        )
    return message.as_string()


def normalised(raw: str) -> str:
    """Boundaries are random: each becomes ``<B0>``, ``<B1>``… in order of appearance."""
    seen: dict[str, str] = {}
    return BOUNDARY.sub(lambda m: seen.setdefault(m.group(0), f"<B{len(seen)}>"), raw)


def outcome(
    build: object, envelope: Envelope, text: str, html: str, attachments: list[Attachment]
) -> str:
    assert callable(build)
    try:
        return normalised(build(envelope, text, html, attachments))
    except ValueError as refused:  # a value the package refuses: refused the same way
        return f"refused: {type(refused).__name__}"


# What people type: accents, dashes, quotes, commas, parentheses, emoji, lookalikes of
# encoded words, line separators and control characters (cleaned), long runs.
typed = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(" aàâéèêëïîôöùûüçœÆ—–-'\"’,.;:()<>@[]\\=?_/«»€\t\x85\u2028")),
        st.characters(codec="utf-8"),
    ),
    max_size=160,
)
addresses = st.sampled_from(
    [
        "helene.martin@example.org",
        "a@b.fr",
        "ce.0130001a-tres-long-identifiant-d-etablissement.eafc@ac-aix-marseille.example.org",
    ]
)
reply_tos = st.one_of(
    st.none(),
    st.sampled_from(
        ["eafc@ac-demo.fr", "Cellule EAFC <eafc@ac-demo.fr>", '"EAFC, Paris" <e@x.fr>']
    ),
)
bodies = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("=\n\r -.aé—<>&")),
        st.characters(codec="utf-8"),
    ),
    max_size=600,
)
attachment_lists = st.lists(
    st.builds(
        Attachment,
        filename=typed.filter(lambda name: clean_header(name) != ""),
        maintype=st.just("text"),
        subtype=st.sampled_from(["calendar", "html"]),
        content=st.binary(max_size=300),
        params=st.sampled_from([(("method", "PUBLISH"),), (("charset", "utf-8"),), ()]),
    ),
    max_size=2,
)


@settings(max_examples=100, deadline=None)
@given(
    from_name=typed,
    to_name=typed,
    to_email=addresses,
    reply_to=reply_tos,
    subject=typed,
    reference_text=typed,
    text=bodies,
    html=bodies,
    attachments=attachment_lists,
)
def test_the_bytes_are_those_of_the_smtp_policy(
    from_name: str,
    to_name: str,
    to_email: str,
    reply_to: str | None,
    subject: str,
    reference_text: str,
    text: str,
    html: str,
    attachments: list[Attachment],
) -> None:
    envelope = Envelope(
        from_name=f"formaflow — {from_name}",
        from_email="formaflow@example.org",
        to_name=to_name,
        to_email=to_email,
        reply_to=reply_to,
        subject=f"26-DEM-0012 — {subject}",
        message_id="<formaflow.t12.p3@example.org>",
        date=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        reference=reference_text,
    )
    expected = outcome(reference, envelope, text, html, attachments)
    # Twice: the second time from the caches.
    assert outcome(build_message, envelope, text, html, attachments) == expected
    assert outcome(build_message, envelope, text, html, attachments) == expected


@pytest.mark.parametrize(
    ("academie", "to_name"),
    [
        # The package folds this sender before its name (« From:\r\n formaflow … »).
        ("Académie ce90ca05", "Prénom0001 Nom0001"),
        ("Académie de démonstration", "Hélène Martin-Dupré"),
        ("Région académique Provence-Alpes-Côte d'Azur, académie d'Aix-Marseille", "O'Brien, Ann"),
    ],
)
def test_senders_and_names_seen_in_real_messages(academie: str, to_name: str) -> None:
    envelope = Envelope(
        from_name=f"formaflow — {academie}",
        from_email="formaflow@example.org",
        to_name=to_name,
        to_email="stagiaire0001.ce90ca05@example.org",
        reply_to=None,
        subject="26-Tce90ca-0001 — Convocation à la formation",
        message_id="<formaflow.convocation.d1.p2.n1@example.org>",
        date=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        reference="26-Tce90ca-0001",
    )
    calendar = [Attachment("convocation-26-Tce90ca-0001.ics", "text", "calendar", b"ICS", ())]
    for attachments in ([], calendar):
        expected = outcome(reference, envelope, "Bonjour,\n", "<p>Bonjour,</p>\n", attachments)
        assert outcome(build_message, envelope, "Bonjour,\n", "<p>Bonjour,</p>\n", attachments) == (
            expected
        )


def test_a_message_reads_back_with_its_parts_and_the_shared_boundaries() -> None:
    envelope = Envelope(
        from_name="formaflow — Académie de démonstration",
        from_email="formaflow@example.org",
        to_name="Hélène Martin-Dupré",
        to_email="helene.martin@example.org",
        reply_to="eafc@ac-demo.fr",
        subject="26-DEM-0012 — Convocation à la formation « Écrire, évaluer »",
        message_id="<formaflow.convocation.d12.p3.n1@example.org>",
        date=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        reference="26-DEM-0012",
    )
    calendar = Attachment(
        "convocation-26-DEM-0012.ics", "text", "calendar", b"BEGIN:VCALENDAR\r\n", ()
    )
    raw = build_message(envelope, "Bonjour Hélène,\n", "<p>Bonjour Hélène,</p>\n", [calendar])
    assert raw.isascii() and "\r\n" in raw
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"].addresses[0].display_name == "Hélène Martin-Dupré"
    assert parsed["Subject"] == envelope.subject
    assert parsed.get_boundary() == MIXED
    body = parsed.get_body(("plain",))
    assert isinstance(body, EmailMessage) and body.get_content() == "Bonjour Hélène,\r\n"
    [alternative, attached] = parsed.iter_parts()
    assert isinstance(alternative, EmailMessage) and alternative.get_boundary() == ALTERNATIVE
    assert isinstance(attached, EmailMessage)
    assert attached.get_filename() == "convocation-26-DEM-0012.ics"
    assert attached.get_content() == "BEGIN:VCALENDAR\r\n"


@pytest.mark.parametrize("part", [f"a{ALTERNATIVE}b", f"--{ALTERNATIVE}--".encode()])
def test_a_part_holding_the_shared_boundary_gets_one_of_its_own(part: str | bytes) -> None:
    assert boundary(ALTERNATIVE, ("texte", part)) is None
    assert boundary(ALTERNATIVE, ("texte", b"octets")) == ALTERNATIVE
    envelope = Envelope(
        "f",
        "f@example.org",
        "t",
        "t@example.org",
        None,
        "s",
        "<m@x>",
        datetime(2026, 1, 1, tzinfo=UTC),
        "r",
    )
    text = f"--{ALTERNATIVE}\n" if isinstance(part, bytes) else part
    raw = build_message(envelope, text, "<p></p>")
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert parsed.get_boundary() not in (None, ALTERNATIVE)
    assert normalised(raw) == normalised(reference(envelope, text, "<p></p>"))


def test_headers_are_refused_as_before_and_the_policy_stays_smtp() -> None:
    assert (POLICY.linesep, POLICY.max_line_length, POLICY.utf8) == ("\r\n", 78, False)
    message = EmailMessage(policy=POLICY)
    with pytest.raises(ValueError):
        message["Subject"] = "deux\r\nlignes"
    message["Subject"] = "Objet accentué"
    assert message["Subject"] == "Objet accentué"
