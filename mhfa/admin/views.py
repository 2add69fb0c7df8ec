"""Administrators manage accounts and roles: find, create, invite and change them."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.admin import services
from mhfa.admin.forms import AccountForm, InviteAgainForm, NewUserForm, UserSearchForm
from mhfa.auth.access import role_required
from mhfa.auth.models import Role, User
from mhfa.pagination import page_url

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _roles(values) -> set[Role]:
    known = {r.value for r in Role}
    return {Role(v) for v in values or [] if v in known}


def _details(form) -> services.RoleDetails:
    return services.RoleDetails(form.licence_number.data or "", form.licence_expires_on.data, form.employer_id())


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    """Search accounts by name, email and role."""
    form = UserSearchForm(request.args)
    role = Role(form.role.data) if form.role.data in {r.value for r in Role} else None
    page = services.search_users(form.q.data or "", role, request.args.get("page", 1, type=int))
    return render_template("admin/users.html", form=form, page=page, page_url=page_url("admin.users"))


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_user():
    """Create an account, or invite its owner to set their password; the roles' records in the same step."""
    form = NewUserForm()
    form.set_organisations(services.approved_organisations())
    if form.validate_on_submit():
        account = services.NewAccount(form.email.data, form.first_name.data, form.last_name.data,
                                      _roles(form.roles.data), invite=form.how.data != "password",
                                      password=form.password.data or "")
        outcome = flow.attempt(services.create_account, account, _details(form), current_user, form=form)
        if outcome.done(lambda user: f"We have emailed {user.email} an invitation to set their password."
                        if account.invite else f"Account created for {user.email}. Tell them their password."):
            return redirect(url_for("admin.edit_user", user_id=outcome.value.id))
    return render_template("admin/new_user.html", form=form), flow.status(form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int):
    """Change an account's roles (with the records they need) or deactivate it."""
    user = flow.get_or_404(User, user_id)
    form = AccountForm(obj=None if request.method == "POST" else user)
    form.set_organisations(services.approved_organisations())
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.roles)
        form.active.data = user.active
    if form.validate_on_submit():
        outcome = flow.attempt(services.update_account_and_records, user, _roles(form.roles.data),
                               form.active.data, _details(form), current_user, form=form)
        if outcome.done(lambda value: f"Saved {user.email}." if value else "Nothing changed."):
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/edit_user.html", form=form, user=user, invite_form=InviteAgainForm(),
                           missing=services.records_missing(user, user.roles)), flow.status(form)


@bp.route("/users/<int:user_id>/invite", methods=["POST"])
@role_required(Role.ADMIN)
def invite_again(user_id: int):
    """Email the account's owner a new invitation to set their password."""
    user = flow.get_or_404(User, user_id)
    if InviteAgainForm().validate_on_submit():
        flow.attempt(services.invite_again, user, current_user).done(f"We have emailed {user.email} a new invitation.")
    return redirect(url_for("admin.edit_user", user_id=user.id))
