"""Open Badges 3.0 credentials: the signer against published test vectors, and issued credentials checked by
an independent verifier (pyoxigraph's RDFC-1.0 canonicaliser and PyNaCl's Ed25519), revocation via the status list.
"""
import base64
import gzip
import hashlib
import json
import os
import stat
from pathlib import Path

import nacl.signing
import pyoxigraph as ox
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld
from pyld.jsonld import JsonLdError

from mhfa.auth.models import Role
from mhfa.certificates import signing
from mhfa.certificates.jsonld import canonical_nquads, document_loader
from mhfa.extensions import db
from tests import factories

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


# --- an independent verifier ------------------------------------------------------------------------

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58(text: str) -> bytes:
    """Base58btc: each leading "1" is a leading zero byte (a signature starts with one 1 time in 256)."""
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + (number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b"")


def test_the_independent_base58_decoder_keeps_leading_zero_bytes():
    assert _b58(signing.b58encode(b"\0\0" + bytes(range(1, 63)))) == b"\0\0" + bytes(range(1, 63))


def _rdfc(document: dict) -> bytes:
    """RDFC-1.0 by pyoxigraph (not pyld's URDNA2015): JSON-LD to RDF, canonical blank nodes, sorted N-Quads."""
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader()})
    dataset = ox.Dataset(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    lines = sorted(f"{quad} .\n" for quad in dataset)
    return "".join(lines).encode()


def _independently_verified(secured: dict, did_document: dict) -> bool:
    proof = dict(secured["proof"])
    method = next(m for m in did_document["verificationMethod"] if m["id"] == proof["verificationMethod"])
    assert method["id"] in did_document["assertionMethod"] and method["type"] == "Multikey"
    raw = _b58(method["publicKeyMultibase"][1:])
    assert raw[:2] == b"\xed\x01"
    signature = _b58(proof.pop("proofValue")[1:])
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    config = {**proof, "@context": unsecured["@context"]}
    data = hashlib.sha256(_rdfc(config)).digest() + hashlib.sha256(_rdfc(unsecured)).digest()
    try:
        nacl.signing.VerifyKey(raw[2:]).verify(data, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def test_the_independent_verifier_accepts_the_w3c_vector():
    """Check the checker: pyoxigraph's canonical form equals the published one."""
    loader_doc = _vector("unsigned.json")
    nquads = jsonld.to_rdf(loader_doc, {"format": "application/n-quads", "documentLoader": document_loader(EXAMPLES)})
    dataset = ox.Dataset(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    assert "".join(sorted(f"{q} .\n" for q in dataset)) == (VECTORS / "canonDocDataInt.txt").read_text()


def _bit(status_list: dict, index: int) -> int:
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= 131_072
    return (bits[index // 8] >> (7 - index % 8)) & 1


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
    assert _independently_verified(badge, did)
    forged = json.loads(json.dumps(badge))
    forged["credentialSubject"]["identifier"][0]["identityHash"] = "Someone Else"
    assert not _independently_verified(forged, did)

    status = badge["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    list_path = status["statusListCredential"].removeprefix("http://reach.test")
    status_list = client.get(list_path).get_json(force=True)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert _independently_verified(status_list, did)
    assert _bit(status_list, int(status["statusListIndex"])) == 0

    auth.logout()
    auth.login(coordinator)
    page = f"/manage/certificates/{cert.id}"
    assert post_form(f"{page}/revoke", {"revoke-reason": "Issued in error"}, page=page).status_code == 302
    status_list = client.get(list_path).get_json(force=True)
    assert _independently_verified(status_list, did)
    assert _bit(status_list, int(status["statusListIndex"])) == 1


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
