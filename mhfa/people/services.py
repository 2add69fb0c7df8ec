"""People: a trainee's own profile, and claiming a record that an import or an employer created."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from mhfa import dates, names
from mhfa.areas.models import CouncilArea
from mhfa.areas.services import normalise_postcode
from mhfa.audit import services as audit
from mhfa.auth.models import Role, User
from mhfa.employers.models import Employer
from mhfa.errors import DomainError
from mhfa.extensions import db
from mhfa.names import normalise_email
from mhfa.people.models import AgeBand, Disability, EthnicGroup, Person, PersonSource, Sex


def person_with_email(email: str) -> Person | None:
    """The person with this address, however an import or an employer capitalised it."""
    address = normalise_email(email)
    return db.session.scalar(sa.select(Person).where(
        sa.or_(Person.email == address, sa.func.lower(Person.email) == address)).limit(1))


def claim_person(user: User, *, first_name: str = "", last_name: str = "") -> Person:
    """Link ``user`` (whose email is confirmed) to the person with that email, or to a new one.

    A person who first appeared through an import or an employer has no account; confirming the
    same address is what proves the record is theirs.
    """
    if user.email_confirmed_at is None:
        raise DomainError("Confirm your email address first.", field="email")
    if user.person is not None:
        return user.person
    person = person_with_email(user.email)
    if person is None:
        local = user.email.split("@")[0]
        person = Person(first_name=first_name or local, last_name=last_name or "",
                        email=user.email, source=PersonSource.REGISTRATION)
    elif person.email != user.email:
        person.email = user.email  # the confirmed spelling
        db.session.add(person)
    else:
        owner = db.session.scalar(sa.select(User).where(User.person_id == person.id))
        if owner is not None or person.is_erased:
            raise DomainError(
                "The record for this email address cannot be linked to your account. Contact the programme team.",
                field="email",
            )
    user.person = person
    db.session.flush()
    if person.source is not PersonSource.REGISTRATION:
        audit.record("person.claimed", person, user, source=person.source.value, user_id=user.id)
    return person


@dataclass
class ProfileChanges:
    """What the profile form collects. Optional answers are None when left blank."""

    first_name: str
    last_name: str
    date_of_birth: date | None
    home_council_area_id: int | None
    work_council_area_id: int | None
    postcode: str | None
    employer_id: int | None
    age_band: AgeBand | None
    sex: Sex | None
    ethnic_group: EthnicGroup | None
    disability: Disability | None


def profile_of(person: Person) -> ProfileChanges:
    return ProfileChanges(
        first_name=person.first_name, last_name=person.last_name, date_of_birth=person.date_of_birth,
        home_council_area_id=person.home_council_area_id, work_council_area_id=person.work_council_area_id,
        postcode=person.postcode, employer_id=person.employer_id, age_band=person.age_band, sex=person.sex,
        ethnic_group=person.ethnic_group, disability=person.disability,
    )


def can_choose_employer(user: User) -> bool:
    """An employer contact's organisation decides what they see, so only the programme team sets it."""
    return not user.has_role(Role.EMPLOYER)


def update_profile(user: User, changes: ProfileChanges) -> Person:
    """Save the signed-in person's own profile, checking each answer."""
    person = user.person
    if person is None:
        raise DomainError("Confirm your email address before you fill in your profile.", field="email")
    if not (changes.first_name or "").strip():
        raise DomainError("Enter your first name", field="first_name")
    if not (changes.last_name or "").strip():
        raise DomainError("Enter your last name", field="last_name")
    first = names.check(changes.first_name, "First name", field="first_name")
    last = names.check(changes.last_name, "Last name", field="last_name")
    dob = changes.date_of_birth
    if dob is not None:
        dates.BIRTH.check(dob, "Date of birth", field="date_of_birth")
    for field in ("home_council_area_id", "work_council_area_id"):
        area_id = getattr(changes, field)
        if area_id is not None and db.session.get(CouncilArea, area_id) is None:
            raise DomainError("Choose a council area from the list", field=field.removesuffix("_id"))
    employer_id = changes.employer_id
    if employer_id != person.employer_id:
        if not can_choose_employer(user):
            raise DomainError("Your organisation is set by the programme team: ask them to change it",
                              field="employer")
        if employer_id is not None and db.session.get(Employer, employer_id) is None:
            raise DomainError("Choose an employer from the list", field="employer")
    postcode = normalise_postcode(changes.postcode)
    equality = ("age_band", "sex", "ethnic_group", "disability")
    before = {name: getattr(getattr(person, name), "value", None) for name in equality}
    after = {name: getattr(getattr(changes, name), "value", None) for name in equality}
    if before != after:
        audit.record("person.equality_edited", person, user,
                     before={k: v for k, v in before.items() if v != after[k]},
                     after={k: v for k, v in after.items() if v != before[k]})
    person.first_name, person.last_name = first, last
    person.date_of_birth = dob
    person.home_council_area_id = changes.home_council_area_id
    person.work_council_area_id = changes.work_council_area_id
    person.postcode = postcode
    person.employer_id = employer_id
    person.age_band = changes.age_band
    person.sex = changes.sex
    person.ethnic_group = changes.ethnic_group
    person.disability = changes.disability
    db.session.flush()
    return person


def employers_to_choose() -> list[Employer]:
    return list(db.session.scalars(sa.select(Employer).order_by(Employer.name)))
