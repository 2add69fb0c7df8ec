"""The demo shows the programme's partners: awards at every level (the demo employer's expiring soon, one
waiting for its check, some on the public list), and instructors' development records with one at risk."""
from datetime import date

import sqlalchemy as sa

from mhfa.auth.models import User
from mhfa.courses import standing
from mhfa.courses.models import Instructor, InstructorDevelopment
from mhfa.demo import services as demo
from mhfa.employers import commitments
from mhfa.employers.awards import CommitmentLevel, WellbeingCommitment
from mhfa.employers.models import EmployerContact
from mhfa.extensions import db
from mhfa.timeutil import london_today


def test_the_demo_has_awards_at_every_level_and_instructors_with_development(app_ctx):
    demo.generate(people=2400, seed=3, today=london_today())
    db.session.commit()
    awards = db.session.scalars(sa.select(WellbeingCommitment)).all()
    assert {a.level for a in awards if a.is_verified} == set(CommitmentLevel)
    assert any(not a.is_verified for a in awards)
    assert commitments.public_list()
    contact = db.session.scalar(sa.select(User).where(User.email == "employer@example.org"))
    row = db.session.scalar(sa.select(EmployerContact).where(EmployerContact.user_id == contact.id))
    assert commitments.standing(row.employer).state == "expiring"
    mine = db.session.scalar(sa.select(Instructor).join(User, User.person_id == Instructor.person_id)
                             .where(User.email == "instructor@example.org"))
    assert db.session.scalar(sa.select(sa.func.count(InstructorDevelopment.id))
                             .where(InstructorDevelopment.instructor_id == mine.id)) >= 3
    risky = standing.at_risk()
    assert any(0 <= s.licence_days_left <= 183 and s.instructor.id != mine.id for s in risky)
    assert all(q.qualified_on is not None and q.qualified_on <= date.today() for q in mine.qualifications)
