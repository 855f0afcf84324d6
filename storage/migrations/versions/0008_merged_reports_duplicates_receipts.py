"""merged reports on the case, duplicate hints, report signatures, bundle kinds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extra_reports', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('duplicate_hint', sa.String(length=32), nullable=True))
    with op.batch_alter_table('case_reporters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature', sa.JSON(), nullable=True))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bundle_kind', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('bundle_kind')
    with op.batch_alter_table('case_reporters', schema=None) as batch_op:
        batch_op.drop_column('signature')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('duplicate_hint')
        batch_op.drop_column('extra_reports')
