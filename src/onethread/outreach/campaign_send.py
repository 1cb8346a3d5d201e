"""Sending a campaign: a supervisor asks for it to go out; the worker queues its recipients'
messages in batches, each through the one-by-one guard (``service.queue``), never inside the request.

Only recipients the set-based evaluation let through (``send``) or held for a person (``hold``)
are queued; the guard weighs each again at queueing time, because the customer's state may have
changed since the evaluation (a complaint opened, an opt-out), and it chooses the channel per
recipient (a letters-only customer in an e-mail campaign gets a letter). Each message's send key
is ``campaign:<campaign id>:<customer id>``, so a batch retried after a crash, or two workers on
the same campaign, never queue a customer's message twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from onethread.access.rules import TEAM_LEAD, Principal
from onethread.db.outbox import record_event
from onethread.errors import Conflict
from onethread.kernel.clock import Clock
from onethread.models import Campaign, CampaignRecipient, OutboundMessage
from onethread.outreach import campaigns, service
from onethread.outreach.events import CampaignQueued, CampaignSendRequested

QUEUED_VERDICTS = ("send", "hold")


def send_key(campaign_id: str, customer_id: str) -> str:
    return f"campaign:{campaign_id}:{customer_id}"


def request_send(session: Session, clock: Clock, actor: Principal, campaign_id: str) -> Campaign:
    """Ask for an evaluated campaign to go out. A repeat while it is going out (or gone) answers
    the campaign as it is; a draft must be evaluated first, so the counts were seen."""
    campaign = campaigns.get(session, campaign_id)
    if campaign.status in ("sending", "sent"):
        return campaign
    if campaign.status != "evaluated":
        raise Conflict("evaluate the campaign first: its counts per verdict and reason are what you send")
    now = clock.now()
    campaign.status, campaign.queued = "sending", 0
    campaign.send_requested_at, campaign.send_requested_by = now, actor.id
    campaign.send_requested_by_name = actor.name
    record_event(session, CampaignSendRequested(occurred_at=now, aggregate_id=campaign.id, campaign_id=campaign.id,
                                                by=actor.name))
    return campaign


@dataclass
class QueueReport:
    queued: int = 0
    finished: int = 0  # campaigns whose every recipient is now queued

    @property
    def changed(self) -> bool:
        return bool(self.queued or self.finished)

    def summary(self) -> str:
        return f"campaigns: {self.queued} messages queued, {self.finished} campaigns fully queued"


def _requester(campaign: Campaign) -> Principal:
    """The messages are the person's who asked for the campaign to go out."""
    return Principal(kind="staff", id=campaign.send_requested_by or "SYSTEM",
                     name=campaign.send_requested_by_name or "onethread", role=TEAM_LEAD)


def queue_due(sessions: sessionmaker[Session], clock: Clock, *, batch: int = 200, limit: int = 2000) -> QueueReport:
    """One worker pass: queue up to ``limit`` recipients' messages of the campaigns going out,
    ``batch`` per transaction, oldest request first."""
    report = QueueReport()
    with sessions() as session:
        going = session.scalars(select(Campaign.id).where(Campaign.status == "sending")
                                .order_by(Campaign.send_requested_at, Campaign.id)).all()
    for campaign_id in going:
        cursor = ""
        while report.queued < limit:
            with sessions() as session, session.begin():
                campaign = session.get(Campaign, campaign_id, with_for_update=True, populate_existing=True)
                if campaign is None or campaign.status != "sending":
                    break
                done = exists().where(OutboundMessage.send_key == f"campaign:{campaign_id}:"
                                      + CampaignRecipient.customer_id)
                todo = session.scalars(
                    select(CampaignRecipient.customer_id).where(
                        CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.customer_id > cursor,
                        CampaignRecipient.verdict.in_(QUEUED_VERDICTS), ~done)
                    .order_by(CampaignRecipient.customer_id).limit(min(batch, limit - report.queued))).all()
                actor = _requester(campaign)
                for customer_id in todo:
                    service.queue(session, clock, actor, customer_id=customer_id, channel=campaign.channel,
                                  purpose=campaign.purpose, body=campaign.body, subject=campaign.subject,
                                  trigger={"kind": "campaign", "campaignId": campaign_id},
                                  send_key=send_key(campaign_id, customer_id))
                campaign.queued += len(todo)
                report.queued += len(todo)
                if todo:
                    cursor = todo[-1]
                if len(todo) < batch and report.queued < limit:
                    campaign.status = "sent"
                    report.finished += 1
                    record_event(session, CampaignQueued(occurred_at=clock.now(), aggregate_id=campaign_id,
                                                         campaign_id=campaign_id, queued=campaign.queued))
                    break
    return report
