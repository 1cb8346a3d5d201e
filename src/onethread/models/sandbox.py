"""The sandbox's manual clock: one row that an administrator moves (ONETHREAD_CLOCK=manual)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base


class ManualClockRow(Base):
    __tablename__ = "manual_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    now: Mapped[datetime]
    updated_at: Mapped[datetime]
