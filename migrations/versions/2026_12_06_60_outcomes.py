"""outcomes: questionnaires (version 1 of the evaluation and the six-month follow-up), invitations, answers, settings

Revision ID: 2026_12_06_60
Revises: 2026_12_06_50
Create Date: 2026-12-06 17:20:00

The questions are data: version 1 of each kind is stored here, and the programme adds later versions
without a code change (answers keep the version they answered).
"""
import json
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = "2026_12_06_60"
down_revision = "2026_12_06_50"
branch_labels = None
depends_on = None

EVALUATION_V1 = json.loads(r"""[
 {
  "key": "confidence_before",
  "type": "scale",
  "min": 0,
  "max": 10,
  "required": true,
  "label": "Before the course, how confident were you to help someone with a mental health problem?",
  "hint": "0 is not at all confident, 10 is completely confident"
 },
 {
  "key": "confidence_now",
  "type": "scale",
  "min": 0,
  "max": 10,
  "required": true,
  "label": "Now, how confident are you to help someone with a mental health problem?",
  "hint": "0 is not at all confident, 10 is completely confident"
 },
 {
  "key": "signposting_before",
  "type": "scale",
  "min": 0,
  "max": 10,
  "required": true,
  "label": "Before the course, how well did you know where to signpost someone for help?",
  "hint": "0 is not at all, 10 is completely"
 },
 {
  "key": "signposting_now",
  "type": "scale",
  "min": 0,
  "max": 10,
  "required": true,
  "label": "Now, how well do you know where to signpost someone for help?",
  "hint": "0 is not at all, 10 is completely"
 },
 {
  "key": "rating",
  "type": "choice",
  "choices": [
   [
    1,
    "Very poor"
   ],
   [
    2,
    "Poor"
   ],
   [
    3,
    "Neither good nor poor"
   ],
   [
    4,
    "Good"
   ],
   [
    5,
    "Very good"
   ]
  ],
  "required": true,
  "label": "Overall, how would you rate the course?"
 },
 {
  "key": "comment",
  "type": "text",
  "max_length": 1000,
  "required": false,
  "label": "Anything you would like to tell us about the course (optional)",
  "hint": "Do not include your name or anyone else's: comments are shown to the programme team and your instructor without names"
 }
]""")
FOLLOW_UP_V1 = json.loads(r"""[
 {
  "key": "used_skills",
  "type": "yesno",
  "required": true,
  "label": "Have you used your Mental Health First Aid skills since the course?"
 },
 {
  "key": "times_used",
  "type": "count",
  "min": 1,
  "max": 999,
  "required": false,
  "label": "If yes, about how many times?"
 },
 {
  "key": "actions",
  "type": "multi",
  "required": false,
  "label": "If yes, what did you do?",
  "hint": "Select all that apply",
  "choices": [
   [
    "listened",
    "Listened"
   ],
   [
    "signposted",
    "Signposted to a GP or NHS 111"
   ],
   [
    "crisis",
    "Crisis support"
   ],
   [
    "other",
    "Something else"
   ]
  ]
 }
]""")
TITLES = {"evaluation": "How was your Mental Health First Aid course?", "follow_up": "Six months on: have you used your Mental Health First Aid skills?"}


def upgrade():
    questionnaire = op.create_table(
        "questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "version"),
    )
    op.create_table(
        "outcome_invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("completion_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("course_id", sa.Integer(), nullable=True),
        sa.Column("course_type_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("questionnaire_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["completion_id"], ["completion.id"]),
        sa.ForeignKeyConstraint(["course_id"], ["course.id"]),
        sa.ForeignKeyConstraint(["course_type_id"], ["course_type.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["questionnaire_id"], ["questionnaire.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("completion_id", "kind"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_outcome_invite_course", "outcome_invite", ["course_id", "kind"], unique=False)
    op.create_index("ix_outcome_invite_person_id", "outcome_invite", ["person_id"], unique=False)
    op.create_table(
        "outcome_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["invite_id"], ["outcome_invite.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("invite_id", "key"),
    )
    op.create_index("ix_outcome_answer_key", "outcome_answer", ["key", "invite_id"], unique=False)
    op.create_table(
        "outcome_course_type",
        sa.Column("course_type_id", sa.Integer(), nullable=False),
        sa.Column("evaluation_before_download", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["course_type_id"], ["course_type.id"]),
        sa.PrimaryKeyConstraint("course_type_id"),
    )
    op.create_table(
        "outcome_opt_out",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("person_id"),
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(questionnaire, [
        {"kind": "evaluation", "version": 1, "title": TITLES["evaluation"], "questions": EVALUATION_V1,
         "created_at": now},
        {"kind": "follow_up", "version": 1, "title": TITLES["follow_up"], "questions": FOLLOW_UP_V1,
         "created_at": now},
    ])


def downgrade():
    op.drop_table("outcome_opt_out")
    op.drop_table("outcome_course_type")
    op.drop_index("ix_outcome_answer_key", table_name="outcome_answer")
    op.drop_table("outcome_answer")
    op.drop_index("ix_outcome_invite_person_id", table_name="outcome_invite")
    op.drop_index("ix_outcome_invite_course", table_name="outcome_invite")
    op.drop_table("outcome_invite")
    op.drop_table("questionnaire")
