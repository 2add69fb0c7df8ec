"""Open Badges 3.0 credentials: the signer against published test vectors, and issued credentials checked by
an independent verifier (pyoxigraph's RDFC-1.0 canonicaliser and PyNaCl's Ed25519), revocation via the status list.
"""
import base64
import hashlib
import io
import json
import os
import stat
from pathlib import Path

import pyoxigraph as ox
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld
from pyld.jsonld import JsonLdError

from mhfa.audit.models import AuditEvent
from mhfa.auth.models import Role
from mhfa.certificates import badges, signing
from mhfa.certificates import models as certificate_models
from mhfa.certificates.jsonld import canonical_nquads, document_loader
from mhfa.certificates.models import Certificate
from mhfa.extensions import db
from tests import factories
from tests.certificates.verifier import b58decode, credential_status, independently_verified, status_bit

VECTORS = Path(__file__).parent / "vectors"
EXAMPLES = {"https://www.w3.org/ns/credentials/examples/v2": VECTORS / "credentials-examples-v2.jsonld"}


def _vector(name):
    return json.loads((VECTORS / name).read_text())


# --- the signer against published vectors ------------------------------------------------------------

def test_signer_reproduces_the_w3c_eddsa_rdfc_2022_test_vector():
    loader = document_loader(EXAMPLES)
    key = signing.parse_private_key(_vector("keyPair.json")["privateKeyMultibase"])
    assert signing.public_multikey(key) == _vector("keyPair.json")["publicKeyMultibase"]
    config = _vector("proofConfigDataInt.json")
    assert canonical_nquads(_vector("unsigned.json"), loader) == (VECTORS / "canonDocDataInt.txt").read_text()
    signed = signing.add_proof(_vector("unsigned.json"), key,
                               signing.ProofOptions(config["verificationMethod"], config["created"]), loader)
    assert signed == _vector("signedDataInt.json")


def test_signer_reproduces_the_open_badges_3_implementation_guide_example():
    vector = _vector("ob3-implementation-guide.json")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(vector["privateKeyHex"]))
    assert signing.public_multikey(key) == vector["publicKeyMultibase"]
    assert hashlib.sha256(canonical_nquads(vector["credential"]).encode()).hexdigest() == vector["documentHashHex"]
    options = signing.ProofOptions(vector["proofOptions"]["verificationMethod"], vector["proofOptions"]["created"])
    signed = signing.add_proof(vector["credential"], key, options)
    assert signed["proof"]["proofValue"] == vector["proofValue"]
    assert signing.verify_proof(signed, key.public_key())
    tampered = json.loads(json.dumps(signed))
    tampered["name"] = "Leadership Badge"
    assert not signing.verify_proof(tampered, key.public_key())


def test_the_loader_serves_only_vendored_contexts():
    with pytest.raises(JsonLdError):
        document_loader()("https://example.org/evil-context.jsonld")


# --- the independent verifier (tests/certificates/verifier.py) ---------------------------------------

def test_the_independent_base58_decoder_keeps_leading_zero_bytes():
    assert b58decode(signing.b58encode(b"\0\0" + bytes(range(1, 63)))) == b"\0\0" + bytes(range(1, 63))


def test_the_independent_verifier_accepts_the_w3c_vector():
    """Check the checker: pyoxigraph's canonical form equals the published one."""
    loader_doc = _vector("unsigned.json")
    nquads = jsonld.to_rdf(loader_doc, {"format": "application/n-quads", "documentLoader": document_loader(EXAMPLES)})
    dataset = ox.Dataset(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    assert "".join(sorted(f"{q} .\n" for q in dataset)) == (VECTORS / "canonDocDataInt.txt").read_text()


def test_an_issued_badge_verifies_and_revocation_shows_in_the_status_list(client, auth, post_form):
    holder = factories.user(Role.TRAINEE, first_name="Bea", last_name="Badge")
    cert = factories.certificate(holder.person)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(holder)
    assert f"/certificates/{cert.id}/badge.json" in client.get("/my-courses").get_data(as_text=True)
    badge = client.get(f"/certificates/{cert.id}/badge.json").get_json(force=True)
    did = client.get("/.well-known/did.json").get_json(force=True)
    assert did["id"] == "did:web:reach.test" and badge["issuer"]["id"] == did["id"]
    assert badge["@context"][:2] == ["https://www.w3.org/ns/credentials/v2",
                                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert badge["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert badge["issuer"]["type"] == ["Profile"]
    assert badge["validFrom"] == f"{cert.issued_on.isoformat()}T00:00:00Z"
    assert badge["validUntil"].startswith(cert.expires_on.isoformat())
    subject = badge["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"] and subject["identifier"][0]["identityHash"] == "Bea Badge"
    assert subject["achievement"]["name"] == "Mental Health First Aider"
    assert subject["achievement"]["criteria"]["narrative"] and subject["achievement"]["description"]
    assert badge["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert independently_verified(badge, did)
    forged = json.loads(json.dumps(badge))
    forged["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"
    assert not independently_verified(forged, did)

    status = badge["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    list_path = status["statusListCredential"].removeprefix("http://reach.test")
    status_list = client.get(list_path).get_json(force=True)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert independently_verified(status_list, did)
    assert status_bit(status_list, int(status["statusListIndex"])) == 0

    auth.logout()
    auth.login(coordinator)
    page = f"/manage/certificates/{cert.id}"
    assert post_form(f"{page}/revoke", {"revoke-reason": "Issued in error"}, page=page).status_code == 302
    status_list = client.get(list_path).get_json(force=True)
    assert independently_verified(status_list, did)
    assert status_bit(status_list, int(status["statusListIndex"])) == 1


def test_only_the_holder_and_coordinators_get_the_badge(client, auth):
    holder = factories.user(Role.TRAINEE)
    cert = factories.certificate(holder.person)
    stranger = factories.user(Role.TRAINEE)
    db.session.commit()
    auth.login(stranger)
    assert client.get(f"/certificates/{cert.id}/badge.json").status_code == 403


def test_the_key_is_generated_once_into_the_instance_folder_with_mode_600(tmp_path):
    first = signing.load_or_create_key(str(tmp_path), env_value="")
    path = tmp_path / "signing-key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = signing.load_or_create_key(str(tmp_path), env_value="")
    assert signing.public_multikey(first) == signing.public_multikey(again)


def test_the_key_can_come_from_the_environment(tmp_path):
    multikey = _vector("keyPair.json")["privateKeyMultibase"]
    key = signing.load_or_create_key(str(tmp_path), env_value=multikey)
    assert signing.public_multikey(key) == _vector("keyPair.json")["publicKeyMultibase"]
    guide = _vector("ob3-implementation-guide.json")
    seed = base64.b64encode(bytes.fromhex(guide["privateKeyHex"])).decode()
    assert signing.public_multikey(signing.parse_private_key(seed)) == guide["publicKeyMultibase"]
    assert not (tmp_path / "signing-key").exists()
    with pytest.raises(ValueError, match="MHFA_SIGNING_KEY"):
        signing.parse_private_key("not a key")


def test_every_term_of_the_credentials_is_defined_by_the_vendored_contexts(client, auth):
    """Nothing falls back to the VC context's issuer-dependent @vocab (an undefined term would)."""
    holder = factories.user(Role.TRAINEE)
    lasting = factories.certificate(holder.person, "AWARE")  # a certificate of attendance: no expiry
    db.session.commit()
    auth.login(holder)
    badge = client.get(f"/certificates/{lasting.id}/badge.json").get_json(force=True)
    assert "validUntil" not in badge and badge["name"] == "Certificate of attendance"
    status_list = client.get("/credentials/status/revocation").get_json(force=True)
    for document in (badge, status_list):
        nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader()})
        assert "issuer-dependent" not in nquads and nquads.count("\n") > 5


# --- status-list indexes and erasure -------------------------------------------------------------------

def test_status_indexes_are_random_unique_and_held_by_the_list(client):
    people = [factories.person(f"Index{i}", "Holder") for i in range(40)]
    certificates = [factories.certificate(p) for p in people]
    db.session.commit()
    indexes = [c.status_index for c in certificates]
    assert len(set(indexes)) == len(indexes)
    assert indexes != sorted(indexes), "indexes follow issue order"  # 40 random picks in order: 1 in 40!
    assert [c.id for c in certificates] != indexes
    revoked, size = badges.revocation_bits()
    assert size % 131_072 == 0 and all(0 <= i < size for i in indexes)
    # The list grows to hold any index, however high.
    factories.certificate(factories.person("High", "Index")).status_index = 300_000
    db.session.commit()
    assert badges.revocation_bits()[1] == 3 * 131_072
    status_list = client.get("/credentials/status/revocation").get_json(force=True)
    assert status_bit(status_list, 300_000) == 0


def test_a_status_index_already_taken_is_drawn_again(app_ctx, monkeypatch):
    first = factories.certificate(factories.person("First", "Holder"))
    db.session.commit()
    picks = iter([first.status_index, first.status_index, 7_777])
    monkeypatch.setattr(certificate_models, "random_index", lambda size: next(picks))
    second = factories.certificate(factories.person("Second", "Holder"))
    assert second.status_index == 7_777


def test_the_badge_names_the_certificates_status_index(client, auth):
    holder = factories.user(Role.TRAINEE)
    cert = factories.certificate(holder.person)
    db.session.commit()
    auth.login(holder)
    status = client.get(f"/certificates/{cert.id}/badge.json").get_json(force=True)["credentialStatus"]
    assert status["statusListIndex"] == str(cert.status_index)
    assert status["id"].endswith(f"#{cert.status_index}")


def test_erasing_the_holder_sets_the_credentials_bit_and_reach_keeps_the_certificate(client, auth, post_form):
    holder = factories.user(Role.TRAINEE, first_name="Eva", last_name="Erased")
    cert = factories.certificate(holder.person)
    earlier = factories.certificate(holder.person, "AWARE", revoked=True)
    coordinator = factories.user(Role.COORDINATOR)
    db.session.commit()
    auth.login(holder)
    badge = client.get(f"/certificates/{cert.id}/badge.json").get_json(force=True)
    auth.logout()
    did = client.get("/.well-known/did.json").get_json(force=True)
    status_list = client.get("/credentials/status/revocation").get_json(force=True)
    assert credential_status(badge, status_list, did) == "valid"

    auth.login(coordinator)
    erased = post_form(f"/manage/people/{holder.person_id}/erase", {"reason": "Letter ref 7", "confirm": "ERASE"})
    assert erased.status_code == 302
    status_list = client.get("/credentials/status/revocation").get_json(force=True)
    assert credential_status(badge, status_list, did) == "revoked"
    assert "Record erased" in client.get(f"/verify/{cert.verification_token}").get_data(as_text=True)
    db.session.expire_all()
    events = list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "certificate.status_revoked")))
    assert [(e.entity_id, e.details["reason"], e.actor_user_id) for e in events] == \
        [(cert.id, "record erased", coordinator.id)]  # the already revoked one needs no new entry
    # Still unrevoked, so the reach figures (which count unrevoked certificates) do not move.
    assert db.session.get(Certificate, cert.id).revoked_at is None
    assert status_bit(status_list, db.session.get(Certificate, earlier.id).status_index) == 1


# --- strict verification: nothing the signature does not cover ------------------------------------------

def _tamperings() -> dict:
    """Changes that leave the signed RDF as it was (JSON-LD drops them), so only a strict check sees them."""

    def extra_property(badge):
        badge["awardedForBravery"] = True

    def extra_nested_property(badge):
        badge["credentialSubject"]["achievement"]["extraLevel"] = "Gold"

    def inline_context_nulling_a_new_term(badge):
        badge["@context"] = [*badge["@context"], {"secretGrade": None}]
        badge["secretGrade"] = "A*"

    def inline_context_mapping_an_unused_term(badge):
        badge["@context"] = [*badge["@context"], {"grade": "https://evil.example/grade"}]

    def nested_context(badge):
        badge["credentialSubject"]["@context"] = {"note": None}
        badge["credentialSubject"]["note"] = "forged"

    def relative_type(badge):
        badge["type"] = [*badge["type"], "MasterInstructorCredential"]

    def unsigned_proof_property(badge):
        badge["proof"]["note"] = "also signed by the Queen"

    return {f.__name__: f for f in (extra_property, extra_nested_property, inline_context_nulling_a_new_term,
                                    inline_context_mapping_an_unused_term, nested_context, relative_type,
                                    unsigned_proof_property)}


@pytest.fixture()
def issued_badge(client, auth):
    holder = factories.user(Role.TRAINEE)
    cert = factories.certificate(holder.person)
    db.session.commit()
    auth.login(holder)
    badge = client.get(f"/certificates/{cert.id}/badge.json").get_json(force=True)
    did = client.get("/.well-known/did.json").get_json(force=True)
    auth.logout()
    return cert, badge, did


@pytest.mark.parametrize("tampering", sorted(_tamperings()))
def test_a_badge_holding_anything_unsigned_fails_the_apps_check_and_the_independent_one(issued_badge, tampering):
    cert, badge, did = issued_badge
    key = badges.signing_key().public_key()
    assert signing.verify_proof(badge, key) and independently_verified(badge, did)
    tampered = json.loads(json.dumps(badge))
    _tamperings()[tampering](tampered)
    assert signing.verification_problem(tampered, key) is not None
    assert not signing.verify_proof(tampered, key)
    assert not independently_verified(tampered, did)


def _check_badge(client, document: dict | bytes):
    from tests.conftest import csrf_token

    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post("/verify/badge", data={"badge": (io.BytesIO(data), "badge.json"),
                                              "csrf_token": csrf_token(client, "/verify")},
                       content_type="multipart/form-data")


def test_the_public_verification_page_checks_a_badge_file_the_same_way(client, issued_badge):
    cert, badge, _ = issued_badge
    genuine = _check_badge(client, badge)
    html = genuine.get_data(as_text=True)
    assert genuine.status_code == 200 and "The badge file is genuine" in html and "Valid" in html
    tampered = json.loads(json.dumps(badge))
    _tamperings()["extra_property"](tampered)
    refused = _check_badge(client, tampered)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "This badge cannot be trusted" in html
    assert "it holds &#39;awardedForBravery&#39;, which its signed contexts do not define" in html
    changed = json.loads(json.dumps(badge))
    changed["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"
    assert "its signature does not match" in _check_badge(client, changed).get_data(as_text=True)


def test_a_badge_file_check_refuses_files_that_are_not_badges(client):
    for data, message in ((b"", "Choose the badge file"), (b"\xff\xfe not json", "That file is not a badge"),
                          (b"[1, 2]", "That file is not a signed badge"),
                          (b"{" * 5000, "That file is not a badge"),
                          (b" " * (badges.MAX_BADGE_BYTES + 1), "larger than any badge")):
        response = _check_badge(client, data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), message


def test_a_badge_signed_by_another_key_is_not_ours(client, issued_badge):
    _, badge, _ = issued_badge
    other = signing.add_proof({k: v for k, v in badge.items() if k != "proof"}, Ed25519PrivateKey.generate(),
                              signing.ProofOptions(badge["proof"]["verificationMethod"], badge["proof"]["created"]))
    assert "its signature does not match" in _check_badge(client, other).get_data(as_text=True)
    elsewhere = json.loads(json.dumps(badge))
    elsewhere["proof"]["verificationMethod"] = "did:web:evil.example#key-1"
    assert "not issued by this programme" in _check_badge(client, elsewhere).get_data(as_text=True)
