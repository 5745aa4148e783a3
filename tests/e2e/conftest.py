"""Fixtures for real-browser tests: Debian's Chromium driven by Playwright, JupyterLab on
127.0.0.1 in an isolated environment (config, data, runtime dirs under the test's tmp path)."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ._lab import Lab, running_lab

playwright_sync = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", ROOT / "e2e-artifacts"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


def notebook(*sources: str) -> dict[str, Any]:
    """An nbformat-4 notebook with one code cell per source."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": s,
            }
            for s in sources
        ],
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            }
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = ctx.new_page()
    logs: list[str] = []
    pg.on("console", lambda m: logs.append(f"[{m.type}] {m.text}"))
    pg.on("pageerror", lambda e: logs.append(f"[pageerror] {e}"))
    pg.console_logs = logs
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-FAILED.png"))
        (ARTIFACTS / f"{request.node.name}-console.log").write_text("\n".join(logs))
    ctx.close()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    """A JupyterLab server on 127.0.0.1 with its own config, data and runtime dirs."""
    with running_lab(tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One JupyterLab server for all tests of a module (starting one costs seconds of CPU).

    Use it through ``lab_each``: every test then opens its own notebook file in its own
    workspace, and its kernels are shut down when it ends. Widget state is saved into
    notebooks on save (``saveState``), as a user who wants widgets restored would set it."""
    with running_lab(tmp_path_factory.mktemp("lab")) as server:
        settings = (
            server.root.parent / "config/lab/user-settings/@jupyter-widgets/jupyterlab-manager"
        )
        settings.mkdir(parents=True)
        (settings / "plugin.jupyterlab-settings").write_text('{"saveState": true}')
        yield server


def _api(lab: Lab, path: str, method: str = "GET") -> Any:
    req = urllib.request.Request(f"{lab.url}/api/{path}?token={lab.token}", method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        body = r.read()
    return json.loads(body) if body else None


def shutdown_kernels(lab: Lab) -> None:
    """End every session and kernel of the server (each test starts from none)."""
    for kind in ("sessions", "kernels"):
        for item in _api(lab, kind):
            try:
                _api(lab, f"{kind}/{item['id']}", "DELETE")
            except urllib.error.HTTPError as exc:  # gone meanwhile (a session ends its kernel)
                if exc.code != 404:
                    raise


@pytest.fixture
def lab_each(shared_lab: Lab) -> Iterator[Lab]:
    """The module's JupyterLab; the test's kernels are shut down after it. Request it before
    ``page`` so the page (and its failure screenshot) is closed first."""
    yield shared_lab
    shutdown_kernels(shared_lab)


# Runs `src` in a cell appended at the end of the current notebook (re-used on later calls)
# and returns its text output.
RUN_PROBE = """async (src) => {
  const app = window.jupyterapp;
  const nb = app.shell.currentWidget.content;
  if (!nb.__probe) {
    nb.activeCellIndex = nb.widgets.length - 1;
    await app.commands.execute('notebook:insert-cell-below');
    nb.__probe = nb.activeCell;
  }
  nb.activeCellIndex = nb.widgets.indexOf(nb.__probe);
  nb.activeCell.model.sharedModel.setSource(src);
  await app.commands.execute('notebook:run-cell');
  return nb.__probe.model.outputs.toJSON()
    .map(o => o.text ?? (o.ename ? `${o.ename}: ${o.evalue}` : '')).join('');
}"""


def open_notebook(
    page: Any,
    lab: Lab,
    name: str,
    nb: dict[str, Any],
    *,
    workspace: str | None = None,
    run: bool = True,
) -> None:
    """Write `nb` into the server root, open it, wait for an idle kernel and run all cells.

    `workspace`: open it in this (new) Lab workspace, so notebooks other tests opened on the
    same server are not restored with it. `run=False` leaves the cells unrun."""
    (lab.root / name).write_text(json.dumps(nb))
    if workspace is None:
        page.goto(lab.notebook_url(name))
    else:
        page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{name}?token={lab.token}")
    page.wait_for_function(
        "() => window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel"
        "?.status === 'idle'",
        timeout=90_000,
    )
    if run:
        run_all_cells(page)


#: ms for a widget to be ready: a cold kernel on a busy 2-core machine
READY_TIMEOUT = 90_000


def open_widget(
    page: Any, lab: Lab, name: str, nb: dict[str, Any], *, workspace: str | None = None
) -> Any:
    """:func:`open_notebook` (cells run), then wait until the widget it shows is ready; return
    its root element (``daw-root``)."""
    open_notebook(page, lab, name, nb, workspace=workspace)
    root = page.get_by_test_id("daw-root")
    expect(root).to_have_attribute("data-ready", "true", timeout=READY_TIMEOUT)
    return root


def run_all_cells(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def run_probe(page: Any, src: str) -> str:
    return str(page.evaluate(RUN_PROBE, src))


def kernel_eventually(page: Any, src: str, expected: str, timeout: float = 30) -> str:
    """Run `src` until it prints `expected` (widget updates reach the kernel asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        out = run_probe(page, src).strip()
        if out == expected or time.monotonic() > deadline:
            return out
        time.sleep(0.2)
