"""One rule for people's names and email addresses, wherever they come in, and one way to write any text to a
spreadsheet.

A name goes into pages, emails, certificates, PDFs, calendars and spreadsheet exports, so every
entry point (the profile, registration, the staff form and file, a phone booking, an instructor, a
reissued certificate, the completions import, ``create-user``) checks it here:

* **refused**: an empty name, more than 100 characters, a control character (NUL, ESC, BEL, tab...),
  a line or paragraph break, a bidirectional override, embedding, isolate or mark (which can make
  text read backwards), a byte-order mark, private-use, unassigned or unpaired-surrogate characters;
* **kept**: letters of any script, accents, apostrophes, hyphens, spaces (runs of spaces become one,
  and the ends are trimmed; the text is stored in Unicode NFC), the zero-width joiners some scripts
  need; and a name starting with ``=``, ``+``, ``-`` or ``@``, which is just text here and is
  neutralised wherever it is written to a spreadsheet (``spreadsheet_text``: a leading apostrophe).
"""
from __future__ import annotations

import unicodedata

from wtforms.validators import ValidationError

from mhfa.errors import DomainError

MAX_LENGTH = 100
#: Bidirectional formatting characters: marks, embeddings, overrides and isolates (Unicode UAX #9).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _refused_character(character: str) -> str | None:
    """What kind of refused character this is, or None when a name may hold it."""
    if character in BIDI_CONTROLS:
        return "a right-to-left or left-to-right control character"
    category = unicodedata.category(character)
    if category == "Cc":
        return "a line break" if character in "\n\r\x0b\x0c\x1c\x1d\x1e\x85" else "a control character"
    if category in ("Zl", "Zp"):
        return "a line break"
    if category in ("Cs", "Co", "Cn") or character == "\ufeff":
        return "a character that is not a letter"
    return None


def normalise(text: str) -> str:
    """The name as stored: Unicode NFC, ends trimmed, runs of spaces as one."""
    text = text or ""
    if not text.isascii():  # ASCII is its own NFC form
        text = unicodedata.normalize("NFC", text)
    return " ".join(part for part in text.split(" ") if part)


def problem(text: str | None, label: str = "Name") -> str | None:
    """Why ``text`` cannot be a name (the message starts with ``label``), or None when it can."""
    text = text or ""
    if not (text.isascii() and text.isprintable()):  # printable ASCII holds no refused character
        for character in text:
            reason = _refused_character(character)
            if reason:
                return f"{label} must not contain {reason}"
    cleaned = normalise(text)
    if not cleaned:
        return f"Enter the {label.lower()}"
    if len(cleaned) > MAX_LENGTH:
        return f"{label} must be {MAX_LENGTH} characters or fewer"
    return None


def check(text: str | None, label: str = "Name", *, field: str | None = None) -> str:
    """``text`` as a stored name, or a DomainError on ``field`` saying why not."""
    reason = problem(text, label)
    if reason:
        raise DomainError(reason, field=field)
    return normalise(text or "")


def normalise_email(email: str) -> str:
    """The one form of an email address kept and compared everywhere: trimmed, Unicode NFC, lower case.

    So "Anna@Example.org" and a decomposed "Ana\u0301" spelling reach the same person; lower() rather
    than casefold(), which would change letters such as "ß" that mail servers treat as distinct.
    """
    return unicodedata.normalize("NFC", email.strip()).lower()


def spreadsheet_text(value: str) -> str:
    """Text a spreadsheet shows as text: a cell starting like a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class PersonName:
    """WTForms validator: the field holds a name the rule accepts (the message names the field)."""

    def __init__(self, label: str | None = None):
        self.label = label

    def __call__(self, form, field):
        if field.data is None or not str(field.data).strip():
            return  # DataRequired / InputRequired say "enter …" in the field's own words
        reason = problem(str(field.data), self.label or field.label.text)
        if reason:
            raise ValidationError(reason)
