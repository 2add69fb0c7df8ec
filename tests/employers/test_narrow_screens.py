"""The employer's pages fit a 375 px wide phone: no element reaches past the right edge.

Each page is rendered by the app, its stylesheets inlined, and laid out by headless Chromium (the
Debian package) with the page 375 px wide; a script reports the furthest right edge of any element.
"""
import re
import shutil
import subprocess

import pytest

from mhfa.employers import vouchers
from mhfa.extensions import db
from tests import factories

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]

MEASURE = ('<style>html{width:375px}</style><script>addEventListener("load",()=>{let m=0;'
           'for(const e of document.querySelectorAll("body *")){m=Math.max(m,e.getBoundingClientRect().right)}'
           'document.body.setAttribute("data-right",Math.ceil(m))})</script>')


def _right_edge(client, url, tmp_path) -> int:
    html = client.get(url).get_data(as_text=True)
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)">', html):
        css = client.get(href).get_data(as_text=True)
        html = html.replace(f'<link rel="stylesheet" href="{href}">', f"<style>{css}</style>")
    html = re.sub(r"<script[^>]*src=[^>]*></script>", "", html).replace("</body>", MEASURE + "</body>")
    page = tmp_path / "page.html"
    page.write_text(html)
    dom = subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                          "--window-size=375,900", "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    return int(re.search(r'data-right="(\d+)"', dom).group(1))


def test_the_contacts_pages_fit_375_pixels(client, auth, tmp_path, backend):
    if backend != "sqlite":
        pytest.skip("layout does not depend on the database")
    acme = factories.employer("Jewellery Quarter Community Housing Partnership", headcount=340)
    contact = factories.contact(acme)
    order = factories.order(acme, places=3, by=contact, purchase_order_ref="PO-2026-000123-LONG-REFERENCE")
    vouchers.allocate_one(acme, order, "Anastasia", "Featherstonehaugh-Smythe",
                          "anastasia.featherstonehaugh-smythe@jewelleryquarterhousing.example.org", by=contact)
    coordinator = factories.user(factories.Role.COORDINATOR)
    db.session.commit()
    auth.login(contact)
    for url in ("/", "/employer", f"/employer/orders/{order.id}", "/employer/orders/new", "/employer/book",
                f"/places/{order.vouchers[0].code}"):
        assert _right_edge(client, url, tmp_path) <= 375, url
    auth.logout()
    auth.login(coordinator)
    for url in (f"/manage/orders/{order.id}", f"/manage/employers/{acme.id}"):
        assert _right_edge(client, url, tmp_path) <= 375, url
