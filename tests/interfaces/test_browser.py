"""The app in a real browser: Debian's Chromium driven by Playwright, the app on a free localhost port.

Screenshots of each view go to tests/artifacts/. Set RAG_SKIP_BROWSER=1 to skip on a machine
without Chromium (`make test` installs it: make install-system).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import docx
import pytest

from rag.embedding.embed import parse_spec
from rag.ingest.pipeline import ingest
from rag.interfaces import audit, auth
from tests.conftest import REPO, SAMPLE

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = REPO / "tests" / "artifacts"
LIBRARIAN, PASSWORD = "librarian", "browser-test-password"
CITE_8 = "《2022年教育系统党建工作计划3篇》 › 篇1 › 一、依法行政工作 › (三)加强“互联网+监管”平台应用 › 8."

pytestmark = pytest.mark.skipif(os.environ.get("RAG_SKIP_BROWSER") == "1", reason="RAG_SKIP_BROWSER=1")

HOSTILE = (
    """关于测试恶意内容的通知

一、脚本<script>window.__pwned = 1; alert("xss-script")</script>不得执行。

二、图片<img src=x onerror="window.__pwned = 2; alert('xss-img')">不得加载。

三、链接[点我](javascript:alert('xss-link'))不得生效，<a href="javascript:alert('xss-a')">点我</a>也不得生效。

四、标记 **粗体** 与 <b>加粗</b> 以及 <iframe src="javascript:alert(1)"></iframe> 原样显示。

五、超长行："""
    + "很长的一行" * 4000
    + "\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """A Streamlit server for one test module, stopped at teardown."""

    def __init__(self, index_dir: Path, corpus_dir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "RAG_INDEX": str(index_dir), "RAG_CORPUS": str(corpus_dir)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install chromium fonts-noto-cjk (or RAG_SKIP_BROWSER=1)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        yield b
        b.close()


@pytest.fixture(scope="module")
def sample_app(sample_index_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    corpus = root / "library"
    corpus.mkdir()
    shutil.copy(SAMPLE, corpus / SAMPLE.name)
    index = root / "index"
    shutil.copytree(sample_index_dir, index)
    auth.add_user(index / "users.json", LIBRARIAN, PASSWORD)
    app = App(index, corpus)
    yield app, root
    app.stop()


def _page(browser, app: App):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(app.url)
    page.get_by_role("tab", name="问答").wait_for(timeout=60_000)
    return page, dialogs


def _ask(page, question: str) -> None:
    """Type a question, submit it, and wait until the app has finished answering it."""
    box = page.get_by_label("问题")
    box.fill(question)
    box.press("Enter")
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)


def test_ask_precedent_and_study_pack(browser, sample_app, tmp_path):
    app, _ = sample_app
    page, dialogs = _page(browser, app)
    _ask(page, "双随机抽查比例要达到多少？")
    page.get_by_text(CITE_8).first.wait_for(timeout=60_000)
    page.locator("mark").first.wait_for(timeout=60_000)
    marks = [m.inner_text() for m in page.locator("mark").all()]
    assert marks[0] == "达到20%以上"  # the answer's span, marked in the clause; not the whole clause
    assert "8.进一步完善" in page.inner_text("body") and "答：" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "ask.png"), full_page=False)
    page.get_by_text("在文档中查看").first.click()
    page.get_by_text("9.加强民政事务的日常监管").first.wait_for(timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "ask-context.png"))

    page.get_by_role("button", name="加入学习材料").first.click()
    page.get_by_text("学习材料：1 条").wait_for(timeout=20_000)

    page.get_by_role("tab", name="措辞参考").click()
    area = page.get_by_label("粘贴草稿句子或段落（用引号“…”可检索原文短语）")
    area.fill("要进一步完善双随机一公开抽查工作机制，合理确定随机抽查的比例和频次")
    area.press("Control+Enter")
    shared = page.locator("mark:visible", has_text=re.compile("^合理确定随机抽查的比例和频次$"))
    shared.first.wait_for(timeout=60_000)  # the shared wording is marked, not the whole sentence
    page.screenshot(path=str(ARTIFACTS / "precedent.png"))

    page.get_by_role("tab", name="学习材料").click()
    page.get_by_role("button", name="导出 DOCX").wait_for(timeout=20_000)
    page.screenshot(path=str(ARTIFACTS / "study-pack.png"))
    with page.expect_download() as dl:
        page.get_by_role("button", name="导出 DOCX").click()
    out = tmp_path / "pack.docx"
    dl.value.save_as(out)
    d = docx.Document(str(out))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "8.进一步完善“双随机、一公开”抽查工作机制" in text
    assert CITE_8 in text
    assert d.tables and d.tables[-1].rows[1].cells[0].text == "2022年教育系统党建工作计划3篇"
    with page.expect_download() as dl:
        page.get_by_role("button", name="导出 Markdown").click()
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert md.startswith("# 学习材料") and CITE_8 in md
    assert not dialogs
    page.close()


def _sign_in(page, name: str = LIBRARIAN, password: str = PASSWORD) -> None:
    """Sign in as a librarian through the sidebar form."""
    bar = page.locator('[data-testid="stSidebar"]')
    bar.get_by_label("用户名").fill(name)
    bar.get_by_label("密码", exact=True).fill(password)
    bar.get_by_role("button", name="登录").click()
    bar.get_by_text(f"馆员：{name}").wait_for(timeout=30_000)


def _upload(page, files, click: bool = True) -> None:
    page.get_by_role("tab", name="文库").click()
    page.locator("input[type=file]").set_input_files(files)
    if click:
        page.get_by_role("button", name="导入上传的文件").click()


def test_upload_then_find(browser, sample_app):
    app, root = sample_app
    page, dialogs = _page(browser, app)
    _sign_in(page)
    page.get_by_role("tab", name="文库").click()
    page.screenshot(path=str(ARTIFACTS / "library.png"))
    body = "一、总体要求\n1.全市河长制巡河频次每月不少于两次。\n2.发现问题及时上报。\n".encode()
    _upload(page, [{"name": "河长制工作要点.txt", "mimeType": "text/plain", "buffer": body}])
    page.get_by_text("已索引").first.wait_for(timeout=120_000)
    assert (root / "library" / "河长制工作要点.txt").read_bytes() == body
    page.screenshot(path=str(ARTIFACTS / "library-uploaded.png"))
    page.get_by_role("tab", name="问答").click()
    _ask(page, "巡河频次每月几次")
    page.get_by_text("《河长制工作要点》 › 一、总体要求 › 1.").first.wait_for(timeout=60_000)
    assert not dialogs
    page.close()


def test_hostile_uploads_refused_and_app_keeps_working(browser, sample_app, tmp_path_factory):
    app, root = sample_app
    huge = tmp_path_factory.mktemp("upload") / "huge.txt"  # over Playwright's 50 MB buffer limit: a file
    with open(huge, "wb") as f:
        f.truncate(100 * 1024 * 1024)
    page, dialogs = _page(browser, app)
    before = {p for p in root.rglob("*") if p.is_file()} | {p for p in root.parent.iterdir()}
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/padding.bin", b"\0" * (200 * 1024 * 1024))
    cases = [
        ({"name": "bomb.docx", "mimeType": "application/octet-stream", "buffer": bomb.getvalue()}, "zip bomb"),
        ({"name": "renamed.pdf", "mimeType": "application/pdf", "buffer": b"\x7fELF" + bytes(range(256)) * 20},
         "not a PDF"),
        ({"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}, "empty"),
        (str(huge), "or smaller"),  # the uploader itself refuses it (server.maxUploadSize = 20)
        ({"name": "../../evil.txt", "mimeType": "text/plain", "buffer": "第一条 越界写入测试。".encode()}, None),
    ]  # fmt: skip
    for n, (payload, reason) in enumerate(cases, 1):
        page.reload()  # a new session: sign in again
        page.get_by_role("tab", name="问答").wait_for(timeout=60_000)
        _sign_in(page)
        _upload(page, [payload], click=payload != str(huge))
        if reason:
            page.get_by_text(reason).first.wait_for(timeout=120_000)
        else:
            page.get_by_text("已索引").first.wait_for(timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / f"upload-{n}.png"))
    after = {p for p in root.rglob("*") if p.is_file()} | {p for p in root.parent.iterdir()}
    new = {p for p in after - before if "index" not in p.relative_to(root.parent).parts[1:2]}
    assert {p.name for p in new if p.is_file()} <= {"evil.txt"}
    assert all(root / "library" in p.parents for p in new if p.is_file())
    assert not (root.parent / "evil.txt").exists() and not (root / "evil.txt").exists()
    page.get_by_role("tab", name="问答").click()
    _ask(page, "双随机抽查比例要达到多少？")
    page.get_by_text(CITE_8).first.wait_for(timeout=60_000)
    assert not dialogs
    page.close()


def test_hostile_document_text_is_shown_literally(browser, tmp_path):
    lib = tmp_path / "library"
    lib.mkdir()
    (lib / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (lib / "hostile.html").write_text(
        "<html><body><h1>恶意网页</h1><p>第一段&lt;script&gt;alert('escaped')&lt;/script&gt;不得执行。</p>"
        "<script>alert('page-script')</script></body></html>", encoding="utf-8")  # fmt: skip
    ingest([lib], tmp_path / "index", parse_spec("hash:64"), show_progress=False)
    app = App(tmp_path / "index", lib)
    try:
        page, dialogs = _page(browser, app)
        literal = {  # each question, and hostile text its answer must show as plain text
            "脚本不得执行": '<script>window.__pwned = 1; alert("xss-script")</script>',
            "图片不得加载": "<img src=x onerror=",
            "链接不得生效": "[点我](javascript:alert('xss-link'))",
            "标记原样显示": "**粗体**",
            "超长行": "很长的一行",
            "第一段不得执行": "第一段<script>alert('escaped')</script>",
        }
        for q, needle in literal.items():
            _ask(page, q)
            page.get_by_text(needle).locator("visible=true").first.wait_for(timeout=60_000)
            if q == "标记原样显示":
                assert "<b>加粗</b>" in page.inner_text("body")
            if q == "脚本不得执行":
                page.screenshot(path=str(ARTIFACTS / "hostile.png"))
            assert page.evaluate("window.__pwned") is None
            assert page.locator("main img[src='x'], main iframe, main a[href^='javascript']").count() == 0
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280 + 20  # the very long line wraps instead of widening the page
        assert not dialogs
        page.close()
    finally:
        app.stop()


def test_office_folder_formats_versions_and_files_not_indexed(browser, tmp_path):
    """A folder as a 民政局 keeps it: a 红头 notice as .docx with Word numbering, a rule and its 2023
    revision that repeals it, an unrelated later notice, and files that cannot be indexed."""
    from tests import gwfixtures as gw

    lib = tmp_path / "library"
    lib.mkdir()
    gw.notice_docx(lib, auto=True)
    for name, lines in [("rules-2021.txt", gw.RULES_2021), ("rules-2023.txt", gw.RULES_2023),
                        ("visit-2024.txt", gw.UNRELATED_2024)]:  # fmt: skip
        (lib / name).write_text(gw.text(lines), encoding="utf-8")
    (lib / "photo.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (lib / "blank.txt").write_bytes(b"")
    ingest([lib], tmp_path / "index", parse_spec("hash:64"), show_progress=False)
    app = App(tmp_path / "index", lib)
    try:
        page, dialogs = _page(browser, app)
        _ask(page, "双随机抽查比例不低于多少")
        page.get_by_text("第二条　双随机抽查比例不低于30%").first.wait_for(timeout=60_000)
        assert "不低于20%" not in page.inner_text("main")  # the repealed figure is not served
        page.screenshot(path=str(ARTIFACTS / "office-ask.png"))
        page.get_by_text("包括已被取代的旧版本").click()
        page.wait_for_timeout(300)
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
        page.get_by_text("第二条　双随机抽查比例不低于20%").first.wait_for(timeout=60_000)  # reachable, and marked
        page.get_by_text("此文件已不是现行版本").first.wait_for(timeout=20_000)
        assert "明确废止了它" in page.inner_text("main")
        page.screenshot(path=str(ARTIFACTS / "office-old-version.png"))
        page.get_by_role("tab", name="文库").click()
        page.get_by_text("未收录的文件（2）").click()
        page.get_by_text("photo.heic：unsupported file type .heic").wait_for(timeout=20_000)
        page.get_by_text("blank.txt：empty file").wait_for(timeout=20_000)
        page.wait_for_timeout(1500)  # the document table draws on a canvas
        page.screenshot(path=str(ARTIFACTS / "office-library.png"), full_page=True)
        assert not dialogs
        page.close()
    finally:
        app.stop()


def _library_app(tmp_path):
    """A small library (two notices) indexed with the hashing embedder, one librarian account, the app on it."""
    lib = tmp_path / "library"
    lib.mkdir()
    (lib / "巡河规定.txt").write_text("一、总体要求\n1.全市河长制巡河频次每月不少于两次。\n", encoding="utf-8")
    (lib / "值班安排.txt").write_text("一、值班\n1.节假日值班由办公室统一安排。\n", encoding="utf-8")
    ingest([lib], tmp_path / "index", parse_spec("hash:64"), show_progress=False)
    auth.add_user(tmp_path / "index" / "users.json", LIBRARIAN, PASSWORD)
    return lib, App(tmp_path / "index", lib)


def _no_change_controls(page) -> None:
    assert page.locator("input[type=file]").count() == 0
    for name in ("导入上传的文件", "从索引中移除", "确认替换", "确认移除"):
        assert page.get_by_role("button", name=name).count() == 0


def test_reader_and_librarian_roles(browser, tmp_path):
    """A reader sees no upload/replace/remove controls; a librarian uploads, replaces (the old file is kept
    as a superseded version) and removes with confirmation; the audit log records each change."""
    lib, app = _library_app(tmp_path)
    try:
        page, dialogs = _page(browser, app)
        page.get_by_role("tab", name="文库").click()
        page.get_by_text("需要馆员登录").wait_for(timeout=20_000)
        _no_change_controls(page)
        bar = page.locator('[data-testid="stSidebar"]')  # a wrong password is refused and logged
        bar.get_by_label("用户名").fill(LIBRARIAN)
        bar.get_by_label("密码", exact=True).fill("not the password")
        bar.get_by_role("button", name="登录").click()
        page.get_by_text("用户名或密码不正确").wait_for(timeout=20_000)
        _no_change_controls(page)
        page.screenshot(path=str(ARTIFACTS / "access-reader.png"))

        _sign_in(page)
        new = "一、总体要求\n1.全市河长制巡河频次每周不少于一次。\n".encode()
        _upload(page, [{"name": "巡河规定.txt", "mimeType": "text/plain", "buffer": new}])
        page.get_by_text("替换现有文件？").wait_for(timeout=30_000)
        assert "《巡河规定》" in page.inner_text("main")
        assert (lib / "巡河规定.txt").read_bytes() != new  # nothing replaced before the confirmation
        page.screenshot(path=str(ARTIFACTS / "access-replace-confirm.png"))
        page.get_by_role("button", name="确认替换").click()
        page.get_by_text("已替换 巡河规定.txt").wait_for(timeout=60_000)
        assert (lib / "巡河规定.txt").read_bytes() == new
        kept = list((lib / ".versions").glob("*/巡河规定.txt"))
        assert len(kept) == 1 and "每月不少于两次" in kept[0].read_text(encoding="utf-8")

        page.get_by_role("tab", name="问答").click()
        _ask(page, "巡河频次")
        page.get_by_text("每周不少于一次").first.wait_for(timeout=60_000)
        assert "每月不少于两次" not in page.inner_text("main")  # the old version is not served as current
        page.get_by_text("包括已被取代的旧版本").click()
        page.wait_for_timeout(300)
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
        page.get_by_text("每月不少于两次").first.wait_for(timeout=60_000)
        page.get_by_text("被替换下来的旧版本").first.wait_for(timeout=20_000)

        page.get_by_role("tab", name="文库").click()
        page.locator('[data-testid="stSelectbox"]', has_text="移除文件").click()
        page.get_by_role("option", name="值班安排").click()
        page.get_by_role("button", name="从索引中移除").click()
        page.get_by_text("确定移除《值班安排》").wait_for(timeout=20_000)
        page.screenshot(path=str(ARTIFACTS / "access-remove-confirm.png"))
        page.get_by_role("button", name="确认移除").click()
        page.get_by_text("已移除《值班安排》").wait_for(timeout=60_000)
        assert not (lib / "值班安排.txt").exists() and list((lib / ".removed").glob("*/值班安排.txt"))  # kept aside

        # the page reruns after the removal: wait for it, and take the first copy should a stale one linger
        page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=60_000)
        page.get_by_text("变更记录（最近 50 条）").first.click()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "access-audit.png"), full_page=True)
        records = audit.read(tmp_path / "index" / "audit.log")
        mine = [(r["action"], r["file"]) for r in records if r["user"] == LIBRARIAN]
        assert ("replace", "巡河规定.txt") in mine and ("remove", "值班安排.txt") in mine
        assert any(a == "ingest" for a, _ in mine)
        assert any(r["action"] == "sign-in-failed" and r["user"] == LIBRARIAN for r in records)
        replaced = next(r for r in records if r["action"] == "replace")
        assert replaced["sha256_before"] != replaced["sha256_after"]

        page.get_by_role("button", name="退出登录").click()
        page.get_by_role("button", name="登录").wait_for(timeout=20_000)
        page.get_by_role("tab", name="文库").click()
        page.get_by_text("需要馆员登录").wait_for(timeout=20_000)
        _no_change_controls(page)
        assert not dialogs
        page.close()
    finally:
        app.stop()


def test_visitor_never_sees_a_traceback(browser, tmp_path):
    """A broken index (no generation left that loads): a short message, no traceback, no server path."""
    lib, app = _library_app(tmp_path)
    app.stop()
    for gen in (tmp_path / "index").glob("gen-*"):
        (gen / "clauses.jsonl").write_text("{not json", encoding="utf-8")
    app = App(tmp_path / "index", lib)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(app.url)
        page.get_by_text("文库暂时无法使用").wait_for(timeout=60_000)
        body = page.inner_text("body")
        assert "Traceback" not in body and str(tmp_path) not in body and ".py" not in body
        assert page.get_by_role("button", name="Deploy").count() == 0
        page.screenshot(path=str(ARTIFACTS / "access-error.png"))
        page.close()
    finally:
        app.stop()


def test_trusted_header_sign_in(browser, tmp_path, monkeypatch):
    """Behind a proxy: the user the header names is a librarian when RAG_LIBRARIANS lists them, else a reader."""
    monkeypatch.setenv("RAG_TRUSTED_HEADER", "X-Remote-User")
    monkeypatch.setenv("RAG_LIBRARIANS", "wang")
    monkeypatch.setenv("RAG_TRUSTED_PROXIES", "127.0.0.1")  # the test's browser stands in for the proxy
    lib, app = _library_app(tmp_path)
    try:
        for user, librarian in (("wang", True), ("li", False)):
            ctx = browser.new_context(extra_http_headers={"X-Remote-User": user})
            page = ctx.new_page()
            page.goto(app.url)
            page.get_by_role("tab", name="文库").click()
            if librarian:
                page.get_by_text("馆员：wang").wait_for(timeout=30_000)
                page.locator("input[type=file]").wait_for(state="attached", timeout=30_000)  # may upload
            else:
                page.get_by_text("需要馆员登录").wait_for(timeout=30_000)
                _no_change_controls(page)
            ctx.close()
    finally:
        app.stop()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def test_a_reader_cannot_fill_the_server_through_the_upload_endpoint(browser, tmp_path):
    """#20 item 2: 25 × 19 MB pushed to Streamlit's upload endpoint from a reader's session are dropped on
    arrival: the server's memory does not keep them."""
    import re

    lib, app = _library_app(tmp_path)
    try:
        page = browser.new_page()
        sessions: set[str] = set()
        uuid = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

        def frames(ws) -> None:
            ws.on("framereceived", lambda data: sessions.update(
                m.decode() for m in uuid.findall(data if isinstance(data, bytes) else data.encode())))

        page.on("websocket", frames)
        page.goto(app.url)
        page.get_by_role("tab", name="文库").click()
        page.get_by_text("需要馆员登录").wait_for(timeout=30_000)
        assert sessions
        before = _rss_mb(app.proc.pid)
        codes = page.evaluate(
            """async ([ids, n, size]) => {
                const tok = (document.cookie.match(/_streamlit_xsrf=([^;]+)/) || [])[1] || "";
                const codes = [];
                for (let i = 0; i < n; i++) {
                    const fd = new FormData();
                    fd.append("file", new Blob([new Uint8Array(size)]), `big${i}.pdf`);
                    for (const sid of ids) {
                        const r = await fetch(`/_stcore/upload_file/${sid}/f${i}`,
                                              {method: "PUT", body: fd, headers: {"X-Xsrftoken": tok}});
                        codes.push(r.status);
                    }
                }
                return codes;
            }""",
            [sorted(sessions), 25, 19 * 2**20],
        )
        time.sleep(1)
        grown = _rss_mb(app.proc.pid) - before
        assert any(c in (200, 204) for c in codes), codes  # the endpoint took the bytes (and dropped them)
        assert grown < 150, f"the server grew by {grown:.0f} MB"
        print(f"reader pushed 25 x 19 MB: server RSS {before:.0f} MB -> {before + grown:.0f} MB")
        page.close()
    finally:
        app.stop()


def test_sign_in_rate_limit_and_the_fallback_notice(browser, tmp_path):
    """#20: a sixth wrong password in a minute is refused without being checked (the right one waits too),
    the burst is a few audit records; a damaged CURRENT is served from the previous generation, with a
    notice, never the error page."""
    from rag.interfaces import audit
    from rag.storage.index import ClauseIndex

    lib, app = _library_app(tmp_path)
    index = tmp_path / "index"
    try:
        page, _ = _page(browser, app)
        bar = page.locator('[data-testid="stSidebar"]')
        for i in range(5):
            bar.get_by_label("用户名").fill(LIBRARIAN)
            bar.get_by_label("密码", exact=True).fill(f"guess {i}")
            bar.get_by_role("button", name="登录").click()
            page.get_by_text("用户名或密码不正确").wait_for(timeout=20_000)
        bar.get_by_label("用户名").fill(LIBRARIAN)
        bar.get_by_label("密码", exact=True).fill(PASSWORD)  # the right one, but locked
        bar.get_by_role("button", name="登录").click()
        page.get_by_text("登录失败次数过多").wait_for(timeout=20_000)
        assert bar.get_by_text(f"馆员：{LIBRARIAN}").count() == 0
        failed = [r for r in audit.read(index / "audit.log") if r["action"] == "sign-in-failed"]
        assert len(failed) == 2 and failed[-1]["locked_seconds"] == 30
        page.screenshot(path=str(ARTIFACTS / "access-rate-limit.png"))
        page.close()

        ClauseIndex.load(index).save(index)  # a second generation, then CURRENT damaged
        (index / "CURRENT").write_text("../../etc\n", encoding="utf-8")
        page, _ = _page(browser, app)
        page.get_by_text("正在使用较早的完整版本").wait_for(timeout=30_000)
        _ask(page, "巡河频次")
        page.get_by_text("巡河频次每月不少于两次").first.wait_for(timeout=30_000)
        assert "出错了" not in page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "access-fallback.png"))
        page.close()
    finally:
        app.stop()
