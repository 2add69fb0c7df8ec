"""The certificate PDF: real text, tagged PDF/UA, a QR code whose link says valid; holder and coordinators only."""
import contextlib
import re
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories

TOOLS = {name: shutil.which(name) for name in ("pdftotext", "pdfinfo", "pdftoppm", "zbarimg")}
needs_tools = pytest.mark.skipif(not all(TOOLS.values()), reason="needs poppler-utils and zbar-tools")


def _pdf_objects(pdf: bytes) -> bytes:
    """The PDF's bytes with every compressed stream inflated, to look for its tagging entries."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompress(match.group(1)))
    return b"\n".join(parts)


def _text_and_qr(pdf: bytes) -> tuple[str, str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pdf"
        path.write_bytes(pdf)
        text = subprocess.run([TOOLS["pdftotext"], "-layout", str(path), "-"], capture_output=True, check=True,
                              text=True).stdout
        info = subprocess.run([TOOLS["pdfinfo"], str(path)], capture_output=True, text=True, check=True).stdout
        subprocess.run([TOOLS["pdftoppm"], "-r", "150", "-png", "-singlefile", str(path), str(Path(tmp) / "page")],
                       check=True)
        qr = subprocess.run([TOOLS["zbarimg"], "--quiet", "--raw", str(Path(tmp) / "page.png")], capture_output=True,
                            text=True, check=True).stdout.strip()
    return text, qr, info.encode()


@needs_tools
def test_the_holder_downloads_a_one_page_pdf_whose_qr_code_says_valid(client, auth):
    holder = factories.user(Role.TRAINEE, first_name="Priya", last_name="Patel")
    cert = factories.certificate(holder.person)
    db.session.commit()
    auth.login(holder)
    assert f"/certificates/{cert.id}.pdf" in client.get("/my-courses").get_data(as_text=True)
    response = client.get(f"/certificates/{cert.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    text, qr, info = _text_and_qr(pdf)
    assert "Priya Patel" in text and "Mental Health First Aider" in text and cert.number in text
    assert re.search(rb"Pages:\s+1\n", info) and b"(A4)" in info and b"Tagged:          yes" in info
    objects = _pdf_objects(pdf)
    assert b"/Lang (en-GB)" in objects and b"/StructTreeRoot" in objects and b"pdfuaid" in objects
    assert b"/Alt (QR code linking to this certificate's verification page" in objects
    assert qr == f"http://reach.test/verify/{cert.verification_token}"
    page = client.get(urlsplit(qr).path).get_data(as_text=True)
    assert "Valid certificate" in page and "Priya Patel" in page


def test_only_the_holder_and_coordinators_may_download(client, auth):
    holder = factories.user(Role.TRAINEE)
    cert = factories.certificate(holder.person)
    others = [factories.user(role) for role in (Role.TRAINEE, Role.INSTRUCTOR, Role.EMPLOYER, Role.BOARD, Role.ADMIN)]
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    for user in others:
        auth.login(user)
        assert client.get(f"/certificates/{cert.id}.pdf").status_code == 403, user
        auth.logout()
    auth.login(coordinator)
    assert client.get(f"/certificates/{cert.id}.pdf").status_code == 200
    assert client.get("/certificates/999999.pdf").status_code == 404
