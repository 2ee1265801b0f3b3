"""stagiaires as people: établissements, enrolments, attendance, convocations,
anonymous questionnaire answers, count corrections, sign-in links, purges

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

A dossier's trainees become people enrolled on it (``enrolment``, with its events), each
from an ``etablissement`` whose head releases them from classes; attendance per session
and per asynchronous step; the convocations sent (so a change sends an update); the
anonymous answers to the evaluation questionnaire (no person, no time, random ids);
corrections of the trainee counts with their justification; used email sign-in links;
what a purge of a closed dossier's stagiaire data kept. ``training_session.place`` says
where a session in person is held. Self-contained: it only adds.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "etablissement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("academie_id", sa.Integer(), nullable=False),
        sa.Column("uai", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("commune", sa.String(length=200), nullable=False),
        sa.Column("head_role", sa.String(length=32), nullable=False),
        sa.Column("head_name", sa.String(length=200), nullable=False),
        sa.Column("head_email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["academie_id"],
            ["academie.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("academie_id", "uai", name="uq_etablissement_uai"),
    )
    with op.batch_alter_table("etablissement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_etablissement_academie_name", ["academie_id", "name"], unique=False
        )

    op.create_table(
        "signin_link_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "convocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "kind", "recipient_email", name="uq_convocation"),
    )
    with op.batch_alter_table("convocation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_convocation_dossier_id"), ["dossier_id"], unique=False)

    op.create_table(
        "count_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("figure", sa.String(length=64), nullable=False),
        sa.Column("computed", sa.Integer(), nullable=True),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("count_correction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_count_correction_dossier_id"), ["dossier_id"], unique=False
        )

    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("etablissement_id", sa.Integer(), nullable=True),
        sa.Column("discipline", sa.String(length=200), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawal_reason", sa.Text(), nullable=True),
        sa.Column("questionnaire_answered", sa.Boolean(), nullable=False),
        sa.Column("attestation_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["enrolled_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["etablissement_id"],
            ["etablissement.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "person_id", name="uq_enrolment_person"),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index("ix_enrolment_person", ["person_id"], unique=False)

    op.create_table(
        "participant_purge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_by_id", sa.Integer(), nullable=True),
        sa.Column("enrolled", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("effective", sa.Integer(), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["purged_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id"),
    )
    op.create_table(
        "questionnaire_answer",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("fiabilite", sa.Integer(), nullable=False),
        sa.Column("faisabilite", sa.Integer(), nullable=False),
        sa.Column("accompagnement", sa.Integer(), nullable=False),
        sa.Column("effets", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("questionnaire_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_answer_dossier_id"), ["dossier_id"], unique=False
        )

    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_session.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("session_id", "enrolment_id", name="uq_attendance"),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index("ix_attendance_enrolment", ["enrolment_id"], unique=False)

    op.create_table(
        "enrolment_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("enrolment_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolment_event_enrolment_id"), ["enrolment_id"], unique=False
        )

    op.create_table(
        "activity_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["scenario_step.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("step_id", "enrolment_id", name="uq_activity_completion"),
    )
    with op.batch_alter_table("activity_completion", schema=None) as batch_op:
        batch_op.create_index("ix_activity_completion_enrolment", ["enrolment_id"], unique=False)

    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("training_session", schema=None) as batch_op:
        batch_op.drop_column("place")

    with op.batch_alter_table("activity_completion", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_completion_enrolment")

    op.drop_table("activity_completion")
    with op.batch_alter_table("enrolment_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_event_enrolment_id"))

    op.drop_table("enrolment_event")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_enrolment")

    op.drop_table("attendance")
    with op.batch_alter_table("questionnaire_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_answer_dossier_id"))

    op.drop_table("questionnaire_answer")
    op.drop_table("participant_purge")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolment_person")
        batch_op.drop_index(batch_op.f("ix_enrolment_dossier_id"))

    op.drop_table("enrolment")
    with op.batch_alter_table("count_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_count_correction_dossier_id"))

    op.drop_table("count_correction")
    with op.batch_alter_table("convocation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_convocation_dossier_id"))

    op.drop_table("convocation")
    op.drop_table("signin_link_use")
    with op.batch_alter_table("etablissement", schema=None) as batch_op:
        batch_op.drop_index("ix_etablissement_academie_name")

    op.drop_table("etablissement")
