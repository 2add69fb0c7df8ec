"""PDF rendering (WeasyPrint), one document at a time in a process.

The served app runs requests on threads (``gunicorn.conf.py``), and WeasyPrint lays text out through Pango
and fontconfig, whose shared state is not documented as safe to use from several threads at once: a lock
makes two requests rendering PDFs in one process take turns, and leaves every other request free.
"""
from __future__ import annotations

import threading

_RENDERING = threading.Lock()


def html_to_pdf(html: str, base_url: str | None = None, **options) -> bytes:
    """``html`` as PDF bytes (``options`` go to WeasyPrint's ``write_pdf``: ``pdf_variant`` and so on)."""
    from weasyprint import HTML  # imported when first needed: it loads Pango

    with _RENDERING:
        return HTML(string=html, base_url=base_url).write_pdf(**options)
