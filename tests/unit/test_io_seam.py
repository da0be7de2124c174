"""Only media/ starts processes or opens containers, and only the faces (CLI, MCP server, the
service's settings) read the environment (DESIGN.md: "Only media/ starts processes"; "The core
never reads environment variables"). Checked on the syntax tree of every module under src/ab2n, so
docstrings and comments may name these things freely, while an import or a call anywhere else
fails the test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "ab2n"

#: Where each kind of start may happen (paths relative to src/ab2n).
PROCESS_MODULES = {"media/process.py"}
CONTAINER_MODULES = {"media/container.py"}
# The faces, not the core: the CLI, the MCP server (started by `ab2n mcp`, it finds the user's
# cache folder as the CLI does) and the service's settings.
ENVIRONMENT_MODULES = {"cli.py", "mcp.py", "server/settings.py"}

_PROCESS_IMPORTS = {"subprocess", "multiprocessing", "pty", "concurrent.futures.process"}
_PROCESS_NAMES = {"ProcessPoolExecutor", "create_subprocess_exec", "create_subprocess_shell"}
_OS_PROCESS = {"system", "popen", "fork", "forkpty", "posix_spawn", "posix_spawnp", "startfile"}
_OS_PROCESS_PREFIXES = ("exec", "spawn")
_OS_ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _is_os_process(name: str) -> bool:
    return name in _OS_PROCESS or name.startswith(_OS_PROCESS_PREFIXES)


def findings(source: str) -> list[tuple[str, int, str]]:
    """(kind, line, what) for every process start, container open and environment read in ``source``."""
    out: list[tuple[str, int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in _PROCESS_IMPORTS or alias.name in _PROCESS_IMPORTS:
                    out.append(("process", node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            names = {a.name for a in node.names}
            if mod.split(".")[0] in _PROCESS_IMPORTS or mod in _PROCESS_IMPORTS or names & _PROCESS_NAMES:
                out.append(("process", node.lineno, f"from {mod} import {', '.join(sorted(names))}"))
            if mod == "os" and any(_is_os_process(n) for n in names):
                out.append(("process", node.lineno, f"from os import {', '.join(sorted(names))}"))
            if mod == "os" and names & _OS_ENVIRONMENT:
                out.append(("environment", node.lineno, f"from os import {', '.join(sorted(names))}"))
            if mod == "av" and "open" in names:
                out.append(("container", node.lineno, "from av import open"))
        elif isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if node.attr in _PROCESS_NAMES:
                out.append(("process", node.lineno, node.attr))
            elif base == "os" and _is_os_process(node.attr):
                out.append(("process", node.lineno, f"os.{node.attr}"))
            elif base == "os" and node.attr in _OS_ENVIRONMENT:
                out.append(("environment", node.lineno, f"os.{node.attr}"))
            elif base == "av" and node.attr == "open":
                out.append(("container", node.lineno, "av.open"))
    return out


def _tree() -> dict[str, list[tuple[str, int, str]]]:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 40, "the source tree was not found"
    return {f.relative_to(SRC).as_posix(): findings(f.read_text(encoding="utf-8")) for f in files}


@pytest.mark.parametrize(
    ("snippet", "kind"),
    [
        ("import subprocess", "process"),
        ("from subprocess import Popen", "process"),
        ("import multiprocessing.pool", "process"),
        ("from concurrent.futures import ProcessPoolExecutor", "process"),
        ("import concurrent.futures as cf\ncf.ProcessPoolExecutor()", "process"),
        ("import os\nos.system('ls')", "process"),
        ("import os\nos.execvp('ffmpeg', [])", "process"),
        ("import os\nos.posix_spawn('x', [], {})", "process"),
        ("import asyncio\nasyncio.create_subprocess_exec('ffmpeg')", "process"),
        ("import av\nav.open('x')", "container"),
        ("from av import open as o", "container"),
        ("import os\nos.environ.get('X')", "environment"),
        ("import os\nos.getenv('X')", "environment"),
        ("from os import environ", "environment"),
    ],
)
def test_the_scanner_sees_each_form(snippet: str, kind: str) -> None:
    assert kind in {k for k, _, _ in findings(snippet)}


def test_the_scanner_ignores_words_in_docstrings() -> None:
    assert findings('"""Not multiprocessing, no subprocess.Popen, no av.open, no os.environ."""') == []


def test_only_media_starts_processes_or_opens_containers() -> None:
    allowed = {"process": PROCESS_MODULES, "container": CONTAINER_MODULES}
    bad = [
        f"{path}:{line}: {what}"
        for path, found in _tree().items()
        for kind, line, what in found
        if kind in allowed and path not in allowed[kind]
    ]
    assert bad == [], "process/container starts outside their media/ module:\n" + "\n".join(bad)


def test_the_allowed_modules_are_the_ones_that_start_things() -> None:
    """The allow-lists must not outlive the code: each allowed module really does what it is allowed."""
    tree = _tree()
    for path in PROCESS_MODULES:
        assert any(k == "process" for k, _, _ in tree[path]), path
    for path in CONTAINER_MODULES:
        assert any(k == "container" for k, _, _ in tree[path]), path


def test_only_the_faces_read_the_environment() -> None:
    bad = [
        f"{path}:{line}: {what}"
        for path, found in _tree().items()
        for kind, line, what in found
        if kind == "environment" and path not in ENVIRONMENT_MODULES
    ]
    assert bad == [], f"environment read outside {sorted(ENVIRONMENT_MODULES)}:\n" + "\n".join(bad)
