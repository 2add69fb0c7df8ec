"""At 375 px: the trainee's certificates are stacked summary cards, not a four-column table that scrolls sideways
(a certificate number like MR2026-7K3Q-9XHD does not wrap)."""
from mhfa.auth.models import Role
from mhfa.extensions import db
from tests import factories


def test_my_certificates_are_summary_cards_with_their_downloads(client, auth):
    holder = factories.user(Role.TRAINEE)
    cert = factories.certificate(holder.person)
    revoked = factories.certificate(holder.person, "AWARE", revoked=True)
    db.session.commit()
    auth.login(holder)
    html = client.get("/my-courses").get_data(as_text=True)
    section = html[html.index(">Certificates</h2>"):]
    assert "<table" not in section and section.count('class="govuk-summary-card"') == 2
    cards = {c.split('"', 1)[0]: c for c in section.split('id="certificate-')[1:]}
    card = cards[str(cert.id)]
    assert cert.number in card and f"/certificates/{cert.id}.pdf" in card
    assert f"/certificates/{cert.id}/badge.json" in card
    assert f"/certificates/{revoked.id}.pdf" not in cards[str(revoked.id)] and "Revoked" in cards[str(revoked.id)]
