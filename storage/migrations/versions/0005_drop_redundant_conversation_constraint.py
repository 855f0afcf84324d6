"""drop the unique constraint on conversations that repeated its primary key

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | tuple[str, ...] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE conversations DROP CONSTRAINT IF EXISTS uq_conversation")
    else:
        with op.batch_alter_table("conversations") as batch_op:
            batch_op.drop_constraint("uq_conversation", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch_op:
        batch_op.create_unique_constraint("uq_conversation", ["chat_id", "user_id"])
