"""turn latencies: stage times of each spoken answer (issue 13)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 20:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_latencies",
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("turn_detection", sa.String(length=8), nullable=False),
        sa.Column("turn_reason", sa.String(length=16), nullable=True),
        sa.Column("turn_probability", sa.Float(), nullable=True),
        sa.Column("turn_ms", sa.Float(), nullable=True),
        sa.Column("transcript_ms", sa.Float(), nullable=True),
        sa.Column("coach_ms", sa.Float(), nullable=True),
        sa.Column("question_ms", sa.Float(), nullable=True),
        sa.Column("first_audio_ms", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["answer_id"], ["answers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["interview_sessions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("answer_id"),
    )
    op.create_index("ix_turn_latencies_session", "turn_latencies", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_turn_latencies_session", table_name="turn_latencies")
    op.drop_table("turn_latencies")
