"""The review workbench: a local web app over an output folder.

Server-rendered pages (Starlette, Jinja2 with autoescape: every string from a
document is escaped) and one small script for the keyboard and the boxes. Every
asset is served from the package. Loopback by default; on another host every
request needs the token printed at start. State-changing requests carry the
page's CSRF token; a request names a document by its result file's stem, never by
a path.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..models import form_label, json_value
from .pages import cached, extent, locate_source
from .view import form_view
from .workspace import FILTERS, DecisionError, Workspace

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Settings:
    reviewer: str = ""
    token: str | None = None  # required on a non-loopback host
    host: str = "127.0.0.1"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("extractor.review", "templates"), autoescape=select_autoescape(default=True))
    env.filters["shown"] = lambda v: "" if v is None else str(json_value(v))
    env.filters["q"] = lambda v: quote(str(v), safe="")
    return env


def create_app(workspace: Workspace, settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    env = _env()
    csrf = secrets.token_urlsafe(24)
    cache_dir = workspace.out / ".review" / "pages"

    def page(name: str, status: int = 200, **context) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(csrf=csrf, reviewer=settings.reviewer, **context), status_code=status)

    def which(request: Request) -> str:
        f = request.query_params.get("filter", "all")
        return f if f in FILTERS else "all"

    async def queue(request: Request) -> Response:
        items = workspace.queue()
        counts = {f: sum(1 for q in items if q.matches(f)) for f in FILTERS}
        current = which(request)
        return page("queue.html", items=[q for q in items if q.matches(current)], counts=counts, filter=current,
                    decided=counts["decided"], total=len(items), out=str(workspace.out))

    def _form_page(request: Request, name: str, number: int, error: str = "", status: int = 200) -> Response:
        try:
            result = workspace.result(name)
        except (KeyError, ValueError):
            return PlainTextResponse("no such document", status_code=404)
        if not 1 <= number <= len(result.forms):
            return PlainTextResponse("no such form", status_code=404)
        current = which(request)
        items = [q for q in workspace.queue() if q.matches(current)]
        keys = [(q.document, q.form) for q in items]
        at = keys.index((name, number)) if (name, number) in keys else None
        near = {
            "prev": keys[at - 1] if at is not None and at > 0 else None,
            "next": keys[at + 1] if at is not None and at + 1 < len(keys) else (keys[0] if at is None and keys else None),
        }
        source, why = locate_source(result.source.path, result.source.sha256, workspace.out)
        view = form_view(result, number, page_sizes=lambda n: _extent(name, result, n) if source else None)
        return page("form.html", status=status, document=name, number=number, view=view, result=result,
                    label=form_label(result.forms[number - 1]), position=(at + 1 if at is not None else None),
                    queue_length=len(keys), near=near, filter=current, error=error, source_problem=why)

    def _extent(name: str, result, number: int):
        source, _ = locate_source(result.source.path, result.source.sha256, workspace.out)
        if source is None:
            return None
        return extent(cache_dir, source, result.source.sha256, number, [n for f in result.forms for n in f.notes])

    async def form(request: Request) -> Response:
        return _form_page(request, request.path_params["document"], request.path_params["form"])

    async def page_image(request: Request) -> Response:
        name, number = request.path_params["document"], request.path_params["page"]
        try:
            result = workspace.result(name)
        except (KeyError, ValueError):
            return PlainTextResponse("no such document", status_code=404)
        source, why = locate_source(result.source.path, result.source.sha256, workspace.out)
        if source is None:
            return PlainTextResponse(why, status_code=404)
        notes = [n for f in result.forms for n in f.notes]
        image = cached(cache_dir, source, result.source.sha256, number, notes)
        if image is None:
            return PlainTextResponse("no such page", status_code=404)
        return Response(image.data, media_type=image.media, headers={"Cache-Control": "private, max-age=3600"})

    async def decide(request: Request) -> Response:
        fields = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True).items()}
        if not hmac.compare_digest(fields.get("csrf", ""), csrf):
            return PlainTextResponse("the page is out of date (CSRF token): reload it", status_code=403)
        name = fields.get("document", "")
        try:
            number = int(fields.get("form", ""))
        except ValueError:
            return PlainTextResponse("no such form", status_code=400)
        query = {"filter": fields["filter"]} if fields.get("filter") in FILTERS else {}
        try:
            workspace.decide(name, number, fields.get("field", ""), fields.get("code", ""), fields.get("action", ""),
                             value=fields.get("value"), comment=fields.get("comment", ""),
                             reviewer=fields.get("reviewer", "").strip() or settings.reviewer)
        except KeyError:
            return PlainTextResponse("no such document", status_code=404)
        except DecisionError as exc:
            request.scope["query_string"] = urlencode(query).encode()
            return _form_page(request, name, number, error=str(exc), status=400)
        anchor = "#" + quote(fields["next_anchor"], safe="") if fields.get("next_anchor") else ""
        target = f"/form/{quote(name, safe='')}/{number}" + (f"?{urlencode(query)}" if query else "") + anchor
        return RedirectResponse(target, status_code=303)

    async def history(request: Request) -> Response:
        return JSONResponse([d.__dict__ for d in workspace.log.history(200)])

    middleware = []
    if settings.token is None:
        # A page another site loads by a name that resolves to 127.0.0.1 (DNS rebinding) is refused.
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(LOOPBACK)))
    else:
        middleware.append(Middleware(_TokenMiddleware, token=settings.token))
    routes = [
        Route("/", queue),
        Route("/form/{document}/{form:int}", form),
        Route("/page/{document}/{page:int}", page_image),
        Route("/decide", decide, methods=["POST"]),
        Route("/history.json", history),
        Mount("/assets", StaticFiles(packages=[("extractor.review", "assets")]), name="assets"),
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.csrf = csrf
    return app


class _TokenMiddleware:
    """Every request carries the token: in the URL once (then a cookie), or the cookie."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.query_params.get("token") or request.cookies.get("review_token") or ""
        if not hmac.compare_digest(given, self.token):
            return await PlainTextResponse("a token is needed: open the URL the server printed", status_code=401)(scope, receive, send)
        if request.query_params.get("token"):
            response = RedirectResponse(request.url.path, status_code=303)
            response.set_cookie("review_token", self.token, httponly=True, samesite="strict")
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)
