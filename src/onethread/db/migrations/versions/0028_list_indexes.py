"""lists at scale: an index for each list page's sort (keyset paging)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 01:00:00

- ``case_file (owner_id, opened_at, id)``: a staff member's cases, newest first.
- ``case_clock (fired_at, case_id)`` where fired and not stopped: the supervisor queue's clocks.
- ``match_item (created_at, id)`` where open: the match queue.
- ``known_defect (updated_at, id)``, ``approval_request (requested_at, id)`` and
  ``(status, requested_at, id)``: the registry and the four-eyes requests.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

_BREACHED = sa.text("fired_at IS NOT NULL AND stopped_at IS NULL")


def upgrade() -> None:
    op.create_index('ix_case_owner_opened', 'case_file', ['owner_id', 'opened_at', 'id'])
    op.create_index('ix_case_clock_breached', 'case_clock', ['fired_at', 'case_id'], postgresql_where=_BREACHED,
                    sqlite_where=_BREACHED)
    open_item = sa.text("resolved_at IS NULL")
    op.create_index('ix_match_item_open_created', 'match_item', ['created_at', 'id'], postgresql_where=open_item,
                    sqlite_where=open_item)
    op.create_index('ix_known_defect_updated', 'known_defect', ['updated_at', 'id'])
    op.create_index('ix_approval_request_requested', 'approval_request', ['requested_at', 'id'])
    op.create_index('ix_approval_request_status_requested', 'approval_request', ['status', 'requested_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_approval_request_status_requested', table_name='approval_request')
    op.drop_index('ix_approval_request_requested', table_name='approval_request')
    op.drop_index('ix_known_defect_updated', table_name='known_defect')
    op.drop_index('ix_match_item_open_created', table_name='match_item')
    op.drop_index('ix_case_clock_breached', table_name='case_clock')
    op.drop_index('ix_case_owner_opened', table_name='case_file')
