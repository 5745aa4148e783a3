"""A minimal Chrome DevTools Protocol client for timing pages in Debian's Chromium.

Playwright enables the Network domain, which copies every websocket frame to the driver and
made a 157 MB transfer several times slower here; timing runs attach through the raw protocol
instead and never enable Network.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.request
from itertools import count
from typing import Any

import websocket  # websocket-client, installed with jupyter_server

from tests.e2e.conftest import CHROMIUM_ARGS


class Chromium:
    """One headless Chromium with one page, driven over CDP."""

    def __init__(self, executable: str = "/usr/bin/chromium", port: int = 0) -> None:
        from tests.e2e._lab import free_port

        self.port = port or free_port()
        self.profile = tempfile.TemporaryDirectory(prefix="daw-cdp-", ignore_cleanup_errors=True)
        self.proc = subprocess.Popen(
            [
                executable,
                *CHROMIUM_ARGS,
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile.name}",
                "--window-size=1280,1000",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as r:
                    pages = [t for t in json.load(r) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not open its DevTools port")
            time.sleep(0.1)
        # no Origin header: newer Chromium refuses a CDP websocket from an origin it was not told
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=120, suppress_origin=True
        )
        self._ids = count(1)
        self.call("Page.enable")
        self.call("Runtime.enable")
        # JupyterLab tracks the current widget by focus; a headless page has none unless
        # focus is emulated.
        self.call("Emulation.setFocusEmulationEnabled", enabled=True)
        self.call("Page.bringToFront")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events received meanwhile are dropped)."""
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def evaluate(self, expression: str, *, await_promise: bool = True) -> Any:
        """Evaluate JavaScript in the page and return its JSON value."""
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=await_promise,
            returnByValue=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(json.dumps(result["exceptionDetails"])[:2000])
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 120, interval: float = 0.01) -> Any:
        """Poll `expression` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {expression}")
            time.sleep(interval)

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.profile.cleanup()
