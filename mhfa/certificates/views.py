"""Certificates: completing a course (which issues them), coordinators' revoke and reissue, public verification.

Completing lives here rather than in the attendance blueprint because it issues certificates in the
same transaction, and attendance never imports certificates.
"""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from limits import parse_many

from mhfa import flow
from mhfa.attendance import services as attendance
from mhfa.attendance.models import AttendanceStatus
from mhfa.auth.access import login_required, public, role_required, token_or_public
from mhfa.auth.models import Role
from mhfa.certificates import badges, services, verification
from mhfa.certificates.forms import (
    ActionForm,
    BadgeFileForm,
    CorrectMarkForm,
    FindCertificateForm,
    ReissueForm,
    RevokeForm,
    VerifyForm,
)
from mhfa.certificates.models import Certificate
from mhfa.certificates.pdf import render_pdf
from mhfa.certificates.signing import check_configured_key
from mhfa.courses.models import Course, CourseSession, CourseStatus
from mhfa.extensions import limiter

bp = Blueprint("certificates", __name__)


@bp.record_once
def _check_settings(state) -> None:
    """A malformed ``MHFA_SIGNING_KEY`` (or instance key file) or ``MHFA_VERIFY_RATE_LIMIT`` stops the app at
    start, saying so: not a 500 at the first credential download, nor a rate limit silently not applied."""
    app = state.app
    try:
        warning = check_configured_key(app.instance_path, app.config.get("MHFA_SIGNING_KEY"))
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    if warning:
        app.logger.warning(warning)
    limit = app.config.get("MHFA_VERIFY_RATE_LIMIT", "20 per minute; 200 per hour")
    try:
        parse_many(limit)
    except ValueError:
        raise RuntimeError(f"MHFA_VERIFY_RATE_LIMIT is not a rate limit: {limit!r} (write it like "
                           "'20 per minute; 200 per hour')") from None


def verify_rate_limit() -> str:
    """How often one address may look a certificate up by number (``MHFA_VERIFY_RATE_LIMIT``)."""
    return current_app.config.get("MHFA_VERIFY_RATE_LIMIT", "20 per minute; 200 per hour")


# --- completing a course -----------------------------------------------------------------------------

@bp.route("/teaching/courses/<int:course_id>/complete", methods=["GET", "POST"])
@role_required(Role.INSTRUCTOR, Role.COORDINATOR)
def complete_course(course_id: int):
    """Who will and will not complete (with the sessions they missed); confirming completes and issues."""
    course = flow.get_or_404(Course, course_id)
    if not attendance.can_take_register(course, current_user):
        abort(403)
    form = ActionForm()
    if form.validate_on_submit():
        outcome = flow.attempt(services.complete_course_and_issue, course, current_user, form=form)
        already = outcome.ok and outcome.value.result.already_completed
        if outcome.done(lambda done: "This course was already completed: nothing has changed." if already else
                        f"Course completed: {len(done.certificates)} "
                        f"{'certificate' if len(done.certificates) == 1 else 'certificates'} issued.",
                        "info" if already else "success"):
            return redirect(url_for("certificates.complete_course", course_id=course.id))  # the list issued
    return render_template(
        "certificates/complete.html", course=course, form=form, preview=attendance.completion_preview(course),
        certificates=services.certificates_of_course(course),
        too_early=attendance.too_early_to_complete(course) if course.status is CourseStatus.PUBLISHED else None,
    ), flow.status(form)


@bp.route("/teaching/sessions/<int:session_id>/correct", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def correct_mark(session_id: int):
    """Change a mark of a completed course, with a reason; the certificate follows."""
    session = flow.get_or_404(CourseSession, session_id)
    rows = attendance.register(session)
    form = CorrectMarkForm()
    form.booking_id.choices = [(r.booking.id, r.booking.person.full_name) for r in rows]
    if form.validate_on_submit():
        outcome = flow.attempt(services.correct_mark, session, form.booking_id.data,
                               AttendanceStatus(form.status.data), current_user, form.reason.data, form=form)
        if outcome.done("Register changed."):
            return redirect(url_for("attendance.register", session_id=session.id))
    return render_template("certificates/correct_mark.html", session=session, course=session.course, rows=rows,
                           form=form), flow.status(form)


# --- coordinators ----------------------------------------------------------------------------------

@bp.route("/manage/certificates")
@role_required(Role.COORDINATOR)
def find_certificate():
    """Look a certificate up by its number."""
    form = FindCertificateForm(request.args)
    certificate = None
    searched = "number" in request.args
    if searched and form.validate():
        certificate = verification.find_by_number(form.number.data)
        if certificate is not None:
            return redirect(url_for(".manage_certificate", certificate_id=certificate.id))
    return render_template("certificates/find.html", form=form, searched=searched), flow.status(form)


def _manage_page(certificate: Certificate, revoke_form=None, reissue_form=None, status: int = 200):
    person = certificate.person
    reissue_form = reissue_form or ReissueForm(formdata=None, prefix="reissue", first_name=person.first_name,
                                               last_name=person.last_name)
    return render_template(
        "certificates/manage.html", certificate=certificate, check=verification.verification(certificate),
        revoke_form=revoke_form or RevokeForm(formdata=None, prefix="revoke"), reissue_form=reissue_form,
        instructors=verification.instructors_of(certificate), dates=verification.course_dates(certificate),
    ), status


def _shown_again(form) -> int:
    """The status of the page showing a form that was sent but not done: the form's own, or 422 when the
    form names no error."""
    return flow.status(form) if form.errors or form.form_errors else 422


@bp.route("/manage/certificates/<int:certificate_id>")
@role_required(Role.COORDINATOR)
def manage_certificate(certificate_id: int):
    """A certificate's details, history, and the revoke and reissue forms."""
    return _manage_page(flow.get_or_404(Certificate, certificate_id))


@bp.route("/manage/certificates/<int:certificate_id>/revoke", methods=["POST"])
@role_required(Role.COORDINATOR)
def revoke_certificate(certificate_id: int):
    certificate = flow.get_or_404(Certificate, certificate_id)
    form = RevokeForm(prefix="revoke")
    if form.validate_on_submit():
        outcome = flow.attempt(services.revoke, certificate, form.reason.data, current_user, form=form)
        if outcome.done(f"Certificate {certificate.number} revoked."):
            return redirect(url_for(".manage_certificate", certificate_id=certificate.id))
    return _manage_page(certificate, revoke_form=form, status=_shown_again(form))


@bp.route("/manage/certificates/<int:certificate_id>/reissue", methods=["POST"])
@role_required(Role.COORDINATOR)
def reissue_certificate(certificate_id: int):
    certificate = flow.get_or_404(Certificate, certificate_id)
    form = ReissueForm(prefix="reissue")
    if form.validate_on_submit():
        outcome = flow.attempt(services.reissue, certificate, form.first_name.data, form.last_name.data,
                               form.reason.data, current_user, form=form)
        if outcome.done(f"Certificate {certificate.number} reissued."):
            return redirect(url_for(".manage_certificate", certificate_id=certificate.id))
    return _manage_page(certificate, reissue_form=form, status=_shown_again(form))


# --- public verification ---------------------------------------------------------------------------

def _verification_page(certificate: Certificate, status: int = 200, *, badge_checked: bool = False):
    response = current_app.make_response((render_template(
        "certificates/verify.html", check=verification.verification(certificate),
        dates=verification.course_dates(certificate),
        programme=verification.programme_name(), public=True, badge_checked=badge_checked), status))
    # The answer changes the moment a certificate is revoked, reissued or erased: no cache may keep it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/verify/<token>")
@token_or_public
def verify(token: str):
    """Anyone holding a certificate's link sees whether it is valid, expired, revoked or erased."""
    return _verification_page(flow.found_or_404(verification.by_token, token))


@bp.route("/verify", methods=["GET", "POST"])
@public
@limiter.limit(verify_rate_limit, methods=["POST"])
def verify_form():
    """Check a certificate by its number and the holder's last name."""
    form = VerifyForm()
    if form.validate_on_submit():
        outcome = flow.attempt(verification.find_by_number_and_surname, form.number.data, form.surname.data, form=form)
        if outcome.ok:
            return _verification_page(outcome.value)
    return render_template("certificates/verify_form.html", form=form, badge_form=BadgeFileForm(formdata=None)), \
        flow.status(form)


@bp.route("/verify/badge", methods=["POST"])
@public
@limiter.limit(verify_rate_limit)
def verify_badge():
    """Check a downloaded Open Badge file: genuine (its signature covers all it holds) and its certificate's state."""
    form = BadgeFileForm()
    untrusted = None
    if form.validate_on_submit():
        upload = form.badge.data
        data = upload.read(badges.MAX_BADGE_BYTES + 1) if upload else b""
        outcome = flow.attempt(badges.check_badge, data, form=form)
        if outcome.ok:
            certificate, untrusted = outcome.value
            if certificate is not None:
                return _verification_page(certificate, badge_checked=True)
    status = 422 if untrusted or form.errors or form.form_errors else flow.status(form)
    return render_template("certificates/verify_form.html", form=VerifyForm(formdata=None), badge_form=form,
                           untrusted=untrusted), status


# --- downloads -------------------------------------------------------------------------------------------

def _downloadable(certificate_id: int) -> Certificate:
    certificate = flow.get_or_404(Certificate, certificate_id)
    if not services.can_download(certificate, current_user):
        abort(403)
    if (refusal := services.download_refusal(certificate, current_user)) is not None:
        abort(Response(render_template("certificates/download_refused.html", certificate=certificate,
                                       refusal=refusal), 403))
    return certificate


@bp.route("/certificates/<int:certificate_id>.pdf")
@login_required
def download_pdf(certificate_id: int):
    """The certificate as a PDF: for its holder and for coordinators only."""
    certificate = _downloadable(certificate_id)
    return flow.file_response(render_pdf(certificate, verification.programme_name()),
                              f"certificate-{certificate.number}.pdf", "application/pdf")


@bp.route("/certificates/<int:certificate_id>/badge.json")
@login_required
def download_badge(certificate_id: int):
    """The certificate as a signed Open Badges 3.0 credential: for its holder and for coordinators only."""
    certificate = _downloadable(certificate_id)
    return flow.file_response(_json_text(badges.credential(certificate)), f"badge-{certificate.number}.json",
                              "application/ld+json")


def _json_text(document: dict) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def _json(document: dict, mimetype: str = "application/json") -> Response:
    return Response(_json_text(document), mimetype=mimetype)


def _json_for_any_site(document: dict, mimetype: str, cache_control: str) -> Response:
    """A public document a verifier on any site may fetch (CORS open), cached as ``cache_control`` says."""
    response = _json(document, mimetype)
    response.headers["Cache-Control"] = cache_control
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/did.json")
@public
def did_document():
    """The issuer's did:web document: the public key that signs every credential."""
    return _json_for_any_site(badges.did_document(), "application/did+json", "public, max-age=3600")


@bp.route("/credentials/status/revocation")
@public
def status_list():
    """The signed revocation status list: a verifier checks a credential's bit here (current at every request)."""
    return _json_for_any_site(badges.status_list_credential(), "application/vc+ld+json", "no-cache")
