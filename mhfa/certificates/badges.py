"""Open Badges 3.0: each certificate as a signed ``OpenBadgeCredential``, the issuer's did:web document, and
the revocation ``BitstringStatusListCredential``.

The issuer is ``did:web:<host of MHFA_BASE_URL>``; its document (``/.well-known/did.json``) lists the
programme's Ed25519 key as a ``Multikey`` under ``assertionMethod``. Every credential carries a
``BitstringStatusListEntry`` whose index is the certificate's ``status_index`` (random and unique, assigned at
issue, so it reveals nothing about issue order); revoking a certificate, or erasing its holder's record, sets
that bit in the list the app serves (GZIP, then multibase base64url, as the Bitstring Status List spec says).
"""
from __future__ import annotations

import base64
import gzip
import json
from datetime import date, datetime
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from flask import current_app

from mhfa.certificates import services, signing, verification
from mhfa.certificates.jsonld import OB_V3, VC_V2
from mhfa.certificates.models import STATUS_LIST_MIN_BITS, Certificate, status_list_size
from mhfa.errors import DomainError, Gone
from mhfa.extensions import db
from mhfa.notify.messages import absolute_url
from mhfa.people.models import Person
from mhfa.security.input import json_value_problem
from mhfa.timeutil import utcnow

KEY_FRAGMENT = "key-1"


# --- the issuer -----------------------------------------------------------------------------------

def signing_key():
    """The programme's Ed25519 private key (loaded once per app)."""
    key = current_app.extensions.get("mhfa_signing_key")
    if key is None:
        key = signing.load_or_create_key(current_app.instance_path, current_app.config.get("MHFA_SIGNING_KEY"))
        current_app.extensions["mhfa_signing_key"] = key
    return key


def issuer_did() -> str:
    """``did:web`` of the host in ``MHFA_BASE_URL`` (a port is percent-encoded, as did:web requires)."""
    return "did:web:" + quote(urlsplit(current_app.config["MHFA_BASE_URL"]).netloc, safe="")


def verification_method() -> str:
    return f"{issuer_did()}#{KEY_FRAGMENT}"


def did_document() -> dict:
    did = issuer_did()
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{
            "id": verification_method(),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": signing.public_multikey(signing_key()),
        }],
        "assertionMethod": [verification_method()],
    }


def issuer_profile() -> dict:
    return {"id": issuer_did(), "type": ["Profile"], "name": verification.programme_name(),
            "url": current_app.config["MHFA_BASE_URL"]}


def _moment(value: datetime) -> str:
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _start_of(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _end_of(day: date) -> str:
    return f"{day.isoformat()}T23:59:59Z"


def _sign(document: dict, now: datetime | None = None) -> dict:
    options = signing.ProofOptions(verification_method(), _moment(now or utcnow()))
    return signing.add_proof(document, signing_key(), options)


# --- the status list --------------------------------------------------------------------------------

def status_list_url() -> str:
    return absolute_url("certificates.status_list")


def status_entry(certificate: Certificate) -> dict:
    url = status_list_url()
    return {
        "id": f"{url}#{certificate.status_index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(certificate.status_index),
        "statusListCredential": url,
    }


def encoded_list(revoked_indexes: list[int], size: int) -> str:
    """The bitstring (index 0 is the left-most bit), GZIP-compressed, as multibase base64url without padding."""
    bits = bytearray(size // 8)
    for index in revoked_indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def revocation_bits() -> tuple[list[int], int]:
    """The set bits and the list size (a multiple of 131,072 bits holding every certificate's index).

    A bit is set for a revoked certificate and for every certificate of an erased record: the verification
    page answers "record erased" for those, so no verifier holding the credential may see it as valid.
    """
    # Two index lookups (the highest id bounds the number of certificates, as when indexes are drawn).
    bound, highest = db.session.execute(
        sa.select(sa.func.max(Certificate.id), sa.func.max(Certificate.status_index))).one()
    holding = -(-((highest or 0) + 1) // STATUS_LIST_MIN_BITS) * STATUS_LIST_MIN_BITS
    size = max(status_list_size(bound or 0), holding)
    erased = sa.select(Person.id).where(Person.erased_at.is_not(None))
    revoked = list(db.session.scalars(sa.union(
        sa.select(Certificate.status_index).where(Certificate.revoked_at.is_not(None)),
        sa.select(Certificate.status_index).where(Certificate.person_id.in_(erased)))))
    return revoked, size


def status_list_credential(now: datetime | None = None) -> dict:
    """The signed ``BitstringStatusListCredential`` of revocations, as of now."""
    now = now or utcnow()
    revoked, size = revocation_bits()
    url = status_list_url()
    return _sign({
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did(),
        "validFrom": _moment(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list(revoked, size),
        },
    }, now)


# --- credentials ---------------------------------------------------------------------------------------

def achievement(certificate: Certificate) -> dict:
    kind = certificate.course_type
    return {
        "id": f"{current_app.config['MHFA_BASE_URL']}/achievements/{kind.code.lower()}",
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": certificate.title,
        "description": kind.description or kind.name,
        "criteria": {"narrative": f"Attended every session of {kind.name}, a course of "
                                  f"{kind.hours:g} hours delivered by a licensed MHFA England instructor."},
    }


def credential(certificate: Certificate, now: datetime | None = None) -> dict:
    """The certificate as a signed Open Badges 3.0 ``OpenBadgeCredential``."""
    if services.holder_erased(certificate.person):
        raise Gone("This record has been erased, so no credential can be issued for it")
    document = {
        "@context": [VC_V2, OB_V3],
        "id": absolute_url("certificates.verify", token=certificate.verification_token),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": certificate.title,
        "issuer": issuer_profile(),
        "validFrom": _start_of(certificate.issued_on),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{
                "type": "IdentityObject", "identityType": "name", "hashed": False,
                "identityHash": certificate.person.full_name,
            }],
            "achievement": achievement(certificate),
        },
        "credentialStatus": status_entry(certificate),
    }
    if certificate.expires_on is not None:
        document["validUntil"] = _end_of(certificate.expires_on)
    return _sign(document, now)


# --- checking a badge file someone holds -----------------------------------------------------------------

MAX_BADGE_BYTES = 64 * 1024


def check_badge(data: bytes) -> tuple[Certificate | None, str | None]:
    """A downloaded badge file checked as a verifier would: (its certificate, None) when genuine, else (None,
    why it cannot be trusted). A file that is not a badge at all is a DomainError on the ``badge`` field."""
    if not data:
        raise DomainError("Choose the badge file (.json) to check", field="badge")
    if len(data) > MAX_BADGE_BYTES:
        raise DomainError("That file is larger than any badge: choose the .json file you downloaded", field="badge")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise DomainError("That file is not a badge: choose the .json file you downloaded", field="badge") from None
    if json_value_problem(document):
        raise DomainError("That file is not a badge: choose the .json file you downloaded", field="badge")
    if not isinstance(document, dict) or not isinstance(document.get("proof"), dict):
        raise DomainError("That file is not a signed badge: choose the .json file you downloaded", field="badge")
    if document["proof"].get("verificationMethod") != verification_method():
        return None, "it was not issued by this programme (another issuer, or another key, signed it)"
    problem = signing.verification_problem(document, signing_key().public_key())
    if problem:
        return None, problem
    token = str(document.get("id", "")).rstrip("/").rpartition("/")[2]
    try:
        return verification.by_token(token), None
    except DomainError:
        return None, "its certificate is not held by this programme"
