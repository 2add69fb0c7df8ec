"""The account emails: confirm an address, already registered, reset a password, password changed."""
from __future__ import annotations

from mhfa.auth.models import User
from mhfa.notify.messages import absolute_url, send


def confirm_email(user: User, token: str) -> None:
    send("confirm_email", to=user.email, subject="Confirm your email address for MHFA Reach",
         user=user, url=absolute_url("auth.confirm_email", token=token))


def already_registered(user: User, reset_token: str) -> None:
    send("already_registered", to=user.email, subject="You already have an MHFA Reach account",
         user=user, url=absolute_url("auth.reset_password", token=reset_token))


def reset_password(user: User, token: str) -> None:
    send("reset_password", to=user.email, subject="Reset your MHFA Reach password",
         user=user, url=absolute_url("auth.reset_password", token=token))


def account_invitation(user: User, token: str, by: User | None, *, days: int) -> None:
    send("account_invitation", to=user.email, subject="You are invited to MHFA Reach: set your password",
         user=user, by=by, days=days, url=absolute_url("auth.accept_invitation", token=token))


def password_changed(user: User, *, api_token_revoked: bool = False) -> None:
    send("password_changed", to=user.email, subject="Your MHFA Reach password has been changed", user=user,
         api_token_revoked=api_token_revoked)


def failed_sign_ins(user: User) -> None:
    send("failed_sign_ins", to=user.email, subject="Failed attempts to sign in to your MHFA Reach account",
         user=user, reset_url=absolute_url("auth.forgot_password"))
