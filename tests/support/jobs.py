"""Counting what a job costs a person in the browser: page loads and form fields.

Issue 12 asks each role's everyday job to take « the fewest page loads »; to compare before
and after, the same meter counts both: every document the main frame loads from the
person's home page on (the home page itself is the first), and every form control the
person fills, chooses, ticks or attaches a file to. Clicking a button or a link is not a
field; a click that loads a page is counted by its load.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from playwright.sync_api import FilePayload, Frame, Locator, Page

from api.wiring import Container
from notifications.relay import Relay, SmtpTarget
from tests.support.browser import ARTIFACTS
from tests.support.mail import drain, mail_settings
from tests.support.smtp import SmtpSink


@dataclass
class Meter:
    """Page loads and fields of one job, from the moment ``start`` is called on the home
    page (counted as the first load)."""

    page: Page
    job: str
    loads: int = 0
    fields: int = 0
    visited: list[str] = field(default_factory=list)

    def start(self) -> Meter:
        self.loads = 1
        self.visited = [_path(self.page.url)]
        self.page.on("framenavigated", self._navigated)
        return self

    def _navigated(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.loads += 1
            self.visited.append(_path(frame.url))

    def follow(self, control: Locator) -> None:
        """Click something that loads a page, and wait for that page."""
        with self.page.expect_navigation(wait_until="domcontentloaded"):
            control.click()

    def fill(self, control: Locator, value: str) -> None:
        control.fill(value)
        self.fields += 1

    def choose(self, control: Locator, value: str) -> None:
        control.select_option(value)
        self.fields += 1

    def tick(self, label: Locator) -> None:
        """A DSFR checkbox or radio is drawn on its label: the person clicks the label."""
        label.click()
        self.fields += 1

    def attach(self, control: Locator, payload: FilePayload) -> None:
        control.set_input_files(files=payload)
        self.fields += 1

    def record(self) -> dict[str, object]:
        """The figures, also written to ``tests/artifacts/jobs/<job>.json`` for the notes."""
        figures: dict[str, object] = {
            "job": self.job,
            "page_loads": self.loads,
            "fields": self.fields,
            "pages": self.visited,
        }
        target = ARTIFACTS / "jobs"
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{self.job}.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
        return figures


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def deliver(container: Container) -> SmtpSink:
    """Every pending email sent by the product's relay to a real SMTP server over TCP; the
    server (stopped) keeps what it received."""
    sink = SmtpSink().start()
    try:
        drain(Relay(container.engine, mail_settings(), SmtpTarget("127.0.0.1", sink.port)))
    finally:
        sink.stop()
    return sink


def received(sink: SmtpSink, email: str, subject: str, reference: str) -> str:
    """The text of the one email ``email`` received about ``reference`` with ``subject``."""
    texts = [
        r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        for r in sink.to(email)
        if subject in str(r.message["Subject"]) and reference in str(r.message["Subject"])
    ]
    assert len(texts) == 1, f"{email} : {len(texts)} courriel(s) « {subject} » pour {reference}"
    return str(texts[0])
