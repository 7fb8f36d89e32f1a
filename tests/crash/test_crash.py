"""Crash consistency: SIGKILL of the real binary at random moments of a registration and deletion storm.

scripts/crash-test.sh builds the server and names it in REGISTRY_BIN; REGISTRY_KILLS says how many rounds (20 by
default, `--kills 500` for the long run). Each round starts the server on the same data directory, storms it
from several threads (new versions, repeats, soft deletes), kills it with SIGKILL at a random moment, starts it
again, and checks that every acknowledged write is there and every subject's versions are dense.
"""

import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from registry_client import call, start_server, record  # noqa: E402

BIN = os.environ.get("REGISTRY_BIN")
KILLS = int(os.environ.get("REGISTRY_KILLS", "20"))
SUBJECTS = [f"crash-{i}" for i in range(8)]

if not BIN:
    pytest.fail("REGISTRY_BIN must name the server binary (run scripts/crash-test.sh)", pytrace=False)





def start(data_dir):
    return start_server(BIN, data_dir)


def storm(base, round_, acked, lock, stop):
    """Writes until `stop`; records every acknowledged one in `acked`."""

    def worker(n):
        rng = random.Random(round_ * 1000 + n)
        i = 0
        while not stop.is_set():
            i += 1
            subject = rng.choice(SUBJECTS)
            try:
                if rng.random() < 0.15:
                    status, body = call(base, "DELETE", f"/subjects/{subject}/versions/latest", timeout=5)
                    if status == 200:
                        with lock:
                            acked["deleted"].append((subject, body))
                    continue
                tag = f"r{round_}t{n}i{i}" if rng.random() < 0.8 else f"shared{rng.randrange(5)}"
                status, body = call(base, "POST", f"/subjects/{subject}/versions", {"schema": record(tag)}, timeout=5)
                if status == 200:
                    with lock:
                        acked["registered"].append((subject, tag, body["id"]))
            except OSError:
                return  # the server is gone

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    return threads


def check(base, acked, since=(0, 0)):
    """Every write acknowledged since `since` (counts of registrations and deletes) is there; versions are dense."""
    for subject, tag, schema_id in acked["registered"][since[0]:]:
        status, body = call(base, "POST", f"/subjects/{subject}?deleted=true", {"schema": record(tag)})
        assert status == 200 and body["id"] == schema_id, f"acknowledged {subject} {tag} id {schema_id}: {status} {body}"
    for subject, version in acked["deleted"][since[1]:]:
        status, body = call(base, "GET", f"/subjects/{subject}/versions/{version}?deleted=true")
        assert status == 200, f"acknowledged soft delete of {subject} v{version}: {status} {body}"
        status, _ = call(base, "GET", f"/subjects/{subject}/versions/{version}")
        assert status == 404, f"{subject} v{version} was soft-deleted, yet it is served as live"
    for subject in SUBJECTS:
        status, versions = call(base, "GET", f"/subjects/{subject}/versions?deleted=true")
        if status == 404:
            continue
        assert versions == list(range(1, len(versions) + 1)), f"{subject}: {versions}"


def test_every_acknowledged_write_survives_sigkill_at_random_moments():
    rng = random.Random(42)
    acked = {"registered": [], "deleted": []}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as data_dir:
        server, base = start(data_dir)
        for subject in SUBJECTS:
            assert call(base, "PUT", f"/config/{subject}", {"compatibility": "NONE"})[0] == 200
        for round_ in range(KILLS):
            since = (len(acked["registered"]), len(acked["deleted"]))
            stop = threading.Event()
            threads = storm(base, round_, acked, lock, stop)
            time.sleep(rng.uniform(0.05, 0.6))
            server.send_signal(signal.SIGKILL)
            server.wait()
            stop.set()
            for thread in threads:
                thread.join()
            server, base = start(data_dir)
            check(base, acked, since)
        check(base, acked)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        # The store after all the kills is sound: records decode, fingerprints and indexes agree.
        checked = subprocess.run([BIN, "--data-dir", data_dir, "check"], capture_output=True, text=True, timeout=120)
        assert checked.returncode == 0 and "no problems found" in checked.stdout, checked.stdout + checked.stderr
    print(f"\n{KILLS} kills: {len(acked['registered'])} acknowledged registrations and "
          f"{len(acked['deleted'])} acknowledged soft deletes, all there after each restart")
    assert len(acked["registered"]) > KILLS, "the storms acknowledged writes"
