"""Thin server-rendered pages (Jinja2, plain forms)."""
