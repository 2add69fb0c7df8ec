"""JSON-LD with vendored contexts only: a document loader that never fetches, and RDFC-1.0 canonicalisation.

pyld's URDNA2015 is RDF Dataset Canonicalization (RDFC-1.0), the algorithm ``eddsa-rdfc-2022`` names.
"""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from pyld import jsonld
from pyld.jsonld import JsonLdError

CONTEXTS_DIR = Path(__file__).resolve().parent / "contexts"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VENDORED = {
    VC_V2: CONTEXTS_DIR / "credentials-v2.jsonld",
    OB_V3: CONTEXTS_DIR / "ob-v3p0-context-3.0.3.json",
}


@cache
def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def document_loader(extra: dict[str, Path] | None = None):
    """A pyld document loader serving only the vendored contexts (and ``extra`` ones); anything else is refused."""
    files = {**VENDORED, **(extra or {})}

    def load(url: str, options=None) -> dict:
        path = files.get(url)
        if path is None:
            raise JsonLdError(f"Context {url} is not vendored and is never fetched", "jsonld.LoadDocumentError",
                              code="loading document failed")
        return {"contextUrl": None, "documentUrl": url, "document": _read(path)}

    return load


def canonical_nquads(document: dict, loader=None) -> str:
    """The document's RDF dataset canonicalised by RDFC-1.0 (URDNA2015), as N-Quads."""
    return jsonld.normalize(document, {
        "algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader or document_loader(),
        "safe": True,
    })
