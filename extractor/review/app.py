"""The review workbench: a local web app over an output folder.

Server-rendered pages (Starlette, Jinja2 with autoescape: every string from a
document is escaped) and one small script for the keyboard and the boxes. Every
asset is served from the package. Loopback by default; on another host every
request needs the token printed at start. State-changing requests carry the
page's CSRF token; a request names a document by its result file's stem, never by
a path.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..findings import field_zh
from ..models import form_label, json_value
from .pages import TEXT_CONTEXT, SheetPage, cached, extent, locate_source, sheet_page, text_lines
from .view import disputed, form_view
from .workspace import FILTERS, DecisionConflict, DecisionError, Workspace, valid_filter

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Settings:
    reviewer: str = ""
    token: str | None = None  # required on a non-loopback host
    host: str = "127.0.0.1"


def _env() -> Environment:
    env = Environment(loader=PackageLoader("extractor.review", "templates"), autoescape=select_autoescape(default=True))
    env.filters["shown"] = lambda v: "" if v is None else str(json_value(v))
    env.filters["zh"] = lambda path: field_zh(path) if path else ""  # a field as a reader names it, rows from 1
    env.filters["q"] = lambda v: quote(str(v), safe="")
    return env


_LINE_REF = re.compile(r"L(\d+)C\d+")  # a text export's cell: line and cell


def _number(text: str) -> int | None:
    """A count or version a page sent back; None where it sent none (or not a number)."""
    return int(text) if text.isdigit() else None


class Workbench:
    """The pages and the decision endpoint over one workspace. The handlers run on the
    server's event loop; what blocks (hashing a source, rendering a page image) runs in
    one worker thread, so MuPDF is used from one thread and the queue and decisions
    are served while a scan's first page renders."""

    def __init__(self, workspace: Workspace, settings: Settings):
        self.workspace, self.settings = workspace, settings
        self.env = _env()
        self.csrf = _csrf_secret(workspace.out / ".review" / "csrf")
        self.cache_dir = workspace.out / ".review" / "pages"
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="review-pages")

    def routes(self) -> list:
        return [
            Route("/", self.queue),
            Route("/form/{document}/{form:int}", self.form),
            Route("/page/{document}/{page:int}", self.page_image),
            Route("/decide", self.decide, methods=["POST"]),
            Route("/decide-code", self.decide_code, methods=["POST"]),
            Route("/history.json", self.history),
            Route("/history", self.history_page),
            Mount("/assets", StaticFiles(packages=[("extractor.review", "assets")]), name="assets"),
        ]

    def _page(self, name: str, status: int = 200, **context) -> HTMLResponse:
        html = self.env.get_template(name).render(csrf=self.csrf, reviewer=self.settings.reviewer, **context)
        return HTMLResponse(html, status_code=status)

    @staticmethod
    def _filter(request: Request) -> str:
        f = request.query_params.get("filter", "all")
        return f if valid_filter(f) else "all"

    def _source(self, result):
        return locate_source(result.source.path, result.source.sha256, self.workspace.out)

    @staticmethod
    def _notes(result) -> list[str]:
        return [n for f in result.forms for n in f.notes]

    async def queue(self, request: Request) -> Response:
        items = self.workspace.queue()
        counts = {f: sum(1 for q in items if q.matches(f)) for f in FILTERS}
        current = self._filter(request)
        shown = [q for q in items if q.matches(current)]
        # Under a code's filter: its open warnings across the queue, to confirm at once (the count shown first)
        bulk = None
        if current.startswith("code:"):
            n = self.workspace.open_warnings(current[5:])
            bulk = {"code": current[5:], "warnings": n, "forms": sum(1 for q in shown if q.warnings)} if n else None
        return self._page("queue.html", items=shown, counts=counts, filter=current, bulk=bulk,
                          decided=counts["decided"], total=len(items), out=str(self.workspace.out),
                          conflicts=sum(q.conflicts for q in items), message=self._bulk_message(request))

    @staticmethod
    def _bulk_message(request: Request) -> str:
        """What a bulk decision came to, from the redirect's fixed keys (never text from the URL)."""
        q = request.query_params
        if q.get("done", "").isdigit() and q.get("action") in ("confirm", "dismiss"):
            return f"{q['done']} warnings {q['action']}ed"
        return {"changed": "The queue changed since the page was loaded (another reviewer): nothing was decided; look again.",
                "reason": "A dismissal needs a reason: nothing was decided."}.get(q.get("refused", ""), "")

    def _reviewer(self, fields: dict[str, str]) -> str:
        """The name the page sent, else the server's (--reviewer, EXTRACTOR_REVIEWER, the login)."""
        return fields.get("reviewer", "").strip() or self.settings.reviewer

    async def _posted(self, request: Request) -> dict[str, str] | Response:
        """A decision form's fields (the last of each), or the response refusing it: a body
        that is not UTF-8 (400), a page that is not this server's (CSRF: 403)."""
        try:
            body = (await request.body()).decode("utf-8")
        except UnicodeDecodeError:
            return PlainTextResponse("the form's data is not UTF-8", status_code=400)
        fields = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if not same_secret(fields.get("csrf", ""), self.csrf):
            return PlainTextResponse("the page is out of date (CSRF token): reload it", status_code=403)
        return fields

    async def decide_code(self, request: Request) -> Response:
        """Every open warning of one code across the queue, confirmed (or dismissed) at once."""
        fields = await self._posted(request)
        if isinstance(fields, Response):  # (refused: not UTF-8, or not this server's page)
            return fields
        code = fields.get("code", "")
        back = {"filter": f"code:{code}"}
        try:
            done = await self._off_loop(lambda: self.workspace.decide_code(
                code, fields.get("action", ""), comment=fields.get("comment", ""), reviewer=self._reviewer(fields),
                shown=_number(fields.get("shown", ""))))
        except DecisionConflict:
            return RedirectResponse("/?" + urlencode({**back, "refused": "changed"}), status_code=303)
        except DecisionError:
            return RedirectResponse("/?" + urlencode({**back, "refused": "reason"}), status_code=303)
        return RedirectResponse("/?" + urlencode({**back, "done": done, "action": fields.get("action")}), status_code=303)

    async def form(self, request: Request) -> Response:
        # (off the event loop: a first view hashes the source and may render its page)
        return await self._off_loop(self._form_page, request, request.path_params["document"], request.path_params["form"])

    async def _off_loop(self, fn, *args):
        """Blocking work (hashing a source, rendering a page) in the workbench's one worker
        thread: other requests are served meanwhile, and MuPDF is used by one thread."""
        return await asyncio.get_running_loop().run_in_executor(self._worker, fn, *args)

    def _form_page(self, request: Request, name: str, number: int, error: str = "", status: int = 200) -> Response:
        try:
            result = self.workspace.result(name)
        except (KeyError, ValueError):
            return PlainTextResponse("no such document", status_code=404)
        if not 1 <= number <= len(result.forms):
            return PlainTextResponse("no such form", status_code=404)
        current = self._filter(request)
        keys = [(q.document, q.form) for q in self.workspace.queue() if q.matches(current)]
        at = keys.index((name, number)) if (name, number) in keys else None
        near = {
            "prev": keys[at - 1] if at is not None and at > 0 else None,
            # (a form the filter no longer shows, as a decided one under "undecided": the
            # next one after its place in the queue, not the top of the list again)
            "next": keys[at + 1] if at is not None and at + 1 < len(keys) else (
                self.workspace.following(name, number, current) if at is None else None),
        }
        source, why = self._source(result)
        done = self._just_decided(request)

        sheets: dict[int, SheetPage] = {}  # a workbook's or Word document's pages, drawn as their cells

        def size(page: int):
            if source is None:
                return None
            sheet = sheet_page(source, result.source.sha256, page)
            if sheet is not None:
                sheets[page] = sheet
                return sheet.width, sheet.height
            return extent(self.cache_dir, source, result.source.sha256, page, self._notes(result))

        view = form_view(result, number, size)
        text = self._text_view(source, result.forms[number - 1]) if source is not None and not view["pages"] else None
        return self._page("form.html", status=status, document=name, number=number, view=view, sheets=sheets, text=text,
                          result=result, label=form_label(result.forms[number - 1]), position=(at + 1 if at is not None else None),
                          queue_length=len(keys), near=near, filter=current, error=error, source_problem=why,
                          version=self.workspace.version(name, number), done=done, prefetch=self._prefetch(near["next"]))

    @staticmethod
    def _text_view(source, form) -> dict | None:
        """A text export's lines around the form, each value's cell marked with its field
        (and its severity where a finding is open on it): the export's source view."""
        refs, numbers = {}, []
        for field, src in form.provenance.items():
            m = _LINE_REF.fullmatch(src.cell or "")
            if m:
                refs[src.cell] = field
                numbers.append(int(m.group(1)))
        if not refs:
            return None
        lines = text_lines(source, max(1, min(numbers) - TEXT_CONTEXT), max(numbers) + TEXT_CONTEXT)
        if not lines:
            return None
        marks = disputed(form)
        return {"lines": lines, "fields": {ref: (field, marks.get(field, "")) for ref, field in refs.items()}}

    def _prefetch(self, following: tuple[str, int] | None) -> list[str]:
        """The next form's page images, for the browser to fetch while the reviewer reads
        this one (rendered on first request: off the next page's way). Images only: a
        form's page itself changes with each decision and is never fetched ahead."""
        if following is None:
            return []
        name, number = following
        try:
            pages = self.workspace.result(name).forms[number - 1].pages
        except (KeyError, ValueError, IndexError):
            return []
        return [f"/page/{quote(name, safe='')}/{p}" for p in pages]

    def _just_decided(self, request: Request) -> dict | None:
        """The form a decision just finished (`?decided=doc/N`, after an auto-advance): its
        name and link, for the line that says so."""
        name, _, number = request.query_params.get("decided", "").rpartition("/")
        try:
            form = self.workspace.result(name).forms[int(number) - 1]
        except (KeyError, ValueError, IndexError):
            return None
        query = {"filter": f} if (f := self._filter(request)) != "all" else {}
        return {"label": form_label(form) or "?", "number": int(number), "document": name,
                "href": f"/form/{quote(name, safe='')}/{int(number)}" + (f"?{urlencode(query)}" if query else "")}

    async def page_image(self, request: Request) -> Response:
        return await self._off_loop(self._page_image, request.path_params["document"], request.path_params["page"])

    def _page_image(self, name: str, page: int) -> Response:
        try:
            result = self.workspace.result(name)
        except (KeyError, ValueError):
            return PlainTextResponse("no such document", status_code=404)
        source, why = self._source(result)
        if source is None:
            return PlainTextResponse(why, status_code=404)
        image = cached(self.cache_dir, source, result.source.sha256, page, self._notes(result))
        if image is None:
            return PlainTextResponse("no such page", status_code=404)
        return Response(image.data, media_type=image.media, headers={"Cache-Control": "private, max-age=3600"})

    async def decide(self, request: Request) -> Response:
        fields = await self._posted(request)
        if isinstance(fields, Response):  # (refused: not UTF-8, or not this server's page)
            return fields
        name = fields.get("document", "")
        try:
            number = int(fields.get("form", ""))
        except ValueError:
            return PlainTextResponse("no such form", status_code=400)
        query = {"filter": fields["filter"]} if valid_filter(fields.get("filter")) and fields["filter"] != "all" else {}
        seen = _number(fields.get("version", ""))  # (the form's decision version the page showed)
        order = [(q.document, q.form) for q in self.workspace.queue()]  # (before the decision moves the form in it)
        reviewer = self._reviewer(fields)
        try:
            if fields.get("all") == "1":  # every open warning of the code on the form
                decided = self.workspace.decide_all(name, number, fields.get("code", ""), fields.get("action", ""),
                                                    comment=fields.get("comment", ""), reviewer=reviewer, seen=seen)
            else:
                decided = self.workspace.decide(name, number, fields.get("field", ""), fields.get("code", ""),
                                                fields.get("action", ""), value=fields.get("value"),
                                                comment=fields.get("comment", ""), reviewer=reviewer, seen=seen)
        except KeyError:
            return PlainTextResponse("no such document", status_code=404)
        except DecisionError as exc:
            request.scope["query_string"] = urlencode(query).encode()
            return self._form_page(request, name, number, error=str(exc), status=409 if isinstance(exc, DecisionConflict) else 400)
        if fields.get("action") != "reopen" and decided.review is not None and decided.review.state == "decided":
            # The form is done: on to the next one not decided (the filter's), saying so with
            # a way back; it stays where none is left
            following = self.workspace.following(name, number, query.get("filter", "all"), order, open_only=True)
            if following is not None:
                query["decided"] = f"{name}/{number}"
                name, number = following
        target = f"/form/{quote(name, safe='')}/{number}" + (f"?{urlencode(query)}" if query else "")
        return RedirectResponse(target, status_code=303)

    async def history(self, request: Request) -> Response:
        """The log's newest decisions, as data (who decided what, and when)."""
        return JSONResponse([d.__dict__ for d in self.workspace.log.history(200)])

    async def history_page(self, request: Request) -> Response:
        """The same for a person: the newest decisions first, each linked to its form."""
        with self.workspace._lock:  # (the log's connection is shared with the page worker thread)
            decisions = self.workspace.log.history(200)
        return self._page("history.html", decisions=decisions)


def create_app(workspace: Workspace, settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    bench = Workbench(workspace, settings)
    if settings.token is None:
        # A page another site loads by a name that resolves to 127.0.0.1 (DNS rebinding) is
        # refused; the address served on (::1, 127.0.0.2) is allowed, as a browser sends it
        middleware = [Middleware(_HostCheck, hosts=frozenset({*LOOPBACK, settings.host.strip("[]").lower()}))]
    else:
        middleware = [Middleware(_TokenMiddleware, token=settings.token)]
    app = Starlette(routes=bench.routes(), middleware=[Middleware(_SecurityHeaders), *middleware])
    app.state.csrf = bench.csrf
    return app


def _csrf_secret(path) -> str:
    """The folder's CSRF secret, kept in OUT/.review (owner-only) so that a restarted
    server accepts the pages its tabs still show; a fresh one where OUT is read-only."""
    try:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) >= 32:
            return secret
    except (OSError, UnicodeDecodeError):
        pass
    secret = secrets.token_urlsafe(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret)
    except OSError:
        pass
    return secret


class _HostCheck:
    """Only the names this server answers to (loopback, and the address it is served
    on). The Host header is parsed here, IPv6 included ([::1]:8765), the same on every
    Starlette version."""

    def __init__(self, app, hosts: frozenset[str]):
        self.app, self.hosts = app, hosts

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        header = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").strip().lower()
        host = header[1:header.find("]")] if header.startswith("[") and "]" in header else header.rsplit(":", 1)[0] if header.count(":") == 1 else header
        if host not in self.hosts:
            return await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
        return await self.app(scope, receive, send)


def same_secret(given: str, secret: str) -> bool:
    """Compared as bytes: a str with characters beyond ASCII makes hmac raise (a 500)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), secret.encode("utf-8"))


# Every response: never framed (a decision page under another site's bait button is one
# click from a decision), no type sniffing, no referrer carrying the token.
_HEADERS = [(b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]


class _SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *_HEADERS]}
            await send(message)

        return await self.app(scope, receive, with_headers)


class _TokenMiddleware:
    """Every request carries the token: in the URL once (then a cookie), or the cookie."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.query_params.get("token") or request.cookies.get("review_token") or ""
        if not same_secret(given, self.token):
            return await PlainTextResponse("a token is needed: open the URL the server printed", status_code=401)(scope, receive, send)
        if request.query_params.get("token"):
            rest = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
            response = RedirectResponse(request.url.path + (f"?{rest}" if rest else ""), status_code=303)  # (?filter= kept)
            response.set_cookie("review_token", self.token, httponly=True, samesite="strict")
            return await response(scope, receive, send)
        return await self.app(scope, receive, send)
