#!/usr/bin/env python3
"""Runs the README's shell examples and checks that each answers what the README shows.

Usage: scripts/readme-examples.py SERVER_BINARY [README]

Every fenced block whose first line is a `$ ` command is one example session: a fresh server (an empty data
directory, a free port) answers its commands in order, and each command's output must be the lines the README shows
under it. `localhost:8081` in a command is the fresh server (and in an answer, where it names it); `$H` is the
Confluent content type; `schema-registry` is the binary under test, run in a fresh working directory. A command
goes on over lines while it ends with a backslash or has a quote open. What differs from run to run is compared as
`*`: a request id, a version's registration time, and an audit entry's time and the hashes that cover it. Exits
non-zero, showing every difference, when any example answers otherwise.
"""

import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CONTENT_TYPE = "Content-Type: application/vnd.schemaregistry.v1+json"
VOLATILE = re.compile(r'"(request_id|time|registered|prev_hash|hash)":"[^"]*"')


def sessions(text):
    """(line number, block body) of each fenced block that starts with a `$ ` command."""
    for match in re.finditer(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M):
        body = match.group(1)
        if body.startswith("$ "):
            yield text[: match.start()].count("\n") + 2, body


def complete(command):
    """Whether a command's text is whole: a comment, or no open quote and no continuation backslash."""
    if command.lstrip().startswith("#"):
        return True
    if command.endswith("\\"):
        return False
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True


def steps(body):
    """(command, the output shown under it) for each `$ ` command of a block."""
    lines = body.rstrip("\n").split("\n")
    out, i = [], 0
    while i < len(lines):
        command = lines[i][2:]
        i += 1
        while not complete(command) and i < len(lines):
            command += "\n" + lines[i]
            i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((command, "\n".join(expected).strip("\n")))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, data_dir):
    port = free_port()
    server = subprocess.Popen(
        [binary, "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as answer:
                if answer.status == 200:
                    return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"the server did not answer /health on port {port} within 30 s")


def normalized(text):
    return VOLATILE.sub(lambda m: f'"{m.group(1)}":"*"', text).strip("\n")


def main():
    binary = sys.argv[1]
    readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    failures, ran = [], 0
    # `schema-registry` in a command is the binary under test.
    path = os.path.dirname(os.path.abspath(binary)) + os.pathsep + os.environ.get("PATH", "")
    for line, body in sessions(text):
        with tempfile.TemporaryDirectory() as data_dir, tempfile.TemporaryDirectory() as workdir:
            server, port = start(binary, data_dir)
            try:
                for command, expected in steps(body):
                    ran += 1
                    run = command.replace("localhost:8081", f"127.0.0.1:{port}")
                    env = dict(os.environ, H=CONTENT_TYPE, PATH=path, RUST_LOG="warn")
                    result = subprocess.run(
                        ["bash", "-c", run], capture_output=True, text=True, env=env, timeout=60, cwd=workdir
                    )
                    got = normalized(result.stdout.replace(f"127.0.0.1:{port}", "localhost:8081"))
                    if got != normalized(expected):
                        failures.append(f"README.md line {line}: $ {command}\n  shown: {expected}\n  got:   {got}")
            finally:
                server.kill()
                server.wait()
    for failure in failures:
        print(failure)
    print(f"readme examples: {ran - len(failures)}/{ran} commands answer as shown")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
