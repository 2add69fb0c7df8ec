"""The certificate as one tagged, accessible A4 PDF (WeasyPrint's PDF/UA-1), with a QR code to its verification page.

Real text, the document language (``lang``), a title, and alternative text for the QR code.
"""
from __future__ import annotations

import segno
from flask import render_template

from mhfa.certificates import verification
from mhfa.certificates.models import Certificate
from mhfa.notify.messages import absolute_url
from mhfa.pdf import html_to_pdf


def verification_url(certificate: Certificate) -> str:
    """The public page of this certificate, on ``MHFA_BASE_URL``."""
    return absolute_url("certificates.verify", token=certificate.verification_token)


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as a PNG data URI (error correction M, four-module quiet zone)."""
    return segno.make(url, error="m", micro=False).png_data_uri(scale=8, border=4)


def render_pdf(certificate: Certificate, programme: str) -> bytes:
    url = verification_url(certificate)
    html = render_template(
        "certificates/pdf.html", certificate=certificate, programme=programme, url=url, qr=qr_data_uri(url),
        checker=absolute_url("certificates.verify_form"),
        dates=verification.course_dates(certificate), instructors=verification.instructors_of(certificate),
    )
    return html_to_pdf(html, base_url=url, pdf_variant="pdf/ua-1", custom_metadata=True)
