"""The certificate emails: a certificate issued, a certificate about to expire.

The issued email is written to the outbox as what to say (the certificate) when a course is completed, and
rendered by the outbox's sender (``_render_issued``), so completing a course of 16 renders no email in the
request (see ``mhfa.notify.services.queue_later``).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from mhfa.certificates.models import Certificate
from mhfa.notify.messages import compose, send
from mhfa.notify.services import Message, queue_later, renderer


def certificate_expiring(certificate: Certificate) -> None:
    send("certificate_expiring", to=certificate.person.email,
         subject=f"Your {certificate.title} certificate expires on {certificate.expires_on:%-d %B %Y}",
         certificate=certificate)


def certificate_issued(certificate: Certificate) -> None:
    """Tell the holder their certificate is issued: its page, the PDF and the Open Badge. Written as what to say
    (the certificate, and its holder so erasing them finds the row); rendered when sent (``_render_issued``)."""
    if not certificate.person.email:
        return  # nobody to tell (an imported record without an address)
    queue_later("certificate_issued", {"certificate_id": certificate.id, "person_id": certificate.person_id},
                to=certificate.person.email, subject=_issued_subject(certificate))


def _issued_subject(certificate: Certificate) -> str:
    return f"Your certificate: {certificate.title}"


@renderer("certificate_issued")
def _render_issued(session: Session, payload: dict, to: str) -> Message | None:
    """The issued email as it is when sent, or None when there is nothing to tell any more: the certificate is
    gone or was revoked before the email went (a register corrected at once: "your certificate is issued" would
    be untrue), or its holder's record has been erased (their pending mail must not go out, nor name them).
    A name corrected by a reissue before sending shows the corrected name, as the certificate itself does."""
    certificate = session.get(Certificate, payload.get("certificate_id"))
    if certificate is None or certificate.revoked_at is not None:
        return None
    if certificate.person is None or certificate.person.is_erased:
        return None
    return compose("certificate_issued", to=to, subject=_issued_subject(certificate), certificate=certificate)
