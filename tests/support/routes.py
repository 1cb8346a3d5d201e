"""Every route of the app with who may call it: ``route_contexts``, ``guards`` and ``classify``."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from onethread.api.deps import Authorize, Public

# Served by the framework or as files, not by our code: open on purpose.
FRAMEWORK_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


STATIC_MOUNTS = {"/static"}


def route_contexts(app):
    """Every route the app serves, with included routers flattened (any FastAPI version)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI flattens included routers into app.routes
        return [(r, r) for r in app.routes]
    return [(ctx.original_route, ctx) for ctx in iter_route_contexts(app.routes)]


def guards(dependant) -> set[str]:
    """'authorize' and/or 'public' when found anywhere in the dependency tree."""
    found: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        if isinstance(current.call, Authorize):
            found.add("authorize")
        elif isinstance(current.call, Public):
            found.add("public")
        stack.extend(current.dependencies)
    return found


def _framework(route) -> bool:
    if isinstance(route, Mount):
        return route.path in STATIC_MOUNTS
    return isinstance(route, Route) and route.path in FRAMEWORK_ROUTES


def classify(app) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    guarded, public, offenders = [], [], []
    for original, ctx in route_contexts(app):
        if isinstance(original, APIRoute):
            for method in sorted(ctx.methods or {"?"}):
                kinds = guards(ctx.dependant)
                if "authorize" in kinds:
                    guarded.append((method, ctx.path))
                elif "public" in kinds:
                    public.append((method, ctx.path))
                else:
                    offenders.append(f"{method} {ctx.path} ({ctx.endpoint.__module__}.{ctx.endpoint.__name__})")
        elif not _framework(original):
            offenders.append(f"{type(original).__name__} {getattr(original, 'path', original)!r} (unknown kind)")
    return guarded, public, offenders
