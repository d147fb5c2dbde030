"""Node.js programs run by the tests: the README's example and the SDK's own tests."""

from __future__ import annotations

import os
import queue
import re
import shlex
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from messaging.models import Deployment
from tests.live import DEMO_PASSWORDS
from tests.sdk.links import Link

CI_NODE = settings.BASE_DIR / ".ci" / "node"
# Where .ci/node puts the `ws` package for a Node without a WebSocket class: programs run from
# here find it.
NODE_DIR = settings.BASE_DIR / "var" / "node"
WAIT_SECONDS = 20


def node_command() -> list[str]:
    """The command that runs a program with a WebSocket class (.ci/node, which installs what
    is missing)."""
    found = subprocess.run([CI_NODE], capture_output=True, text=True, check=False)  # noqa: S603
    if found.returncode != 0:
        raise RuntimeError(f".ci/node failed: {found.stderr.strip()}")
    return shlex.split(found.stdout.strip())


def readme_example(section: str = "### Native apps and the transport SDK") -> str:
    """The first ```js block of the README's `section`."""
    readme = (settings.BASE_DIR / "README.md").read_text()
    after = readme[readme.index(section) :]
    return re.search(r"```js\n(.*?)```", after, re.DOTALL).group(1)


class Program:
    """A running Node program: what it prints, line by line, and its standard input."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.lines: list[str] = []
        self.arrivals: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.arrivals.put(line.rstrip("\n"))
        self.arrivals.put(None)

    def type(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, start: str) -> str:
        """The next printed line that starts with `start` (others are kept in `lines`).
        Raises AssertionError when none comes within WAIT_SECONDS or the program ends."""
        while True:
            try:
                line = self.arrivals.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                raise AssertionError(f"no {start!r} line; printed: {self.lines}") from None
            if line is None:
                raise AssertionError(f"ended before a {start!r} line; printed: {self.lines}")
            self.lines.append(line)
            if line.startswith(start):
                return line


@contextmanager
def run_program(source: str, name: str, env: dict[str, str]) -> Iterator[Program]:
    """Run `source` as var/node/`name` with Node; ended afterwards."""
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    path: Path = NODE_DIR / name
    path.write_text(source)
    process = subprocess.Popen(  # noqa: S603
        [*node_command(), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )
    try:
        yield Program(process)
    finally:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def readme_chat(link: Link, name: str) -> Iterator[Program]:
    """The README's program as var/node/`name`, chatting through `link` as the demo's customer
    on the demo's deployment for mobile apps."""
    deployment = Deployment.objects.get(allow_mobile_apps=True, status=Deployment.Status.ACTIVE)
    env = {
        "CC_DOMAIN": f"http://127.0.0.1:{link.port}",
        "CC_DEPLOYMENT_ID": str(deployment.deployment_id),
        "CC_PASSWORD": DEMO_PASSWORDS["customer"],
    }
    with run_program(readme_example(), name, env) as program:
        yield program
