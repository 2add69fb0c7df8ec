"""The programme's Ed25519 key and Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite.

The key comes from ``MHFA_SIGNING_KEY`` (a multibase ``z…`` Ed25519 private Multikey, or the 32-byte
seed in base64), or is generated once into ``instance/signing-key`` (mode 600); never the repository.

Signing (W3C vc-di-eddsa, eddsa-rdfc-2022): canonicalise the proof configuration and the unsecured
document with RDFC-1.0, hash each with SHA-256, sign ``hash(proof config) + hash(document)`` with
Ed25519, and put the signature in ``proofValue`` as multibase base58btc.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mhfa.certificates.jsonld import canonical_nquads, strict_problem

CRYPTOSUITE = "eddsa-rdfc-2022"
ED25519_PUB = b"\xed\x01"   # multicodec ed25519-pub, as a varint
ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv, as a varint
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --- multibase base58btc (the Bitcoin alphabet) ---------------------------------------------------

def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        number = number * 58 + _B58.index(char)
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multibase_decode(text: str) -> bytes:
    if text.startswith("z"):
        return b58decode(text[1:])
    if text.startswith("u"):
        return base64.urlsafe_b64decode(text[1:] + "=" * (-len(text[1:]) % 4))
    raise ValueError("unsupported multibase encoding (expected z… or u…)")


# --- keys ------------------------------------------------------------------------------------------

def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_multikey(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as a Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return "z" + b58encode(ED25519_PUB + _raw_public(public))


def private_multikey(key: Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return "z" + b58encode(ED25519_PRIV + seed)


KEY_FILE = "signing-key"


def parse_private_key(text: str, source: str = "MHFA_SIGNING_KEY") -> Ed25519PrivateKey:
    """A private key from a multibase Multikey (``z3u2…``) or the base64 of its 32-byte seed.

    ``source`` names where the text came from in the error (never the text itself: it is the secret).
    """
    text = text.strip()
    try:
        if text.startswith("z"):
            raw = b58decode(text[1:])
            if not raw.startswith(ED25519_PRIV) or len(raw) != 34:
                raise ValueError
            seed = raw[2:]
        else:
            seed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text
                                    else None, validate=True)
        return Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError as error:
        raise ValueError(f"{source} is not an Ed25519 private key: give a multibase Multikey (z3u2…) or the base64 "
                         "of the key's 32-byte seed") from error


def load_or_create_key(instance_path: str, env_value: str | None = None) -> Ed25519PrivateKey:
    """The signing key: from the environment, else ``instance/signing-key``, made (mode 600) on first use.

    The file appears complete or not at all (written aside, then linked into place), so several workers
    starting at once all end up with the one key that won.
    """
    env_value = env_value if env_value is not None else os.environ.get("MHFA_SIGNING_KEY")
    if env_value:
        return parse_private_key(env_value)
    path = Path(instance_path) / KEY_FILE
    if path.exists():
        return parse_private_key(path.read_text(), str(path))
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(private_multikey(key) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:  # another process made the key first: use theirs
            return parse_private_key(path.read_text(), str(path))
    finally:
        aside.unlink(missing_ok=True)
    return key


def check_configured_key(instance_path: str, env_value: str | None) -> str | None:
    """At start: refuse an unreadable key (``ValueError``, saying where it came from); a warning or None.

    Nothing is generated here; a missing ``instance/signing-key`` is made on first use.
    """
    if env_value:
        parse_private_key(env_value)
        return None
    path = Path(instance_path) / KEY_FILE
    if not path.exists():
        return None
    parse_private_key(path.read_text(), str(path))
    if os.stat(path).st_mode & 0o077:
        return f"{path} can be read by other users: make it private with chmod 600"
    return None


# --- Data Integrity proofs ---------------------------------------------------------------------------

@dataclass
class ProofOptions:
    verification_method: str
    created: str  # an XML Schema dateTime, e.g. 2026-12-01T12:00:00Z
    proof_purpose: str = "assertionMethod"


def _hash_data(document: dict, proof_config: dict, loader) -> bytes:
    config_hash = hashlib.sha256(canonical_nquads(proof_config, loader).encode()).digest()
    document_hash = hashlib.sha256(canonical_nquads(document, loader).encode()).digest()
    return config_hash + document_hash


def add_proof(document: dict, key: Ed25519PrivateKey, options: ProofOptions, loader=None) -> dict:
    """A copy of ``document`` with an embedded ``DataIntegrityProof`` (eddsa-rdfc-2022)."""
    unsecured = {k: v for k, v in copy.deepcopy(document).items() if k != "proof"}
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": options.created,
        "verificationMethod": options.verification_method,
        "proofPurpose": options.proof_purpose,
    }
    proof_config = {**proof, "@context": unsecured["@context"]}
    signature = key.sign(_hash_data(unsecured, proof_config, loader))
    return {**unsecured, "proof": {**proof, "proofValue": "z" + b58encode(signature)}}


def verification_problem(secured: dict, public_key: Ed25519PublicKey, loader=None) -> str | None:
    """Why the document does not verify with ``public_key`` (None: its eddsa-rdfc-2022 proof holds, and it
    holds nothing the proof does not cover)."""
    from cryptography.exceptions import InvalidSignature

    if not isinstance(secured, dict) or not isinstance(secured.get("proof"), dict):
        return "it has no proof"
    proof = dict(secured["proof"])
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return "its proof is not an eddsa-rdfc-2022 Data Integrity proof"
    try:
        signature = multibase_decode(proof.pop("proofValue", "") or "z")
    except (ValueError, TypeError):
        return "its proof value cannot be read"
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    config = {**proof, "@context": unsecured.get("@context")}
    problem = strict_problem(unsecured, loader) or strict_problem(config, loader)
    if problem:
        return problem
    try:
        public_key.verify(signature, _hash_data(unsecured, config, loader))
    except InvalidSignature:
        return "its signature does not match: it was changed after it was signed, or signed with another key"
    return None


def verify_proof(secured: dict, public_key: Ed25519PublicKey, loader=None) -> bool:
    """Whether the document's eddsa-rdfc-2022 proof verifies with ``public_key``, covering all it holds."""
    return verification_problem(secured, public_key, loader) is None
