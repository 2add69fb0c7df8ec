"""Administrators manage accounts and roles."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.admin import services
from mhfa.admin.forms import AccountForm, UserSearchForm
from mhfa.auth.access import role_required
from mhfa.auth.models import Role, User
from mhfa.pagination import page_url

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@role_required(Role.ADMIN)
def users():
    """Search accounts by name, email and role."""
    form = UserSearchForm(request.args)
    role = Role(form.role.data) if form.role.data in {r.value for r in Role} else None
    page = services.search_users(form.q.data or "", role, request.args.get("page", 1, type=int))
    return render_template("admin/users.html", form=form, page=page, page_url=page_url("admin.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int):
    """Change an account's roles or deactivate it."""
    user = flow.get_or_404(User, user_id)
    form = AccountForm(obj=None if request.method == "POST" else user)
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.roles)
        form.active.data = user.active
    if form.validate_on_submit():
        outcome = flow.attempt(services.update_account, user, {Role(v) for v in form.roles.data}, form.active.data,
                               current_user, form=form)
        if outcome.ok:
            flash(f"Saved {user.email}." if outcome.value else "Nothing changed.", "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin/edit_user.html", form=form, user=user), flow.status(form)
