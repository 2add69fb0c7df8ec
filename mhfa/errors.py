"""Domain errors: raised by services with a message a user can read."""


class DomainError(Exception):
    """A rule refused the request; ``str(error)`` is safe to show to the user."""

    status_code = 422

    def __init__(self, message: str, *, field: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status_code is not None:
            self.status_code = status_code


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


def show_on_form(form, error: DomainError) -> None:
    """Put a service's refusal on the form field it names (or above the form), for the error summary."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.append(error.message)
    else:
        form.form_errors.append(error.message)
