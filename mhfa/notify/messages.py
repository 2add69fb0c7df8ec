"""Composing an email: the mechanics every area's ``emails.py`` reuses.

A plain-text template from ``templates/notify/`` rendered with the programme's links and contact
details (``compose``), queued to go out after the transaction commits (``send``, through
``mhfa.notify.services.queue``). The messages themselves live beside their area: ``auth/emails.py``,
``bookings/emails.py``, ``courses/emails.py``, ``certificates/emails.py``.
"""
from __future__ import annotations

from flask import current_app, render_template
from werkzeug.routing import BuildError

from mhfa.notify.services import Attachment, Message, queue
from mhfa.timeutil import format_london


def absolute_url(endpoint: str, **values) -> str | None:
    """A full link to ``endpoint`` on ``MHFA_BASE_URL`` (never the request's Host), or None if no such page."""
    if endpoint not in current_app.view_functions:
        return None
    adapter = current_app.url_map.bind("mhfa-reach.invalid", script_name="/")
    try:
        path = adapter.build(endpoint, values)
    except BuildError:
        return None
    return current_app.config["MHFA_BASE_URL"] + path


def compose(template: str, *, to: str, subject: str, attachments: list[Attachment] | None = None,
            show_joining_url: bool = False, **context) -> Message:
    """A message from ``templates/notify/<template>.txt``, with ``link``, ``when`` and ``contact_email``.

    ``show_joining_url`` lets ``notify/_course.txt`` print an online course's joining link: pass it
    only for someone with a confirmed place (never a waiting list or a cancellation).
    """
    text = render_template(
        f"notify/{template}.txt",
        subject=subject,
        show_joining_url=show_joining_url,
        link=absolute_url,
        when=format_london,
        contact_email=current_app.config["MHFA_CONTACT_EMAIL"],
        base_url=current_app.config["MHFA_BASE_URL"],
        **context,
    )
    return Message(to=to, subject=subject, text=text.strip() + "\n", attachments=attachments or [])


def send(template: str, *, to: str | None, subject: str, attachments: list[Attachment] | None = None,
         **context) -> Message | None:
    """Compose and queue a message (sent after commit); nothing when there is no address."""
    if not to:
        return None
    message = compose(template, to=to, subject=subject, attachments=attachments, **context)
    queue(message)
    return message
