"""Billing: bills and charges as imported from the operator's billing system (TMF678)."""
