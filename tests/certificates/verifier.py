"""An independent verifier of the app's credentials, written from the specifications, not from the app's code.

eddsa-rdfc-2022 proofs are checked with pyoxigraph's RDFC-1.0 canonicaliser (not pyld's URDNA2015, which the
signer uses) and PyNaCl's Ed25519; a credential's status is read from a ``BitstringStatusListCredential`` as
the Bitstring Status List spec says (multibase base64url, GZIP, index 0 the left-most bit). The only app code
used is the loader of the vendored JSON-LD contexts (so nothing is fetched from the network).
"""
from __future__ import annotations

import base64
import gzip
import hashlib

import nacl.exceptions
import nacl.signing
import pyoxigraph as ox
from pyld import jsonld

from mhfa.certificates.jsonld import document_loader

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
MIN_LIST_BITS = 131_072


def b58decode(text: str) -> bytes:
    """Base58btc: each leading "1" is a leading zero byte (a signature starts with one 1 time in 256)."""
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + (number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b"")


def rdfc(document: dict) -> bytes:
    """RDFC-1.0 by pyoxigraph (not pyld's URDNA2015): JSON-LD to RDF, canonical blank nodes, sorted N-Quads."""
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader()})
    dataset = ox.Dataset(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    lines = sorted(f"{quad} .\n" for quad in dataset)
    return "".join(lines).encode()


def independently_verified(secured: dict, did_document: dict) -> bool:
    """Whether the eddsa-rdfc-2022 proof verifies with the did document's assertion key."""
    proof = dict(secured["proof"])
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    method = next(m for m in did_document["verificationMethod"] if m["id"] == proof["verificationMethod"])
    assert method["id"] in did_document["assertionMethod"] and method["type"] == "Multikey"
    raw = b58decode(method["publicKeyMultibase"][1:])
    assert raw[:2] == b"\xed\x01"
    signature = b58decode(proof.pop("proofValue")[1:])
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    config = {**proof, "@context": unsecured["@context"]}
    data = hashlib.sha256(rdfc(config)).digest() + hashlib.sha256(rdfc(unsecured)).digest()
    try:
        nacl.signing.VerifyKey(raw[2:]).verify(data, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def status_bit(status_list: dict, index: int) -> int:
    """The bit at ``index`` of a status list credential (which holds at least 131,072 entries)."""
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= MIN_LIST_BITS
    return (bits[index // 8] >> (7 - index % 8)) & 1


def credential_status(credential: dict, status_list: dict, did_document: dict) -> str:
    """What a verifier concludes: "forged" (a proof fails), "revoked" (its bit is set) or "valid"."""
    if not independently_verified(credential, did_document) or not independently_verified(status_list, did_document):
        return "forged"
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusListCredential"] == status_list["id"]
    assert entry["statusPurpose"] == status_list["credentialSubject"]["statusPurpose"] == "revocation"
    return "revoked" if status_bit(status_list, int(entry["statusListIndex"])) else "valid"
