"""The signed-in person's own profile."""
from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from mhfa import flow
from mhfa.areas.services import all_areas
from mhfa.auth.access import is_safe_redirect, login_required
from mhfa.people import services
from mhfa.people.forms import ProfileForm

bp = Blueprint("people", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Your name, date of birth, areas, employer and the optional equality questions."""
    person = current_user.person
    if person is None:
        return render_template("people/profile.html", form=None)
    can_choose_employer = services.can_choose_employer(current_user)
    if request.method == "POST":
        form = ProfileForm()
    else:
        current = services.profile_of(person)
        form = ProfileForm(
            first_name=current.first_name, last_name=current.last_name, date_of_birth=current.date_of_birth,
            home_council_area=current.home_council_area_id, work_council_area=current.work_council_area_id,
            postcode=current.postcode, employer=current.employer_id, age_band=current.age_band, sex=current.sex,
            ethnic_group=current.ethnic_group, disability=current.disability,
        )
    form.set_choices(all_areas(), services.employers_to_choose())
    if form.validate_on_submit():
        changes = services.ProfileChanges(
            first_name=form.first_name.data, last_name=form.last_name.data, date_of_birth=form.date_of_birth.data,
            home_council_area_id=form.home_council_area.data, work_council_area_id=form.work_council_area.data,
            postcode=form.postcode.data,
            employer_id=form.employer.data if can_choose_employer else person.employer_id,
            age_band=form.age_band.data, sex=form.sex.data, ethnic_group=form.ethnic_group.data,
            disability=form.disability.data,
        )
        if flow.attempt(services.update_profile, current_user, changes, form=form).done("Your profile has been saved."):
            back = request.args.get("next")  # e.g. the booking page that asked for a date of birth
            return redirect(back if is_safe_redirect(back) else url_for("people.profile"))
    return render_template("people/profile.html", form=form, can_choose_employer=can_choose_employer,
                           person=person), flow.status(form)
