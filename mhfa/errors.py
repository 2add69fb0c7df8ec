"""Domain errors: raised by services with a message a user can read."""


class DomainError(Exception):
    """A rule refused the request; ``str(error)`` is safe to show to the user."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        #: Every (field, message) found; a service that checks everything at once lists several.
        self.problems: list[tuple[str | None, str]] = [(field, message)]
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


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
