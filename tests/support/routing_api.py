"""An agent's presence set through the routing API."""

from __future__ import annotations


def presence(client, hdr, who: str, **body):
    return client.put(f"/api/v1/staff/{who}/presence", json=body, headers=hdr)
