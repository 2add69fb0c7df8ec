"""Signing in and out, registering, confirming an email address, passwords and the account page."""
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import IntegrityError

from mhfa import flow
from mhfa.auth import services, sessions, throttle
from mhfa.auth.access import is_safe_redirect, login_required, public, token_or_public
from mhfa.auth.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    EmailOnlyForm,
    LoginForm,
    LogoutForm,
    RegisterForm,
    ResetPasswordForm,
)
from mhfa.errors import DomainError
from mhfa.extensions import auth_rate_limit, limiter

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["MHFA_LOGIN_IP_RATE_LIMIT"], methods=["POST"], scope="login-ip")
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        refusal = throttle.check(form.email.data, request.remote_addr)
        if refusal is not None:
            return _too_many_attempts(form, refusal)
        user = services.authenticate(form.email.data, form.password.data)
        services.record_sign_in(form.email.data, user, request.remote_addr)
        if user is None:
            owner = services.user_by_email(form.email.data)
            flow.commit()  # the failed attempt stays in the audit log
            # Counted after that commit: the counts' own transaction never waits on this request's (SQLite).
            throttle.record_failure(form.email.data, request.remote_addr, owner)
            flow.commit()  # the owner's alert, if one is due
        if user is not None:
            login_user(user)
            sessions.sign_in(user, request.user_agent.string)
            flow.commit()
            throttle.record_success(form.email.data, request.remote_addr)
            target = request.args.get("next")
            return redirect(target if is_safe_redirect(target) else url_for("main.home"))
        failed = True
    return render_template("auth/login.html", form=form, failed=failed), (200 if not failed else 401)


def _too_many_attempts(form, refusal):
    minutes = max(1, round(refusal.retry_after / 60))
    response = current_app.make_response((render_template(
        "auth/login.html", form=form, failed=False,
        throttled=f"There have been too many wrong passwords for this account from where you are. Wait "
                  f"{minutes} minute{'s' if minutes != 1 else ''} and try again, or reset your password."), 429))
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out (a POST with a CSRF token, so no other site can sign you out)."""
    form = LogoutForm()
    if form.validate_on_submit():
        sessions.end_current()
        logout_user()
        flow.commit()
        flow.say("You have signed out.")
    return redirect(url_for("main.home"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    """End every session of this account, on every device (this one too)."""
    form = LogoutForm()
    if form.validate_on_submit():
        sessions.end_all(current_user, "signed out everywhere")
        session.pop(sessions.SESSION_KEY, None)
        logout_user()
        flow.commit()
        flow.say("You have signed out on every device.")
    return redirect(url_for("main.home"))


def _check_your_email(email: str, reason: str):
    return render_template("auth/check_email.html", email=email, reason=reason)


@bp.route("/register", methods=["GET", "POST"])
@public
@limiter.limit(auth_rate_limit, methods=["POST"])
def register():
    """Create a trainee account; it is confirmed by a link sent to the email address."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            outcome = flow.attempt(services.register, form.email.data, form.password.data,
                                   first_name=form.first_name.data, last_name=form.last_name.data, form=form)
        except IntegrityError:  # the same address registered at the same moment (rolled back): say the same
            outcome = flow.Outcome()
        if outcome.ok:
            return _check_your_email(services.normalise_email(form.email.data), "register")
    return render_template("auth/register.html", form=form), flow.status(form)


@bp.route("/confirm-email/<token>")
@token_or_public
def confirm_email(token: str):
    """The link in the confirmation email: confirms the address (and claims a known record with it)."""
    try:
        user = flow.attempt(services.confirm_email, token).value
    except DomainError as error:  # rolled back by the flow
        return render_template("auth/link_problem.html", message=error.message, kind="confirm"), 400
    if current_user.is_authenticated and current_user.id == user.id:
        flow.say("Your email address is confirmed. Check your profile, then find a course.")
        return redirect(url_for("people.profile"))
    flow.say("Your email address is confirmed. Sign in to carry on.")
    return redirect(url_for("auth.login", next=url_for("people.profile")))


@bp.route("/resend-confirmation", methods=["GET", "POST"])
@public
@limiter.limit(auth_rate_limit, methods=["POST"])
def resend_confirmation():
    """Send the confirmation link again (without saying whether the address has an account)."""
    return _send_a_link(services.send_confirmation_again, "confirm", "Send the confirmation link again",
                        "Enter the email address you registered with. If it has an account that is not confirmed "
                        "yet, we will send a new link.", prefill=True)


@bp.route("/forgot-password", methods=["GET", "POST"])
@public
@limiter.limit(auth_rate_limit, methods=["POST"])
def forgot_password():
    """Ask for a password-reset link. The answer is the same whether or not the address is registered."""
    return _send_a_link(services.request_password_reset, "reset", "Reset your password",
                        "Enter the email address you use to sign in. We will send you a link to set a new "
                        "password.")


def _send_a_link(send, kind: str, title: str, lead: str, *, prefill: bool = False):
    """A page asking for an email address to send a link to (``send``); the answer is the same whether
    or not the address has an account. ``prefill``: a signed-in visitor's own address is filled in."""
    form = EmailOnlyForm()
    if prefill and request.method == "GET" and current_user.is_authenticated:
        form.email.data = current_user.email
    if form.validate_on_submit():
        flow.attempt(send, form.email.data)
        return _check_your_email(services.normalise_email(form.email.data), kind)
    return render_template("auth/email_only.html", form=form, title=title, lead=lead), flow.status(form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@token_or_public
@limiter.limit(auth_rate_limit, methods=["POST"])
def reset_password(token: str):
    """Set a new password from the emailed link (which works once, for an hour)."""
    return _password_from_link(token, "reset", services.user_for_reset_token, services.reset_password,
                               "Your password has been changed. Sign in with your new password.")


@bp.route("/account/invitation/<token>", methods=["GET", "POST"])
@token_or_public
@limiter.limit(auth_rate_limit, methods=["POST"])
def accept_invitation(token: str):
    """Set your password from the invitation an administrator sent (the link works once, for some days)."""
    return _password_from_link(token, "invitation", services.user_for_invitation, services.accept_invitation,
                               "Your password is set. Sign in with your email address and your new password.")


def _password_from_link(token: str, kind: str, read, set_password, success: str):
    """The page behind an emailed link that sets a password (``kind``: a reset, or an invitation): ``read``
    finds the account (or the page says what is wrong with the link), ``set_password`` sets it; a browser
    signed in to any account is signed out, and the owner signs in with the new password."""
    try:
        user = read(token)  # reads only
    except DomainError as error:
        return render_template("auth/link_problem.html", message=error.message, kind=kind), 400
    form = ResetPasswordForm()
    form._policy_email = user.email
    invitation = kind == "invitation"
    if invitation:
        form.submit.label.text = "Set password"
    if form.validate_on_submit() and flow.attempt(_set_password_from_link, set_password, token, form.password.data,
                                                  "password reset" if kind == "reset" else "invitation accepted",
                                                  form=form).done(success):
        if current_user.is_authenticated:
            logout_user()
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form, email=user.email, invitation=invitation), \
        flow.status(form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Your account: email, confirmation, password, and your personal API token."""
    form = ApiTokenForm()
    new_token = None
    if form.validate_on_submit():
        if form.revoke.data:
            flow.attempt(services.revoke_api_token, current_user, actor=current_user).done(
                "Your API token has been revoked: scripts using it no longer work.")
            return redirect(url_for("auth.account"))
        new_token = flow.attempt(services.issue_api_token, current_user, actor=current_user).value
    return render_template("auth/account.html", form=form, new_token=new_token, sign_out_form=LogoutForm(),
                           live_sessions=sessions.live_sessions(current_user))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change your password (you need the current one)."""
    form = ChangePasswordForm()
    form._policy_email = current_user.email
    if form.validate_on_submit() and flow.attempt(
            _change_password, current_user, form.current_password.data, form.password.data, form=form).done(
            "Your password has been changed. Other devices signed in to your account have been signed out."):
        login_user(current_user._get_current_object())  # this session goes on; every other one ends
        return redirect(url_for("auth.account"))
    return render_template("auth/change_password.html", form=form), flow.status(form)


def _set_password_from_link(set_password, token: str, password: str, reason: str) -> None:
    """Set the password from a link; a signed-in browser's own session ends with it."""
    set_password(token, password)
    if current_user.is_authenticated:
        sessions.end_current(reason)


def _change_password(user, current_password: str, new_password: str) -> None:
    """Change the password and end every other session of the account (this one goes on)."""
    services.change_password(user, current_password, new_password)
    sessions.end_all(user, "password changed", keep_current=True)
