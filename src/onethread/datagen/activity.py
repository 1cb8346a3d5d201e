"""What customers do after they join: contacts across the channels, cases with their owners,
commitments, harms, tasks and clocks, and the bills and charges. A part of ``Generator``
(``shape.py``), split out by use case; it draws from the same random stream in the same order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from onethread.cases import rules as case_rules
from onethread.datagen.vocabulary import (
    CASE_TITLES,
    CHANNEL_KIND,
    CHANNELS,
    CLOCK_AFTER,
    COMMITMENTS,
    DAY,
    HARMS,
    HOUR,
    OUTCOMES,
    STAFFED,
    SUBJECTS,
    TASKS,
    TEAMS,
    TEXTS,
    ProductDraft,
    StaffDraft,
    as_day,
    as_dt,
)
from onethread.interactions.timeline import TITLES


class Activity:
    """Contacts, cases and bills of one customer; mixed into ``shape.Generator``."""

    def _title(self, event_type: str, **payload) -> tuple[str, str | None]:
        key = (event_type, *payload.values())
        got = self.titles.get(key)
        if got is None:
            if len(self.titles) > 50_000:
                self.titles.clear()
            got = self.titles[key] = TITLES[event_type](payload)
        return got

    # --- cases and contacts --------------------------------------------------------------

    def _cases_and_contacts(self, i: int, cid: str, since_ts: float, products: list[ProductDraft],
                            msisdn: str | None, email: str | None, out) -> None:
        rng, o = self.rng, self.o
        rnd = rng.random
        if o.long_tail(i):
            n_contacts = o.long_tail_min + rng.randrange(o.long_tail_max - o.long_tail_min + 1)
        else:
            n_contacts = int(rng.expovariate(1.0 / self.contact_scale))
        if self.case_scale is not None:
            n_cases = int(rng.expovariate(1.0 / self.case_scale))
        else:
            n_cases = 1 if rnd() < o.cases_per_customer else 0
        used = 0
        for _ in range(n_cases):
            used += self._case(cid, since_ts, products, msisdn, email, out)
        history_from = max(since_ts, self.now - 3 * 365.25 * DAY)
        for _ in range(max(0, n_contacts - used)):
            at = history_from + rnd() * (self.now - history_from)
            self._contact(cid, at, self.pick_channel(), msisdn, email, None, out)

    def _contact(self, cid: str, at: float, channel: str, msisdn: str | None, email: str | None,
                 case_id: str | None, out, inbound: bool | None = None) -> None:
        rng, ids = self.rng, self.ids
        r = rng.random()
        if inbound is None:
            direction = "inbound" if r < 0.72 else ("outbound" if r < 0.95 else "internal")
        else:
            direction = "inbound" if inbound else "outbound"
        kind = "note" if direction == "internal" else CHANNEL_KIND[channel]
        contact_id = ids.at_seconds(at)
        when = as_dt(at)
        staff = None
        if direction != "inbound" or channel in STAFFED:
            staff = self.agents[rng.randrange(len(self.agents))]
        subject = SUBJECTS[rng.randrange(len(SUBJECTS))] if channel in ("email", "letter", "portal") else None
        text = TEXTS[rng.randrange(len(TEXTS))]
        message_id = thread = None
        identifiers: dict = {}
        extra: dict = {}
        if channel == "email":
            message_id = f"<{contact_id.lower()}@mail.example.net>"
            thread = contact_id
            if email and direction == "inbound":
                identifiers = {"email": email}
        elif channel in ("phone", "chat"):
            message_id = f"{channel}-{contact_id}"
            if msisdn and direction == "inbound":
                identifiers = {"msisdn": msisdn}
        elif channel == "social":
            message_id = f"x-{contact_id}"
            extra = {"platform": "x"}
        actor = staff.name if staff else None
        if message_id is not None:
            out["global_key"].append((f"contact:{channel}", message_id, contact_id))
        out["contact"].append((contact_id, cid, channel, direction, when, when, message_id, kind, subject, text, [],
                               identifiers, "matched", staff.id if staff else None, actor, None, thread, None,
                               case_id, extra))
        title, detail = self._title("contact.recorded", channel=channel, direction=direction, kind=kind,
                                    subject=subject, summary=text)
        out["timeline_entry"].append((ids.at_seconds(at), cid, when, "contact", channel, title, detail, actor,
                                      "contact", contact_id, None))

    def _case_log(self, out, case_id: str, cid: str, at: float, kind: str, actor: StaffDraft, title: str,
                  text: str | None = None, channel: str | None = None, data: dict | None = None,
                  audience: str = "internal") -> None:
        when = as_dt(at)
        out["case_event"].append((self.ids.at_seconds(at), case_id, cid, when, kind, actor.id, actor.name, text,
                                  audience, data or {}))
        out["timeline_entry"].append((self.ids.at_seconds(at), cid, when, "case", channel, title[:300], text,
                                      actor.name, "case", case_id, None))

    def _case(self, cid: str, since_ts: float, products: list[ProductDraft], msisdn: str | None, email: str | None,
              out) -> int:
        """One case with its contacts, log, items and clocks; returns how many contacts it used."""
        rng, o, ids, now = self.rng, self.o, self.ids, self.now
        rnd = rng.random
        kind = self.pick_case_kind()
        is_open = rnd() < o.open_share
        if is_open:
            opened = max(now - rnd() ** 2 * 60 * DAY, since_ts + HOUR)
        else:
            lo = max(since_ts + HOUR, now - 5 * 365.25 * DAY)
            opened = lo + rnd() * max(HOUR, now - 10 * DAY - lo)
        owner = self.owners[rng.randrange(len(self.owners))]
        channel = CHANNELS[rng.randrange(5)]
        case_id = ids.at_seconds(opened)
        product = products[rng.randrange(len(products))] if products and kind != "billing_dispute" else None
        title = CASE_TITLES[kind][rng.randrange(len(CASE_TITLES[kind]))]
        account = TEXTS[rng.randrange(len(TEXTS))]
        severity = self.pick_severity()
        # The contact that opened it, then the case's own log.
        self._contact(cid, opened - rnd() * 600, channel, msisdn, email, case_id, out, inbound=True)
        used = 1
        label = kind.replace("_", " ").capitalize()
        self._case_log(out, case_id, cid, opened, "opened", owner, f"{label} case opened: {title}", text=account,
                       channel=channel, data={"ownerId": owner.id, "ownerName": owner.name, "kind": kind})
        if is_open:
            last = opened + rnd() * (now - opened)
            status = ("open", "in_progress", "waiting_customer")[rng.randrange(3)]
        else:
            last = opened + (HOUR + rnd() * 30 * DAY)
            last = min(last, now - HOUR)
            status = "closed"
        if last > opened + HOUR and rnd() < 0.6:
            self._contact(cid, last, channel if channel != "store" else "phone", msisdn, email, case_id, out,
                          inbound=rnd() < 0.5)
            used += 1
        awaiting = last if is_open and status != "waiting_customer" and rnd() < 0.3 else None
        clocks: list[tuple[str, str | None, float, float, float | None]] = []  # kind, ref, start, due, stopped
        closed = None if is_open else last
        # Items.
        if rnd() < 0.25:
            made = opened + rnd() * (last - opened)
            due = made + (1 + rnd() * 6) * DAY
            com_id = ids.at_seconds(made)
            text = COMMITMENTS[rng.randrange(len(COMMITMENTS))]
            kept = not is_open or due < now - 7 * DAY
            out["commitment"].append((com_id, case_id, cid, text, as_dt(due), channel, owner.id, as_dt(made),
                                      rnd() < 0.5, "kept" if kept else "open", as_dt(min(due, last)) if kept else None,
                                      None))
            self._case_log(out, case_id, cid, made, "commitment_made", owner,
                           f"Promised: {text} (by {as_day(due):%Y-%m-%d})", channel=channel)
            clocks.append(("commitment_due", com_id, made, due, min(due, last) if kept else None))
        if kind in ("fault", "damage_claim") and rnd() < 0.3:
            hk, desc = HARMS[rng.randrange(len(HARMS))]
            at = opened + rnd() * (last - opened)
            resolved = None if is_open else as_dt(last)
            out["harm"].append((ids.at_seconds(at), case_id, cid, hk, desc, severity, severity, "the customer",
                                as_dt(at), resolved, None if is_open else "Put right"))
            self._case_log(out, case_id, cid, at, "harm_reported", owner, f"Harm: {desc} [{severity}]")
        if rnd() < 0.2:
            at = opened + rnd() * (last - opened)
            due = at + (1 + rnd() * 6) * DAY
            task_id = ids.at_seconds(at)
            title_t = TASKS[rng.randrange(len(TASKS))]
            team = rng.randrange(len(self.team_ids))
            done = not is_open or due < now - 3 * DAY
            out["case_task"].append((task_id, case_id, cid, title_t, "team", self.team_ids[team], TEAMS[team][0],
                                     as_dt(due), "done" if done else "open", owner.id, as_dt(at),
                                     as_dt(min(due, last)) if done else None, None))
            self._case_log(out, case_id, cid, at, "task_added",
                           owner, f"Task for {TEAMS[team][0]}: {title_t} (due {as_day(due):%Y-%m-%d})")
            clocks.append(("task_overdue", task_id, at, due, min(due, last) if done else None))
        # Policy clocks.
        responded = opened + (0.2 + rnd() * 6) * HOUR
        if is_open and status == "open" and rnd() < 0.4:
            responded = None
        clocks.append(("first_response", None, opened, opened + CLOCK_AFTER["first_response"] * HOUR,
                       responded if responded is not None and (closed is None or responded < closed) else closed))
        clocks.append(("no_activity", None, last, last + CLOCK_AFTER["no_activity"] * HOUR, closed))
        clocks.append(("resolution_target", None, opened, opened + CLOCK_AFTER["resolution_target"] * HOUR, closed))
        if kind == "complaint":
            for k in ("regulator_warning", "regulator_deadline"):
                clocks.append((k, None, opened, opened + CLOCK_AFTER[k] * HOUR, closed))
        if awaiting is not None:
            clocks.append(("customer_waiting", None, awaiting, awaiting + CLOCK_AFTER["customer_waiting"] * HOUR,
                           None))
        level = 0
        swept_until = now - o.sweep_lag_hours * HOUR
        lead = self.leads[owner.team]
        for ck, ref, started, due, stopped in clocks:
            fired = None
            if (stopped is None or stopped > due) and due <= swept_until:
                fired = due + rnd() * 120  # the sweep that ran just after it fell due
                if stopped is not None and stopped < fired:
                    fired = None
            clock_id = ids.at_seconds(started)
            out["case_clock"].append((clock_id, case_id, cid, ck, ref, as_dt(started), as_dt(due),
                                      None if stopped is None else as_dt(stopped),
                                      None if fired is None else as_dt(fired), None if fired is None else "sweep"))
            if fired is not None:
                rung = case_rules.BREACH_RUNG.get(ck, 1)
                level = max(level, rung)
                out["escalation"].append((ids.at_seconds(fired), case_id, cid, clock_id, ck, rung,
                                          owner.id if rung == 1 else lead, as_dt(fired),
                                          f"{ck.replace('_', ' ')} missed", None if closed is None else as_dt(closed)))
        outcome = confirmed = None
        if closed is not None:
            outcome = OUTCOMES[rng.randrange(len(OUTCOMES))]
            confirmed = rnd() < 0.8
            self._case_log(out, case_id, cid, closed, "closed",
                           owner, f"Case closed ({'confirmed' if confirmed else 'not confirmed'} by the customer)",
                           text=outcome, data={"customerConfirmed": confirmed}, audience="customer")
        out["case_file"].append((
            case_id, cid, kind, None, product.id if product else None, title, account, status, severity, owner.id,
            channel, as_dt(opened), owner.id, "GB", as_dt(last), None if awaiting is None else as_dt(awaiting),
            None if closed is None else as_dt(closed), outcome, None if closed is None else confirmed, None, level,
            1))
        return used

    # --- billing ---------------------------------------------------------------------------

    def _bills(self, cid: str, accounts, products: list[ProductDraft], out) -> None:
        rng, o, ids = self.rng, self.o, self.ids
        rnd = rng.random
        today = as_day(self.now)
        month_start = today.replace(day=1)
        for aid, number in accounts:
            mine = [p for p in products if p.account_id == aid]
            for m in range(o.bill_months, 0, -1):
                # Bill for the month that began m months before this month.
                year, month = divmod(month_start.year * 12 + month_start.month - 1 - m, 12)
                p_start = date(year, month + 1, 1)
                nxt = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
                p_end = nxt - timedelta(days=1)
                start_ts = datetime(p_start.year, p_start.month, 1, tzinfo=UTC).timestamp()
                end_ts = datetime(nxt.year, nxt.month, 1, tzinfo=UTC).timestamp()
                billable = [p for p in mine if p.start < end_ts and (p.end is None or p.end >= start_ts)]
                if not billable:
                    continue
                issued = nxt
                issued_ts = end_ts + 6 * HOUR
                bill_id = ids.at_seconds(issued_ts)
                created = as_dt(issued_ts)
                total = 0
                for p in billable:
                    if p.price:
                        total += p.price
                        out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, p.id, p.msisdn_id,
                                              "recurring", f"{p.name}, monthly", p.price, o.currency, p_start,
                                              p_end, created))
                    if p.msisdn_id is not None and rnd() < 0.3:
                        amount = 50 + rng.randrange(2500)
                        total += amount
                        out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, p.id, p.msisdn_id, "usage",
                                              "Calls, texts and data outside the allowance", amount, o.currency,
                                              p_start, p_end, created))
                r = rnd()
                if r < 0.03:
                    total += 1000
                    out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, None, None, "one_off",
                                          "Replacement SIM and delivery", 1000, o.currency, None, None, created))
                elif r < 0.05:
                    total -= 500
                    out["charge"].append((ids.at_seconds(issued_ts), cid, bill_id, None, None, "credit",
                                          "Goodwill credit", -500, o.currency, None, None, created))
                due = issued + timedelta(days=14)
                paid, paid_at, status = 0, None, "issued"
                if m > 1 or due < today:
                    s = rnd()
                    if s < 0.94 or m > 2:
                        status, paid, paid_at = "paid", total, as_dt(issued_ts + (3 + rnd() * 10) * DAY)
                    elif s < 0.985:
                        status = "overdue"
                    else:
                        status = "disputed"
                out["bill"].append((bill_id, cid, aid, f"{number}-{p_start:%Y%m}", p_start, p_end, issued, due,
                                    total, o.currency, status, paid, paid_at, 0, created))
