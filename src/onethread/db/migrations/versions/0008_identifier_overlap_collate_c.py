"""identifiers: the no-overlap exclusion constraint compares identifier ids byte-wise (COLLATE "C")

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:00:00

The constraint that keeps two customers from holding one identifier at the same time (0001)
compared ``identifier_id`` under the database's default collation, whose comparisons cost far
more than a byte-wise one in the GiST index behind it. Ids are ULIDs (ASCII letters and digits),
so equality is the same either way; only the cost changes: building the constraint over 454,492
holdings took 55.8 s before and about 11 s after (docs/datagen.md), and every new holding is
checked against it. PostgreSQL only (SQLite has no exclusion constraints; the service checks
under a row lock first on both).
"""

from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

NAME = 'ex_identifier_holding_no_overlap'
PERIOD = "tstzrange(valid_from, valid_to, '[)') WITH &&"


def _replace(identifier_id: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(f'ALTER TABLE identifier_holding DROP CONSTRAINT {NAME}')
    op.execute(f'ALTER TABLE identifier_holding ADD CONSTRAINT {NAME} '
               f'EXCLUDE USING gist ({identifier_id} WITH =, {PERIOD})')


def upgrade() -> None:
    _replace('identifier_id COLLATE "C"')


def downgrade() -> None:
    _replace('identifier_id')
