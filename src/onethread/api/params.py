"""Query parameters every API route checks the same way: one it does not take is a 400 naming it.

A list that silently ignored a filter it does not know (``?colour=red``) would answer with
everything, and the caller could not tell. ``KNOWN_QUERY`` is added to every API router
(``api.routes``): it compares the request's query parameters with the ones the route declares
(its own and those of its dependencies, under their aliases, e.g. ``relatedParty.id``).
"""

from __future__ import annotations

from fastapi import Depends, Request

from onethread.errors import ValidationFailed

_DECLARED: dict[int, frozenset[str]] = {}


def _declared(route) -> frozenset[str]:
    """The query parameter names a route takes, walked once per route and remembered."""
    key = id(route)
    if key not in _DECLARED:
        names: set[str] = set()
        stack = [getattr(route, "dependant", None)]
        while stack:
            dependant = stack.pop()
            if dependant is None:
                continue
            names.update(p.alias for p in dependant.query_params)
            stack.extend(dependant.dependencies)
        _DECLARED[key] = frozenset(names)
    return _DECLARED[key]


async def known_query(request: Request) -> None:
    if not request.query_params:
        return
    route = request.scope.get("route")
    if route is None:
        return
    declared = _declared(route)
    unknown = sorted({k for k in request.query_params if k not in declared})
    if unknown:
        takes = f"it takes {', '.join(sorted(declared))}" if declared else "it takes no query parameters"
        label = "parameter" if len(unknown) == 1 else "parameters"
        raise ValidationFailed(f"unknown query {label} {', '.join(unknown)}: {request.method} "
                               f"{request.url.path} does not filter on that ({takes})", field=unknown[0])


KNOWN_QUERY = Depends(known_query)
