"""The search index: one row per contact, case and customer, with the text search reads
(docs/search.md). Kept in step by ``search.index`` in the transaction of the change. Beside it, in
the migration only: on PostgreSQL a ``tsv`` tsvector column (GIN) and a trigram index on names; on
SQLite two FTS5 tables over it (words, and trigrams of names) kept in step by triggers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onethread.db.base import Base


class SearchDoc(Base):
    __tablename__ = "search_doc"
    __table_args__ = (UniqueConstraint("kind", "ref_id"),)

    # An integer key: SQLite's FTS5 tables refer to rows by it.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    kind: Mapped[str] = mapped_column(String(10))  # customer | case | contact
    ref_id: Mapped[str] = mapped_column(String(26))
    customer_id: Mapped[str | None] = mapped_column(String(26), index=True)
    channel: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str | None] = mapped_column(String(20))
    owner_id: Mapped[str | None] = mapped_column(String(26))  # a case's owner, a contact's staff member
    market: Mapped[str | None] = mapped_column(String(10))  # None: the configured market
    lang: Mapped[str] = mapped_column(String(20))  # the text-search configuration its words are read with
    at: Mapped[datetime]  # when the contact happened, the case opened, the customer was created
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    names: Mapped[str | None] = mapped_column(Text)  # a customer's name, matched loosely


Index("ix_search_doc_kind_at", SearchDoc.kind, SearchDoc.at)
