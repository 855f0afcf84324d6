"""merge outbox bundles and escalation state

Revision ID: 0004
Revises: 0003, 0003e
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models


revision: str = "0004"
down_revision: str | tuple[str, ...] | None = ("0003", "0003e")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
