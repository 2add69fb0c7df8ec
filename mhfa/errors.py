"""Domain errors: raised by services with a message a user can read.

They say what kind of refusal it is, never how the web answers it: ``mhfa.flow.http_status`` maps each
kind to a status code for the pages and the API.
"""


class DomainError(Exception):
    """A rule refused the request; ``str(error)`` is safe to show to the user."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        #: Every (field, message) found; a service that checks everything at once lists several.
        self.problems: list[tuple[str | None, str]] = [(field, message)]


class NotFound(DomainError):
    """No such thing, or none the user may know of."""


class Conflict(DomainError):
    """The thing's state does not allow it now: full, taken, already done."""


class Forbidden(DomainError):
    """The thing exists, but this person may not do that to it."""


class Gone(DomainError):
    """The thing was there and is no more: an invitation expired, a record erased."""


def show_on_form(form, error: DomainError) -> None:
    """Put each of a refusal's problems on the form field it names (or above the form), for the error summary."""
    fields = getattr(form, "_fields", {})
    for name, message in error.problems:
        field = fields.get(name) if name else None
        if field is not None and hasattr(field, "errors"):
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.append(message)
        else:
            form.form_errors.append(message)
