"""The public address of ``formaflow serve``: the listening one unless configured."""

from __future__ import annotations

import pytest

from api.public_address import VARIABLE, follow_listening_address, listening_url
from api.settings import ApiSettings
from notifications.settings import MailSettings


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "http://127.0.0.1:8101"),
        ("0.0.0.0", "http://localhost:8101"),
        ("::1", "http://[::1]:8101"),
        ("formaflow.local", "http://formaflow.local:8101"),
    ],
)
def test_listening_url(host: str, expected: str) -> None:
    assert listening_url(host, 8101) == expected


def test_unset_base_url_follows_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, "recorded so that the teardown removes what serve sets")
    monkeypatch.delenv(VARIABLE)
    api, mail = ApiSettings(_env_file=None), MailSettings(_env_file=None)  # type: ignore[call-arg]
    assert follow_listening_address(api, mail, "127.0.0.1", 8101) == "http://127.0.0.1:8101"
    assert api.base_url == mail.base_url == "http://127.0.0.1:8101"


def test_a_configured_base_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, "https://formaflow.example")
    api, mail = ApiSettings(_env_file=None), MailSettings(_env_file=None)  # type: ignore[call-arg]
    assert follow_listening_address(api, mail, "0.0.0.0", 8101) == "https://formaflow.example"
    assert mail.base_url == "https://formaflow.example"
