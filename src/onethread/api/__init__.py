"""Thin REST layer: parse, authorise, call a service, shape the answer."""
