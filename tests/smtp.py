"""A real SMTP server on localhost for tests (aiosmtpd), and the app pointed at it."""
from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

import pytest

from tests.servers import free_port


class Inbox:
    """What the SMTP server received, as parsed email messages (aiosmtpd handler)."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def subjects(self, address: str | None = None) -> list[str]:
        return [str(m["Subject"]) for m in (self.to(address) if address else self.messages)]

    def clear(self) -> None:
        self.messages.clear()
        self.envelopes.clear()

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def calendar(message: EmailMessage) -> EmailMessage | None:
        return next((part for part in message.walk() if part.get_content_type() == "text/calendar"), None)


@pytest.fixture()
def smtp(app_ctx, monkeypatch):
    """Start an SMTP server on a free port of 127.0.0.1 and send the app's mail to it."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app_ctx.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", port)
    try:
        yield inbox
    finally:
        controller.stop()
