"""The answers of onethread's own resources (``/api/v1``), one module per area (``api/answers.py``)."""
