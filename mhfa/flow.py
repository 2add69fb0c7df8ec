"""The one request flow every view shares: load or 404, call a service, commit once or roll back.

A view parses its input, then hands the work to :func:`attempt`::

    course = flow.get_or_404(Course, course_id)
    form = CancelCourseForm()
    if form.validate_on_submit():
        outcome = flow.attempt(services.cancel_course, course, by=current_user, form=form)
        if outcome.done("Course cancelled."):
            return redirect(url_for(".course", course_id=course.id))
    return render_template("courses/cancel.html", course=course, form=form), flow.status(form)

A button's outcome is said one way. On a page that shows its form again after a refusal,
:meth:`Outcome.done` says the success on the next page (a text, or a function of the service's result)
and the refusal stays on the form. A button that only goes back to the page it sits on uses
:func:`press`: it checks the form, runs the service, and says the success or the refusal on that page.
What a view says without a service behind it (signing out, a form that expired) goes through
:func:`say`. Views never call ``flask.flash`` themselves (``tests/test_flow.py`` checks).

``attempt`` commits once when the service returns, and rolls back when it raises a
:class:`~mhfa.errors.DomainError`: with a form, the refusal goes on the field it names (or above the
form) and the page is shown again with what the user typed; without one, the error propagates to
the app's error handler, which answers an HTML page or, under ``/api/``, JSON. Services never commit.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import Response, abort, flash

from mhfa.db_types import MAX_ID
from mhfa.errors import Conflict, DomainError, Forbidden, Gone, NotFound, show_on_form
from mhfa.extensions import db

T = TypeVar("T")
M = TypeVar("M")


@dataclass
class Outcome(Generic[T]):
    """What a service call came to: its result, or the refusal that rolled it back."""

    value: T | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def done(self, success: str | Callable[[T], str], kind: str = "success") -> bool:
        """Whether the service succeeded; if it did, say so on the next page: ``success``, or
        ``success(value)`` when the words depend on the result. A refusal is on the form (or was raised)."""
        if self.ok:
            say(success(self.value) if callable(success) else success, kind)
        return self.ok


def say(message: str, kind: str = "success") -> None:
    """Show ``message`` at the top of the next page (``kind``: success, info or error)."""
    flash(message, kind)


def press(form: Any, service: Callable[..., T], *args: Any, success: str | Callable[[T], str],
          **kwargs: Any) -> Outcome[T]:
    """A button that goes back to the page it sits on: check ``form`` (its CSRF token), run the service
    through :func:`attempt`, and say on the page what happened: ``success`` (or ``success(value)``), or
    the refusal's message. A form that does not validate does nothing (its outcome is not ``ok``)."""
    if not form.validate_on_submit():
        return Outcome(error=DomainError("the form could not be checked: press the button again"))
    outcome = attempt(service, *args, form=form, **kwargs)
    if not outcome.done(success):
        say(outcome.error.message, "error")
    return outcome


def get_or_404(model: type[M], object_id: Any) -> M:
    """The row of ``model`` with this primary key, or a 404."""
    if isinstance(object_id, int) and not 0 < object_id <= MAX_ID:
        abort(404)
    found = db.session.get(model, object_id)
    if found is None:
        abort(404)
    return found


#: How the web answers each kind of refusal; any other DomainError is a 422 (the request was understood
#: and refused by a rule).
HTTP_STATUS: tuple[tuple[type[DomainError], int], ...] = ((NotFound, 404), (Forbidden, 403), (Conflict, 409),
                                                         (Gone, 410))


def http_status(error: DomainError) -> int:
    """The status code a page or the API answers ``error`` with."""
    return next((status for kind, status in HTTP_STATUS if isinstance(error, kind)), 422)


def found_or_404(loader: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a service that loads an object (raising NotFound, or returning None) and 404 when it is not there."""
    try:
        found = loader(*args, **kwargs)
    except NotFound as error:
        abort(404, description=error.message)  # the page says what the service said (written for the user)
    if found is None:
        abort(404)
    return found


def attempt(service: Callable[..., T], *args: Any, form: Any = None, **kwargs: Any) -> Outcome[T]:
    """Run one service call as the request's unit of work: commit once, or roll back on refusal.

    With ``form``, a refusal is put on the form (see :func:`status`) and returned; without one it is
    raised again for the app's error handler (HTML or JSON), after the rollback.
    """
    try:
        value = service(*args, **kwargs)
    except DomainError as error:
        db.session.rollback()
        if form is None:
            raise
        show_on_form(form, error)
        form.refusal_status = http_status(error)
        return Outcome(error=error)
    except Exception:
        db.session.rollback()
        raise
    commit()
    return Outcome(value=value)


def commit() -> None:
    """Commit the request's work (for views whose work is not one service call, e.g. signing in).

    A commit the database refuses (e.g. a unique index hit by a simultaneous request) is rolled back
    before the error goes on, so the session is usable again.
    """
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def status(*forms: Any) -> int:
    """The status for a page that shows ``forms``: 200, 422 after invalid input, or a refusal's own code (the
    highest of the forms shown; a form that is None is not shown)."""
    return max((_status(form) for form in forms if form is not None), default=200)


def _status(form: Any) -> int:
    refusal = getattr(form, "refusal_status", None)
    if refusal:
        return refusal
    if form.errors or getattr(form, "form_errors", None):
        return 422
    return 200


#: An Excel workbook's media type.
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_response(body: bytes | str, filename: str, mimetype: str, *, inline: bool = False,
                  cache: str | None = "private, no-store") -> Response:
    """A file to save as ``filename`` (``inline``: to open in the browser), with ``cache`` as its
    Cache-Control (None: no header)."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    if cache is not None:
        response.headers["Cache-Control"] = cache
    return response
