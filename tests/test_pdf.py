"""PDFs rendered on several threads at once (as gunicorn's threaded workers do) each hold their own text."""
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from mhfa.pdf import html_to_pdf

PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(not PDFTOTEXT, reason="needs poppler-utils")
def test_pdfs_rendered_on_threads_at_once_each_hold_their_own_text(tmp_path):
    holders = [f"Holder number {n}" for n in range(6)]

    def render(holder: str) -> bytes:
        return html_to_pdf(f"<html lang='en-GB'><title>{holder}</title><h1>{holder}</h1>"
                           f"<p>{'certified ' * 400}</p></html>")

    with ThreadPoolExecutor(max_workers=len(holders)) as pool:
        pdfs = list(pool.map(render, holders))
    for n, (holder, pdf) in enumerate(zip(holders, pdfs, strict=True)):
        path = tmp_path / f"{n}.pdf"
        path.write_bytes(pdf)
        text = subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert holder in text
        assert [other for other in holders if other != holder and other in text] == []
