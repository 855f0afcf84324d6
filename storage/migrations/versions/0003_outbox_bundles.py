"""outbox bundles: a burst into one chat delivered as one message listing the cases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_line", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("bundle_button", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("bundle_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("bundle_rev", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("bundle_open", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index("ix_outbox_chat", ["chat_id", "status"], unique=False)
        batch_op.create_index("ix_outbox_bundle", ["bundle_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_bundle")
        batch_op.drop_index("ix_outbox_chat")
        batch_op.drop_column("bundle_open")
        batch_op.drop_column("bundle_rev")
        batch_op.drop_column("bundle_id")
        batch_op.drop_column("bundle_button")
        batch_op.drop_column("bundle_line")
