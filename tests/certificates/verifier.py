"""An independent verifier of the app's credentials, written from the specifications, not from the app's code.

eddsa-rdfc-2022 proofs are checked with pyoxigraph's RDFC-1.0 canonicaliser (not pyld's URDNA2015, which the
signer uses) and PyNaCl's Ed25519; a credential's status is read from a ``BitstringStatusListCredential`` as
the Bitstring Status List spec says (multibase base64url, GZIP, index 0 the left-most bit). The only app code
used is the loader of the vendored JSON-LD contexts (so nothing is fetched from the network).

It is strict, as 1EdTech's conformance suite is: a credential holding anything its signature does not cover
is refused. JSON-LD expansion drops a term its contexts do not define, and RDF a relative ``type`` or ``id``,
so the proof would still hold; this verifier finds them its own way (not the app's): only the credential's
published context URLs, no inline context, a round trip through expansion and compaction that must give
back every key, and every type and id an absolute IRI (a scheme) or a blank node.
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


PUBLISHED_CONTEXTS = {"https://www.w3.org/ns/credentials/v2",
                      "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"}


def _contexts(document: dict) -> list:
    value = document.get("@context")
    return value if isinstance(value, list) else [value]


def _nested_context(value) -> bool:
    if isinstance(value, dict):
        return "@context" in value or any(_nested_context(v) for v in value.values())
    if isinstance(value, list):
        return any(_nested_context(v) for v in value)
    return False


def _lost(original, echoed, path: str) -> str | None:
    """The first key of ``original`` that the round trip ``echoed`` no longer has."""
    if isinstance(echoed, list) and len(echoed) == 1 and not isinstance(original, list):
        echoed = echoed[0]
    if isinstance(original, dict):
        if not isinstance(echoed, dict):
            return path
        for key, value in original.items():
            if key == "@context":
                continue
            if key not in echoed:
                return f"{path}.{key}"
            lost = _lost(value, echoed[key], f"{path}.{key}")
            if lost:
                return lost
    elif isinstance(original, list):
        echoed = echoed if isinstance(echoed, list) else [echoed]
        if len(echoed) != len(original):
            return path
        for index, (item, again) in enumerate(zip(original, echoed, strict=True)):
            lost = _lost(item, again, f"{path}[{index}]")
            if lost:
                return lost
    return None


def _has_scheme(iri: str) -> bool:
    scheme, colon, _rest = iri.partition(":")
    return bool(colon) and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


def _unanchored(expanded) -> str | None:
    """A type or id RDF would drop: neither an absolute IRI nor a blank node."""
    if isinstance(expanded, list):
        return next((found for item in expanded if (found := _unanchored(item))), None)
    if not isinstance(expanded, dict) or "@value" in expanded:
        return None
    for key, value in expanded.items():
        if key in ("@type", "@id"):
            for iri in value if isinstance(value, list) else [value]:
                if not (iri.startswith("_:") or _has_scheme(iri)):
                    return iri
        elif (found := _unanchored(value)) is not None:
            return found
    return None


def unsigned_content(document: dict) -> str | None:
    """What in ``document`` (a credential without its proof, or a proof's configuration) no signature covers."""
    if any(not isinstance(c, str) or c not in PUBLISHED_CONTEXTS for c in _contexts(document)):
        return "@context"
    if any(_nested_context(value) for key, value in document.items() if key != "@context"):
        return "a nested @context"
    options = {"documentLoader": document_loader()}
    expanded = jsonld.expand(document, options)
    echoed = jsonld.compact(expanded, {"@context": document["@context"]}, options)
    return _lost(document, echoed, "$") or _unanchored(expanded)


def independently_verified(secured: dict, did_document: dict) -> bool:
    """Whether the eddsa-rdfc-2022 proof verifies with the did document's assertion key, and covers all the
    credential holds."""
    proof = dict(secured["proof"])
    assert proof["type"] == "DataIntegrityProof" and proof["cryptosuite"] == "eddsa-rdfc-2022"
    method = next(m for m in did_document["verificationMethod"] if m["id"] == proof["verificationMethod"])
    assert method["id"] in did_document["assertionMethod"] and method["type"] == "Multikey"
    raw = b58decode(method["publicKeyMultibase"][1:])
    assert raw[:2] == b"\xed\x01"
    signature = b58decode(proof.pop("proofValue")[1:])
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    config = {**proof, "@context": unsecured["@context"]}
    if unsigned_content(unsecured) or unsigned_content(config):
        return False
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
