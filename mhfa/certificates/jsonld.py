"""JSON-LD with vendored contexts only: a document loader that never fetches, and RDFC-1.0 canonicalisation.

pyld's URDNA2015 is RDF Dataset Canonicalization (RDFC-1.0), the algorithm ``eddsa-rdfc-2022`` names.

A signature covers the document's RDF, not its JSON: JSON-LD expansion silently drops a property its
contexts do not define (or map to null), and RDF drops a relative ``type`` or ``id``, so such additions
would leave the signature valid while a reader of the JSON sees them. ``strict_problem`` refuses them, as
JSON-LD's "safe mode" does (pyld has none): the document's contexts must be exactly the signed ones
(URLs of vendored contexts, no inline or nested ``@context``), every key must expand to an absolute IRI
or a keyword, and every ``type`` and ``id`` to an absolute IRI or a blank node.
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

    load.known = frozenset(files)  # the contexts a document may name (strict_problem)
    return load


def canonical_nquads(document: dict, loader=None) -> str:
    """The document's RDF dataset canonicalised by RDFC-1.0 (URDNA2015), as N-Quads."""
    return jsonld.normalize(document, {
        "algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": loader or document_loader(),
    })


class UndefinedTerm(JsonLdError):
    """Expansion met something it would have dropped: a term the contexts do not define."""

    def __init__(self, term: str):
        super().__init__(f"{term!r} is not defined by the credential's contexts", "jsonld.SafeModeError",
                         code="undefined term")
        self.term = term


class _StrictProcessor(jsonld.JsonLdProcessor):
    """pyld's processor, refusing a key that expansion would drop instead of dropping it."""

    def _expand_object(self, active_ctx, active_property, expanded_active_property, element, expanded_parent,
                       options, *args, **kwargs):
        for key in element:
            if key == "@context":
                continue
            expanded = self._expand_iri(active_ctx, key, vocab=True)
            if expanded is None or not (jsonld._is_absolute_iri(expanded) or jsonld._is_keyword(expanded)):
                raise UndefinedTerm(key)
        return super()._expand_object(active_ctx, active_property, expanded_active_property, element,
                                      expanded_parent, options, *args, **kwargs)


def _contexts_problem(document: dict, known: set[str]) -> str | None:
    contexts = document.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    for context in contexts:
        if not isinstance(context, str):
            return "it carries a context of its own, which was not signed"
        if context not in known:
            return f"it names the context {context[:80]!r}, which is not one of the credential's"
    stack = [value for key, value in document.items() if key != "@context"]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "@context" in item:
                return "it carries a context of its own inside it, which was not signed"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def _relative_iri(expanded) -> str | None:
    """A ``@type`` or ``@id`` in expanded JSON-LD that RDF would drop (not absolute, not a blank node)."""
    stack = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key in ("@type", "@id") and "@value" not in item:
                    for iri in value if isinstance(value, list) else [value]:
                        if isinstance(iri, str) and not (iri.startswith("_:") or jsonld._is_absolute_iri(iri)):
                            return iri
                elif key != "@value":
                    stack.append(value)
    return None


def strict_problem(document: dict, loader=None) -> str | None:
    """Why ``document`` holds something its signature would not cover (None: everything is signed)."""
    if not isinstance(document, dict):
        return "it is not a JSON-LD object"
    loader = loader or document_loader()
    problem = _contexts_problem(document, set(getattr(loader, "known", VENDORED)))
    if problem:
        return problem
    try:
        expanded = _StrictProcessor().expand(document, {"documentLoader": loader})
    except UndefinedTerm as error:
        return f"it holds {error.term!r}, which its signed contexts do not define"
    except JsonLdError as error:
        return f"it is not valid JSON-LD ({str(error).splitlines()[0][:120]})"
    relative = _relative_iri(expanded)
    if relative is not None:
        return f"it holds the type or id {relative[:80]!r}, which its signed contexts do not define"
    return None
