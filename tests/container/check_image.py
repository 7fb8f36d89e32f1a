"""The container image, where no container engine exists: the Dockerfile's and compose.yaml's static facts, then
the binary run as the image runs it (its ENTRYPOINT, its ENV, as its non-root user on an empty data volume owned by
that user), checked with the image's HEALTHCHECK command, a registration, and `docker stop`'s signal.

    python tests/container/check_image.py target/debug/schema-registry
"""

import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL_BASES = ("gcr.io/distroless/", "debian:", "alpine:", "scratch", "cgr.dev/chainguard/")


def instructions(path):
    """The Dockerfile's instructions as (keyword, arguments), continuation lines joined, comments dropped."""
    out, pending = [], ""
    with open(path) as f:
        for line in f:
            stripped = line.strip()
            if not pending and (not stripped or stripped.startswith("#")):
                continue
            if stripped.endswith("\\"):
                pending += stripped[:-1] + " "
                continue
            whole = pending + stripped
            pending = ""
            keyword, _, rest = whole.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    assert not pending, "a continuation line ends the file"
    return out


def stages(steps):
    """The build stages, each a list of its instructions, FROM first."""
    out = []
    for keyword, rest in steps:
        if keyword == "FROM":
            out.append([])
        assert out, f"{keyword} before the first FROM"
        out[-1].append((keyword, rest))
    return out


def one(stage, keyword):
    found = [rest for k, rest in stage if k == keyword]
    assert len(found) == 1, f"the final stage needs exactly one {keyword}, has {found}"
    return found[0]


def env_of(stage):
    env = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def check_static():
    steps = instructions(os.path.join(ROOT, "Dockerfile"))
    built = stages(steps)
    assert len(built) >= 2, "a multi-stage build: a build stage and the final image"
    build, final = built[0], built[-1]
    base = final[0][1].split()[0]
    assert base.startswith(SMALL_BASES), f"the final image's base {base} is not a small one"
    run = " ".join(rest for k, rest in build if k == "RUN")
    assert "cargo build --release --locked" in run and "--bin schema-registry" in run, run
    assert any(k == "COPY" and "--from=build" in rest and "schema-registry" in rest for k, rest in final)
    user = one(final, "USER").split(":")[0]
    assert user not in ("root", "0"), f"the image runs as {user}"
    env = env_of(final)
    assert env.get("SCHEMA_REGISTRY_LISTEN") == "0.0.0.0:8081", env
    data_dir = env.get("SCHEMA_REGISTRY_DATA_DIR")
    assert data_dir and data_dir in json.loads(one(final, "VOLUME")), "the data directory is the volume"
    assert "8081" in one(final, "EXPOSE").split()
    health = one(final, "HEALTHCHECK")
    assert '"schema-registry", "health"' in health, health
    entrypoint = json.loads(one(final, "ENTRYPOINT"))
    assert entrypoint == ["schema-registry"], entrypoint
    with open(os.path.join(ROOT, ".dockerignore")) as f:
        ignored = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    assert {"target", ".git", ".venv"} <= ignored, "the build context leaves out build output and the venv"
    with open(os.path.join(ROOT, "compose.yaml")) as f:
        compose = yaml.safe_load(f)
    registry = compose["services"]["registry"]
    assert registry["build"] == "." and "8081:8081" in registry["ports"], registry
    assert any(v.endswith(":" + data_dir) for v in registry["volumes"]), registry["volumes"]
    for name in ("registry-a", "registry-b"):
        shared = compose["services"][name]
        assert shared["environment"]["SCHEMA_REGISTRY_STORE"].startswith("postgres://"), shared
    health_cmd = json.loads(health.split("CMD", 1)[1].strip())
    user_id = int(user)
    return env, user_id, health_cmd


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_user(user_id, argv):
    """argv run as the image's user when this runs as root (as in CI), else as the user running this."""
    if os.geteuid() == 0:
        return ["setpriv", f"--reuid={user_id}", f"--regid={user_id}", "--clear-groups", *argv]
    return argv


def check_run(binary, image_env, user_id, health_cmd, tls=False):
    """The binary as the image runs it: the same variables (the port made free), the data directory an empty
    volume the image's user owns, the HEALTHCHECK command, a registration, SIGTERM. With `tls`, a certificate and
    key are mounted and named by the environment, as a deployment does: the HEALTHCHECK must still pass."""
    with tempfile.TemporaryDirectory() as volume_root:
        os.chmod(volume_root, 0o755)
        volume = os.path.join(volume_root, "data")
        os.mkdir(volume)
        if os.geteuid() == 0:
            os.chown(volume, user_id, user_id)
        port = free_port()
        env = dict(os.environ)
        env.update(image_env)
        env["SCHEMA_REGISTRY_LISTEN"] = image_env["SCHEMA_REGISTRY_LISTEN"].replace(":8081", f":{port}")
        env["SCHEMA_REGISTRY_DATA_DIR"] = volume
        scheme, context = "http", None
        if tls:
            secrets = os.path.join(volume_root, "tls")
            os.mkdir(secrets)
            subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tls_cert.py"), secrets], check=True)
            for name in os.listdir(secrets):
                if os.geteuid() == 0:
                    os.chown(os.path.join(secrets, name), user_id, user_id)
            if os.geteuid() == 0:
                os.chown(secrets, user_id, user_id)
            env["SCHEMA_REGISTRY_TLS_CERT"] = os.path.join(secrets, "cert.pem")
            env["SCHEMA_REGISTRY_TLS_KEY"] = os.path.join(secrets, "key.pem")
            scheme, context = "https", ssl.create_default_context(cafile=os.path.join(secrets, "ca.pem"))
        # As in the image, the binary lives apart from the checkout (which the image's user may not be able to
        # reach).
        installed = os.path.join(volume_root, "schema-registry")
        shutil.copy(binary, installed)
        binary = installed
        server = subprocess.Popen(as_user(user_id, [binary]), env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            health = as_user(user_id, [binary] + health_cmd[1:])
            deadline = time.time() + 30
            while subprocess.run(health, env=env, capture_output=True).returncode != 0:
                assert server.poll() is None, f"the server exited: {server.stdout.read()}"
                assert time.time() < deadline, "the HEALTHCHECK command never succeeded"
                time.sleep(0.1)
            body = json.dumps({"schema": '"string"'}).encode()
            host = "localhost" if tls else "127.0.0.1"
            request = urllib.request.Request(f"{scheme}://{host}:{port}/subjects/container-value/versions", data=body,
                                             headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(request, timeout=10, context=context) as answer:
                assert json.load(answer)["id"] == 1
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=30) == 0, "docker stop's SIGTERM ends the server cleanly"
            stored = os.path.join(volume, "registry.redb")
            assert os.path.isfile(stored), os.listdir(volume)
            if os.geteuid() == 0:
                assert os.stat(stored).st_uid == user_id, "the store is the image user's"
            # The HEALTHCHECK fails once the server is gone.
            assert subprocess.run(health, env=env, capture_output=True).returncode != 0
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()


def main(binary):
    env, user_id, health_cmd = check_static()
    print(f"Dockerfile and compose.yaml: multi-stage, small base, user {user_id}, volume {env['SCHEMA_REGISTRY_DATA_DIR']}, "
          f"HEALTHCHECK {' '.join(health_cmd)}")
    check_run(binary, env, user_id, health_cmd)
    print("the binary as the image runs it: healthy, registers, stops cleanly on SIGTERM")
    check_run(binary, env, user_id, health_cmd, tls=True)
    print("and with a certificate mounted (SCHEMA_REGISTRY_TLS_CERT/_KEY): the HEALTHCHECK passes over TLS")


if __name__ == "__main__":
    main(sys.argv[1])
