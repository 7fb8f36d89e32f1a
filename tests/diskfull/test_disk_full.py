"""A full disk under the real binary: writes are refused with a clear 5xx JSON error, reads are still served,
nothing is corrupted, and writes resume once space is freed, without a restart.

scripts/disk-full-test.sh mounts a small tmpfs and names it in REGISTRY_DISK, and the binary in REGISTRY_BIN.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from registry_client import call, start_server  # noqa: E402

BIN = os.environ.get("REGISTRY_BIN")
DISK = os.environ.get("REGISTRY_DISK")
if not BIN or not DISK:
    pytest.fail("REGISTRY_BIN and REGISTRY_DISK must be set (run scripts/disk-full-test.sh)", pytrace=False)

PADDING = "x" * 30_000


def schema(n):
    """A distinct Avro record of about 30 KB: a few hundred fill the disk."""
    return json.dumps({"type": "record", "name": f"R{n}", "doc": PADDING,
                       "fields": [{"name": f"f{n}", "type": "long", "default": 0}]})


def start(data_dir):
    return start_server(BIN, data_dir)


def stop(server):
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail("the server did not stop on SIGTERM")


def register(base, n):
    return call(base, "POST", f"/subjects/full-{n % 3}/versions", {"schema": schema(n)}, timeout=30)


def eventually(what, attempt, seconds=10):
    deadline = time.monotonic() + seconds
    while True:
        outcome = attempt()
        if outcome is not None:
            return outcome
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s")
        time.sleep(0.1)


def test_a_full_disk_refuses_writes_serves_reads_and_recovers_when_space_is_freed():
    data_dir = os.path.join(DISK, "data")
    server, base = start(data_dir)
    acked = {}  # id -> n
    try:
        assert call(base, "PUT", "/config", {"compatibility": "NONE"})[0] == 200
        for n in range(5):
            status, body = register(base, n)
            assert status == 200, body
            acked[body["id"]] = n

        # Fill the disk but for a little room, so that a few more registrations fit and then none does.
        free = shutil.disk_usage(DISK).free
        filler = os.path.join(DISK, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, free - 1_000_000))

        refusal = None
        for n in range(5, 400):
            status, body = register(base, n)
            if status == 200:
                acked[body["id"]] = n
                continue
            assert status in (500, 503), (status, body)
            assert isinstance(body, dict) and body.get("error_code") in (50001, 50003), body
            refusal = body
            break
        assert refusal is not None, "the disk never filled up"
        assert "No space left on device" in refusal["message"], refusal
        print(f"\nrefused after {len(acked)} acknowledged registrations: {refusal['message']}")

        # Full: every further write is refused the same way, and every read is still served.
        for n in range(400, 405):
            status, body = register(base, n)
            assert status in (500, 503) and body.get("error_code") in (50001, 50003), (status, body)

        def reads_served():
            for id_, n in acked.items():
                status, body = call(base, "GET", f"/schemas/ids/{id_}")
                if status != 200:
                    return None
                assert json.loads(body["schema"])["name"] == f"R{n}", (id_, body)
            return True

        eventually("reads served on a full disk", reads_served)
        assert call(base, "GET", "/health")[0] == 200

        # Space freed: writes resume without a restart.
        os.remove(filler)

        def resumed():
            status, body = register(base, 1000)
            if status == 200:
                acked[body["id"]] = 1000
                return True
            assert status in (500, 503), (status, body)
            return None

        eventually("writes resumed once space was freed", resumed)
    finally:
        stop(server)

    # Nothing corrupted: the store opens again and holds every acknowledged registration, versions dense.
    server, base = start(data_dir)
    try:
        for id_, n in acked.items():
            status, body = call(base, "GET", f"/schemas/ids/{id_}")
            assert status == 200 and json.loads(body["schema"])["name"] == f"R{n}", (id_, status)
        for s in range(3):
            status, versions = call(base, "GET", f"/subjects/full-{s}/versions")
            assert status == 200 and versions == list(range(1, len(versions) + 1)), versions
        assert sum(len(call(base, "GET", f"/subjects/full-{s}/versions")[1]) for s in range(3)) >= len(acked)
        # And the check agrees, run through the server holding the store.
        checked = subprocess.run([BIN, "--data-dir", data_dir, "check"], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0 and "no problems found" in checked.stdout, checked.stdout + checked.stderr
    finally:
        stop(server)
