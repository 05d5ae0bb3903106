"""`extractor review`: the workbench over an output folder, its gold export, and the
static pages."""

from __future__ import annotations

from ..errors import ReviewLogError, chinese
from ..messages import counted, pick

import getpass
import ipaddress
import secrets
import socket
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup


class _DefaultServe(TyperGroup):
    """`extractor review OUT` is `extractor review serve OUT`; the other commands by name."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=_DefaultServe, no_args_is_help=True, add_completion=False,
                  help="Review flagged forms: a local web app over an output folder.\n\nExample: extractor review out/")


def _err(msg: str, zh: str | None = None) -> None:
    typer.echo(pick(f"error: {msg}", f"错误：{zh or msg}"), err=True)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@app.command()
def serve(
    results: Annotated[list[Path], typer.Argument(help="The output folder (with --static: result files or folders).")],
    host: Annotated[str, typer.Option(help="Address to listen on; anything but loopback needs the printed token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free one).")] = 8765,
    reviewer: Annotated[Optional[str], typer.Option(envvar="EXTRACTOR_REVIEWER",
                                                    help="Name recorded with each decision (default: the login name).")] = None,
    config: Annotated[Optional[Path], typer.Option(help="Checker settings (TOML) for re-checking corrected forms.")] = None,
    static: Annotated[bool, typer.Option("--static", help="Write static HTML pages instead of serving.")] = False,
    out: Annotated[Path, typer.Option("-o", "--out", help="With --static: the folder for the pages.")] = Path("review"),
    warnings: Annotated[bool, typer.Option(help="With --static: forms with only warnings too (as the queue has them).")] = True,
) -> None:
    """Start the review workbench on OUT: the queue of flagged forms, each beside its page; decisions go to OUT/review.sqlite.

    Example: extractor review out/        (then open the URL it prints)
             extractor review out/ --static -o review/
    """
    if static:
        _write_static(results, out, warnings)
        return
    if len(results) != 1 or not results[0].is_dir():
        _err("give one output folder (extractor extract … -o OUT)", "请给出一个输出文件夹（extractor extract … -o OUT）")
        raise typer.Exit(2)
    from ..io.outputs import result_files

    if not result_files(results) and not (results[0] / "review.sqlite").exists():
        _err(f"{results[0]} holds no result of extractor extract: give the output folder (extractor extract … -o OUT)",
             f"{results[0]} 中没有 extractor extract 的结果：请给出输出文件夹（extractor extract … -o OUT）")
        raise typer.Exit(2)
    from ..errors import ExtractorError
    from ..settings import CheckSettings

    try:
        settings = CheckSettings.load(config)
    except ExtractorError as exc:
        _err(str(exc), chinese(exc))
        raise typer.Exit(2)
    serve_folder(results[0], host, port, reviewer or _login(), settings)


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return ""


def serve_folder(folder: Path, host: str, port: int, reviewer: str, settings, ready=None) -> None:
    """Run the workbench until interrupted; `ready(url)` is called once it listens."""
    import uvicorn

    from .app import Settings, create_app
    from .workspace import Workspace

    token = None if _loopback(host) else secrets.token_urlsafe(18)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        # Listening before the URL is printed: a browser (or a test) that connects at once
        # waits in the backlog until uvicorn accepts, instead of being refused (under load
        # uvicorn's own listen() came after the first connection)
        sock.listen(2048)
    except OSError as exc:
        _err(f"cannot listen on {host}:{port}: {exc.strerror or exc}", f"无法在 {host}:{port} 监听：{exc.strerror or exc}")
        raise typer.Exit(2)
    try:
        workspace = Workspace(folder, settings)
    except ReviewLogError as exc:
        _err(str(exc), chinese(exc))
        raise typer.Exit(2) from None
    app = create_app(workspace, Settings(reviewer=reviewer, token=token, host=host))
    bound = sock.getsockname()[1]
    # An unspecified address (0.0.0.0, ::) is no address a browser can open: the machine's name is
    named = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    shown = f"[{named}]" if ":" in named else named
    url = f"http://{shown}:{bound}/" + (f"?token={token}" if token else "")
    queue = workspace.queue()
    decided = sum(q.state == "decided" for q in queue)
    who = reviewer or "?"
    typer.echo(pick(f"review: {counted(len(queue), 'form')} to review in {folder} ({decided} decided), as {who}; open {url}  (Ctrl-C stops)",
                    f"复核：{folder} 中有 {len(queue)} 张表待复核（已决定 {decided} 张），复核人 {who}；请打开 {url}（Ctrl-C 停止）"))
    if ready:
        ready(url)
    # No access log: a URL may carry the token, and the folder's names are nobody else's business.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    try:
        server.run(sockets=[sock])
    finally:
        workspace.close()
        sock.close()


def _write_static(results: list[Path], out: Path, warnings: bool) -> None:
    from ..io.outputs import load_document_json, result_files, write_text_atomic
    from .static import write_review

    written: list[tuple[str, str, int, int]] = []  # (folder, the document's path, forms flagged, forms decided)
    for f in result_files(results):
        try:
            result = load_document_json(f)
        except Exception:
            _err(f"{f}: not a result file of extractor extract", f"{f}：不是 extractor extract 的结果文件")
            continue
        page = write_review(result, out / f.stem, only_errors=not warnings, results_dir=f.parent)
        if page:
            flagged = sum(1 for form in result.forms if any(
                x.severity == "error" or (warnings and x.severity == "warning") for x in form.findings))
            decided = sum(1 for form in result.forms if form.review is not None and form.review.state == "decided")
            written.append((f.stem, result.source.path, flagged, decided))
            typer.echo(str(page))
    if written:
        write_text_atomic(out / "index.html", static_index(written))
        typer.echo(str(out / "index.html"))
    typer.echo(pick(f"{counted(len(written), 'review page')}", f"{len(written)} 个复核页面"), err=True)


def static_index(documents: list[tuple[str, str, int, int]]) -> str:
    """The static review's first page: each document's page, with its flagged and decided forms' counts."""
    from html import escape

    rows = "".join(f'<tr><td><a href="{escape(folder, quote=True)}/index.html">{escape(path)}</a></td><td>{n}</td><td>{d}</td></tr>'
                   for folder, path, n, d in documents)
    total, decided = sum(n for _, _, n, _ in documents), sum(d for _, _, _, d in documents)
    return ("<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>复核 review</title><style>"
            "body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:.3em .6em}"
            "table{border-collapse:collapse}</style></head><body><h1>待复核的文件 documents to review</h1>"
            f"<p id='progress'>已决定 {decided} / {total} 张表 · {decided} of {total} forms decided</p>"
            f"<table><thead><tr><th>文件 document</th><th>待复核的表 forms flagged</th><th>已决定 decided</th></tr></thead><tbody>{rows}"
            "</tbody></table></body></html>\n")


@app.command("export-gold")
def export_gold_cmd(
    folder: Annotated[Path, typer.Argument(help="The output folder that was reviewed.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder for the evaluation set (manifest.json and gold/).")],
) -> None:
    """Write the decided forms of OUT as gold: an evaluation set `extractor eval DIR` scores.

    Example: extractor review export-gold out/ -o eval/reviewed && extractor eval eval/reviewed
    """
    from .gold import export_gold

    if not folder.is_dir():
        _err(f"{folder}: not a folder", f"{folder}：不是文件夹")
        raise typer.Exit(2)
    done = export_gold(folder, out)
    for line in done.left_out:
        typer.echo(pick("left out: ", "未导出：") + line, err=True)
    if done.undecided:
        typer.echo(pick(f"left out: {counted(done.undecided, 'form')} with findings not decided yet",
                        f"未导出：{done.undecided} 张表尚有未决定的发现"), err=True)
    typer.echo(pick(f"{done.forms} decided forms of {counted(done.documents, 'document')} written to {out / 'manifest.json'}",
                    f"{done.documents} 份文件中已决定的 {done.forms} 张表已写入 {out / 'manifest.json'}"))
    if not done.forms:
        raise typer.Exit(1)
