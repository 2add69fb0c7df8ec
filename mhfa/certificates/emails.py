"""The certificate emails: a certificate about to expire."""
from __future__ import annotations

from mhfa.certificates.models import Certificate
from mhfa.notify.messages import send


def certificate_expiring(certificate: Certificate) -> None:
    send("certificate_expiring", to=certificate.person.email,
         subject=f"Your {certificate.title} certificate expires on {certificate.expires_on:%-d %B %Y}",
         certificate=certificate)
