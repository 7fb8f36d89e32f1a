"""What the tests that drive running servers over HTTP share: one request, an Avro record schema, a free port."""

import json
import socket
import urllib.error
import urllib.request

CONTENT = "application/vnd.schemaregistry.v1+json"


def call(base, method, path, body=None, timeout=10):
    """(status, JSON body) of one request; `body` is encoded as JSON, or sent as is when it is bytes already. A
    connection error raises OSError; an answer that is not JSON raises ValueError."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": CONTENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def record(field):
    """An Avro record with one optional int field of this name: a distinct schema per name."""
    return json.dumps({"type": "record", "name": "R", "fields": [{"name": field, "type": "int", "default": 0}]})


def free_port():
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, data_dir, *flags):
    """Starts `binary` on a free loopback port over `data_dir` (with `flags`), logging only warnings and nothing to
    the terminal, and waits until GET /health answers 200: (process, base URL). Raises RuntimeError if it exits
    first or does not answer within 30 s."""
    import os
    import subprocess
    import time

    port = free_port()
    process = subprocess.Popen([binary, "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir, *flags],
                               env=dict(os.environ, RUST_LOG="warn"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited at start-up with status {process.returncode}")
        try:
            if call(base, "GET", "/health", timeout=1)[0] == 200:
                return process, base
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError("the server did not answer GET /health within 30 s")
