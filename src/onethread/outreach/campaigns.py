"""Campaigns: a promotional message to a segment (a filter or an uploaded list), weighed by the
guard for every recipient at once, in the database.

``evaluate`` is one ``UPDATE ... FROM`` over the campaign's recipients joined to what the guard
reads (open complaints and billing cases, consent and opt-outs, vulnerability, promotional
messages in the last week), then one ``GROUP BY`` for the counts per verdict and reason: a
handful of statements whatever the size. The first reason it records for a recipient is the
first reason ``rules.evaluate`` gives for the same customer (a test holds them together).
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from onethread.access.rules import Principal
from onethread.db.bulk import is_postgresql
from onethread.errors import Conflict, NotFound, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Campaign, CampaignRecipient, Customer
from onethread.outreach import rules

LIST_MAX = 10_000  # customer ids in one upload request
FILTERS = ("customerSegment", "productKind", "customerSinceBefore")


def get(session: Session, campaign_id: str) -> Campaign:
    found = session.get(Campaign, campaign_id)
    if found is None:
        raise NotFound(f"no campaign {campaign_id}")
    return found


def _filter_sql(segment: dict) -> tuple[str, dict]:
    where, params = ["1 = 1"], {}
    if segment.get("customerSegment"):
        where.append("c.segment = :segment")
        params["segment"] = segment["customerSegment"]
    if segment.get("productKind"):
        where.append("EXISTS (SELECT 1 FROM product p WHERE p.customer_id = c.id AND p.status = 'active' "
                     "AND p.kind = :kind)")
        params["kind"] = segment["productKind"]
    if segment.get("customerSinceBefore"):
        where.append("c.customer_since < :since")
        params["since"] = segment["customerSinceBefore"]
    return " AND ".join(where), params


def create(session: Session, clock: Clock, actor: Principal, *, name: str, purpose: str, channel: str,
           subject: str | None, body: str, segment: dict | None) -> Campaign:
    """A draft campaign; with a filter its recipients are chosen now (one INSERT ... SELECT)."""
    if purpose not in rules.PROMOTIONAL:
        raise ValidationFailed(f"a campaign's purpose is one of {', '.join(sorted(rules.PROMOTIONAL))}",
                               field="purpose")
    if channel not in rules.CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(rules.CHANNELS)}", field="channel")
    if not (name or "").strip() or not (body or "").strip():
        raise ValidationFailed("a campaign needs a name and content", field="name")
    segment = dict(segment or {})
    unknown = sorted(set(segment) - set(FILTERS))
    if unknown:
        raise ValidationFailed(f"unknown filter(s) {', '.join(unknown)}; one of {', '.join(FILTERS)}", field="segment")
    if segment.get("customerSinceBefore"):
        try:
            segment["customerSinceBefore"] = date.fromisoformat(str(segment["customerSinceBefore"])).isoformat()
        except ValueError as exc:
            raise ValidationFailed("customerSinceBefore is a date (YYYY-MM-DD)", field="segment") from exc
    campaign = Campaign(name=name.strip()[:200], purpose=purpose, channel=channel, subject=subject, body=body.strip(),
                        segment=segment, status="draft", counts=[], recipients=0, created_at=clock.now(),
                        created_by=actor.id)
    session.add(campaign)
    session.flush()
    if segment:
        where, params = _filter_sql(segment)
        if "since" in params:
            params["since"] = date.fromisoformat(params["since"])
        session.execute(text(f"INSERT INTO campaign_recipient (campaign_id, customer_id) "
                             f"SELECT CAST(:cid AS VARCHAR(26)), c.id FROM customer c WHERE {where}"),
                        {"cid": campaign.id, **params})
        campaign.recipients = _count(session, campaign.id)
    return campaign


def _count(session: Session, campaign_id: str) -> int:
    return session.scalar(select(func.count()).select_from(CampaignRecipient)
                          .where(CampaignRecipient.campaign_id == campaign_id)) or 0


def add_list(session: Session, campaign_id: str, customer_ids: list[str]) -> tuple[int, int]:
    """An uploaded list: the known customers join (once each). Returns (added, ids that are no customer)."""
    campaign = get(session, campaign_id)
    if campaign.segment and "list" not in campaign.segment:
        raise Conflict("this campaign's recipients come from its filter")
    ids = sorted(set(customer_ids))
    if not ids or len(ids) > LIST_MAX:
        raise ValidationFailed(f"send 1 to {LIST_MAX} customer ids", field="customerIds")
    before = _count(session, campaign_id)
    elements = "json_array_elements_text(CAST(:ids AS JSON))" if is_postgresql(session) else "json_each(:ids)"
    session.execute(
        text(f"INSERT INTO campaign_recipient (campaign_id, customer_id) SELECT CAST(:cid AS VARCHAR(26)), c.id "
             f"FROM customer c WHERE c.id IN (SELECT value FROM {elements}) AND NOT EXISTS (SELECT 1 FROM "
             "campaign_recipient r WHERE r.campaign_id = CAST(:cid AS VARCHAR(26)) AND r.customer_id = c.id)"),
        {"cid": campaign_id, "ids": json.dumps(ids)})
    known = session.scalar(select(func.count()).select_from(Customer).where(Customer.id.in_(ids))) or 0
    campaign.recipients = _count(session, campaign_id)
    campaign.segment = {"list": campaign.recipients}
    return campaign.recipients - before, len(ids) - known


def evaluation_sql(postgresql: bool) -> str:
    """The guard for every recipient of ``:cid`` in one statement (parameters: cid, purpose, now,
    since, cap, promotional). The CASE order is ``rules.evaluate``'s order of reasons."""
    opted = ("COALESCE(p.opted_out @> to_jsonb(CAST(:purpose AS TEXT)), false)" if postgresql else
             "COALESCE((SELECT 1 FROM json_each(p.opted_out) WHERE value = :purpose), 0) = 1")
    consent = "COALESCE(p.marketing_consent, false)" if postgresql else "COALESCE(p.marketing_consent, 0) = 1"
    return f"""
WITH open_cases AS (
  SELECT customer_id, SUM(CASE WHEN kind = 'complaint' THEN 1 ELSE 0 END) AS complaints,
         SUM(CASE WHEN kind = 'billing_dispute' THEN 1 ELSE 0 END) AS billing
  FROM case_file WHERE status <> 'closed' GROUP BY customer_id),
vulnerable AS (
  SELECT DISTINCT customer_id FROM vulnerability WHERE ended_at IS NULL OR ended_at > :now),
recent AS (
  SELECT customer_id, COUNT(*) AS sent FROM outbound_message
  WHERE purpose IN ('retention', 'marketing') AND status IN ('queued', 'sending', 'sent', 'delivered')
    AND created_at >= :since GROUP BY customer_id),
judged AS (
  SELECT r.customer_id,
    CASE
      WHEN COALESCE(oc.complaints, 0) > 0 THEN 'OPEN_COMPLAINT'
      WHEN COALESCE(oc.billing, 0) > 0 THEN 'OPEN_BILLING_CASE'
      WHEN {opted} THEN 'OPTED_OUT'
      WHEN :purpose = 'marketing' AND NOT ({consent}) THEN 'NO_MARKETING_CONSENT'
      WHEN COALESCE(m.sent, 0) >= :cap THEN 'TOO_MANY_MESSAGES'
      WHEN v.customer_id IS NOT NULL THEN 'VULNERABLE_REVIEW'
      ELSE 'OK' END AS reason
  FROM campaign_recipient r
  LEFT JOIN open_cases oc ON oc.customer_id = r.customer_id
  LEFT JOIN contact_preference p ON p.customer_id = r.customer_id
  LEFT JOIN vulnerable v ON v.customer_id = r.customer_id
  LEFT JOIN recent m ON m.customer_id = r.customer_id
  WHERE r.campaign_id = :cid)
UPDATE campaign_recipient SET reason = judged.reason,
  verdict = CASE judged.reason WHEN 'OK' THEN 'send' WHEN 'VULNERABLE_REVIEW' THEN 'hold' ELSE 'suppress' END
FROM judged WHERE campaign_recipient.campaign_id = :cid AND campaign_recipient.customer_id = judged.customer_id
"""


COUNTS_SQL = ("SELECT verdict, reason, COUNT(*) FROM campaign_recipient WHERE campaign_id = :cid "
              "GROUP BY verdict, reason ORDER BY verdict, reason")


def evaluation_params(campaign: Campaign, now: datetime) -> dict:
    return {"cid": campaign.id, "purpose": campaign.purpose, "now": now, "since": now - rules.FREQUENCY_WINDOW,
            "cap": rules.FREQUENCY_CAP}


def evaluate(session: Session, clock: Clock, campaign_id: str) -> Campaign:
    """The guard over the whole campaign, in the database; the counts per verdict and reason."""
    campaign = get(session, campaign_id)
    now = clock.now()
    session.flush()
    if is_postgresql(session):
        # The recipients were just written: without fresh statistics the planner takes a million
        # rows for a few thousand and may pick nested loops. A sampled ANALYZE costs well under a second.
        session.execute(text("ANALYZE campaign_recipient"))
    session.execute(text(evaluation_sql(is_postgresql(session))), evaluation_params(campaign, now))
    campaign.counts = [{"verdict": v, "reason": r, "count": n}
                       for v, r, n in session.execute(text(COUNTS_SQL), {"cid": campaign.id})]
    campaign.recipients = sum(c["count"] for c in campaign.counts)
    campaign.status, campaign.evaluated_at = "evaluated", now
    return campaign


def verdicts(session: Session, campaign_id: str, customer_ids: list[str]) -> dict[str, tuple[str, str]]:
    rows = session.execute(select(CampaignRecipient.customer_id, CampaignRecipient.verdict, CampaignRecipient.reason)
                           .where(CampaignRecipient.campaign_id == campaign_id,
                                  CampaignRecipient.customer_id.in_(customer_ids)))
    return {cid: (v, r) for cid, v, r in rows}
