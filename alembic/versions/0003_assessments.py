"""assessments: rubric scores per answer, session mode, participant attributes

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answer_assessments",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("rubric_version", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("llm_model", sa.String(length=128), nullable=True),
        sa.Column("llm_latency_ms", sa.Float(), nullable=True),
        sa.Column("fallback_reason", sa.String(length=32), nullable=True),
        sa.Column("structure", sa.Integer(), nullable=True),
        sa.Column("specificity", sa.Integer(), nullable=True),
        sa.Column("relevance", sa.Integer(), nullable=True),
        sa.Column("ownership", sa.Integer(), nullable=True),
        sa.Column("conciseness", sa.Integer(), nullable=True),
        sa.Column("delivery", sa.Integer(), nullable=True),
        sa.Column("overall", sa.Float(), nullable=True),
        sa.Column("improve", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["interview_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("answer_id"),
    )
    op.create_index("ix_answer_assessments_session_id", "answer_assessments", ["session_id"], unique=False)
    op.create_table(
        "participant_attributes",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["interview_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("session_id", "name"),
    )
    with op.batch_alter_table("interview_sessions") as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(length=16), server_default="study", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("interview_sessions") as batch_op:
        batch_op.drop_column("mode")
    op.drop_table("participant_attributes")
    op.drop_index("ix_answer_assessments_session_id", table_name="answer_assessments")
    op.drop_table("answer_assessments")
