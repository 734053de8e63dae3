"""turn cue: when the spoken cue that took the turn was sent (issue 13)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 00:30:00
"""

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("turn_latencies") as batch:
        batch.add_column(sa.Column("cue_ms", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turn_latencies") as batch:
        batch.drop_column("cue_ms")
