"""Outreach (TMF681): outbound e-mail, letters and SMS, templates, the guard, channel health."""
