"""The certificate emails: a certificate issued, a certificate about to expire."""
from __future__ import annotations

from mhfa.certificates.models import Certificate
from mhfa.notify.messages import send


def certificate_expiring(certificate: Certificate) -> None:
    send("certificate_expiring", to=certificate.person.email,
         subject=f"Your {certificate.title} certificate expires on {certificate.expires_on:%-d %B %Y}",
         certificate=certificate)


def certificate_issued(certificate: Certificate) -> None:
    """Tell the holder their certificate is issued: its page, the PDF and the Open Badge."""
    if not certificate.person.email:
        return  # nobody to tell (an imported record without an address)
    send("certificate_issued", to=certificate.person.email,
         subject=f"Your certificate: {certificate.title}", certificate=certificate)
