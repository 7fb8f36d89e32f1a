"""`schema-registry migrate` between two servers of this project, the source filled by Confluent's Python client
with Avro, JSON Schema and Protobuf schemas, references between subjects, a schema shared by two subjects, soft
and permanent deletes (gaps in version numbers and ids), a context, subject levels and modes and a global level.

The source runs over TLS with auth on (its key sent as Basic auth), the target with auth on (its key as a Bearer
token). After a migration every subject, version, id, type, text, reference, soft delete, level and mode is equal
on both sides, read through the client; a second run imports nothing; a dry run changes nothing; a migration into
a data directory (no server) gives the same registry. Needs SCHEMA_REGISTRY_BIN (the binary under test).
"""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Schema,
    SchemaReference,
    SchemaRegistryClient,
)
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.schema_registry_client import Rule, RuleKind, RuleMode, RuleSet

BIN = os.environ["SCHEMA_REGISTRY_BIN"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE_KEY = "migrate-source-admin-key"
TARGET_KEY = "migrate-target-admin-key"


def hashed(key):
    return subprocess.run([BIN, "hash-key", key], check=True, capture_output=True, text=True).stdout.strip()


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `schema-registry` process on a free port, with its own data directory and an admin key."""

    def __init__(self, directory, name, key, tls=False):
        self.directory = os.path.join(directory, name)
        os.makedirs(self.directory)
        keys = os.path.join(self.directory, "keys")
        with open(keys, "w") as f:
            f.write(f"admin {hashed(key)} {name}\n")
        port = free_port()
        args = [BIN, "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(self.directory, "data"),
                "--auth-keys", keys]
        self.ca = None
        if tls:
            subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tls_cert.py"), self.directory], check=True)
            args += ["--tls-cert", os.path.join(self.directory, "cert.pem"),
                     "--tls-key", os.path.join(self.directory, "key.pem")]
            self.ca = os.path.join(self.directory, "ca.pem")
        self.url = f"{'https://localhost' if tls else 'http://127.0.0.1'}:{port}"
        self.log = open(os.path.join(self.directory, "server.log"), "w")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while True:
            try:
                health = [BIN, "health", "--url", self.url] + (["--ca", self.ca] if self.ca else [])
                if subprocess.run(health, capture_output=True).returncode == 0:
                    break
            except OSError:
                pass
            assert self.process.poll() is None, f"the server {name} exited"
            assert time.time() < deadline, f"the server {name} did not become healthy"
            time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def client(url, key, ca=None):
    config = {"url": url, "basic.auth.user.info": f"ci:{key}"}
    if ca:
        config["ssl.ca.location"] = ca
    return SchemaRegistryClient(config)


def migrate(*args, check=True):
    result = subprocess.run([BIN, "migrate", *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"migrate failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


ADDRESS = json.dumps({"type": "record", "name": "Address", "namespace": "com.acme",
                      "fields": [{"name": "street", "type": "string"}]})
CUSTOMER = json.dumps({"type": "record", "name": "Customer", "namespace": "com.acme",
                       "fields": [{"name": "name", "type": "string"}, {"name": "address", "type": "com.acme.Address"}]})
COMMON_PROTO = 'syntax = "proto3";\npackage acme;\n\nmessage Money {\n  int64 units = 1;\n  string currency = 2;\n}\n'
PAYMENT_PROTO = ('syntax = "proto3";\npackage acme;\n\nimport "acme/money.proto";\n\n'
                 'message Payment {\n  string id = 1;\n  acme.Money amount = 2;\n}\n')
POINT_JSON = json.dumps({"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}})
SHAPE_JSON = json.dumps({"type": "object", "properties": {"origin": {"$ref": "point.json"}}})


def order(*fields):
    return json.dumps({"type": "record", "name": "Order", "fields": [{"name": n, "type": t, **({"default": d} if d is not None else {})} for n, t, d in fields]})


def fill(sr):
    """Everything the migration must carry, registered through the client."""
    sr.set_compatibility(level="FULL")
    sr.register_schema("orders-value", Schema(order(("id", "long", None)), "AVRO"))
    sr.register_schema("orders-value", Schema(order(("id", "long", None), ("note", "string", "")), "AVRO"))
    sr.register_schema("orders-value", Schema(order(("id", "long", None), ("note", "string", ""), ("qty", "int", 0)), "AVRO"))
    sr.delete_version("orders-value", 1)  # soft: the newest versions stay live
    # The same schema under a second subject: one id, two subjects.
    sr.register_schema("orders-copy-value", Schema(order(("id", "long", None)), "AVRO"))
    sr.register_schema("address", Schema(ADDRESS, "AVRO"))
    sr.register_schema("customer-value", Schema(CUSTOMER, "AVRO", [SchemaReference("com.acme.Address", "address", 1)]))
    sr.register_schema("money", Schema(COMMON_PROTO, "PROTOBUF"))
    sr.register_schema("payments-value", Schema(PAYMENT_PROTO, "PROTOBUF", [SchemaReference("acme/money.proto", "money", 1)]))
    sr.register_schema("point", Schema(POINT_JSON, "JSON"))
    sr.register_schema("shapes-value", Schema(SHAPE_JSON, "JSON", [SchemaReference("point.json", "point", 1)]))
    # Version numbers with a gap: version 2 is deleted for good.
    sr.set_compatibility("gaps-value", "NONE")
    for n in range(3):
        sr.register_schema("gaps-value", Schema(json.dumps({"type": "enum", "name": "E", "symbols": [f"S{i}" for i in range(n + 1)]}), "AVRO"))
    sr.delete_version("gaps-value", 2)
    sr.delete_version("gaps-value", 2, permanent=True)
    # A whole subject soft-deleted.
    sr.register_schema("retired-value", Schema('"string"', "AVRO"))
    sr.delete_subject("retired-value")
    # A context of its own, with its own ids.
    sr.register_schema(":.team:items-value", Schema(json.dumps({"type": "object", "properties": {"sku": {"type": "string"}}}), "JSON"))
    sr.set_compatibility("orders-value", "BACKWARD_TRANSITIVE")
    sr.update_mode("payments-value", "READONLY")
    sr.set_compatibility(":.team:", "FULL_TRANSITIVE")
    # A data contract: metadata and a rule set travel with the version.
    check = Rule("positive-id", "", RuleKind.CONDITION, RuleMode.WRITE, "CEL", None, None, "message.id > 0", None, None, False)
    sr.register_schema("contracts-value", Schema(order(("id", "long", None)), "AVRO", [],
                                                 Metadata(None, MetadataProperties({"owner": "payments"}), None),
                                                 RuleSet(None, [check])))


def contents(sr):
    """What a registry holds, read through the client: versions (with ids, types, texts, references and whether
    soft-deleted), subject levels and modes, the global level and mode."""
    found = {"versions": {}, "configs": {}, "modes": {}}
    subjects = sr.get_subjects(subject_prefix=":*:", deleted=True)
    contexts = sorted({s[: s.index(":", 2) + 1] for s in subjects if s.startswith(":.")})
    for scope in contexts:
        settings(sr, scope, found)
    for subject in subjects:
        live = set(sr.get_versions(subject)) if subject_live(sr, subject) else set()
        for version in sr.get_versions(subject, deleted=True):
            registered = sr.get_version(subject, version, deleted=True)
            schema = registered.schema
            found["versions"][(subject, version)] = (
                registered.schema_id, schema.schema_type, schema.schema_str,
                [(r.name, r.subject, r.version) for r in (schema.references or [])], version not in live,
                schema.metadata.to_dict() if schema.metadata else None,
                schema.rule_set.to_dict() if schema.rule_set else None)
        settings(sr, subject, found)
    found["global"] = (sr.get_compatibility(), sr.get_global_mode())
    return found


def settings(sr, scope, found):
    """A subject's or context's own level and mode, where it has them."""
    try:
        found["configs"][scope] = sr.get_compatibility(scope)
    except SchemaRegistryError as e:
        assert e.error_code == 40408, e
    try:
        found["modes"][scope] = sr.get_mode(scope)
    except SchemaRegistryError as e:
        assert e.error_code == 40409, e


def subject_live(sr, subject):
    try:
        sr.get_versions(subject)
        return True
    except SchemaRegistryError as e:
        assert e.error_code == 40401, e
        return False


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    directory = str(tmp_path_factory.mktemp("migrate"))
    source = Server(directory, "source", SOURCE_KEY, tls=True)
    target = Server(directory, "target", TARGET_KEY)
    yield directory, source, target
    source.stop()
    target.stop()


def from_source(source):
    return ["--from", source.url, "--from-basic", f"ci:{SOURCE_KEY}", "--from-ca", source.ca]


def test_a_migration_copies_everything_and_a_second_run_changes_nothing(servers):
    directory, source, target = servers
    source_client = client(source.url, SOURCE_KEY, source.ca)
    fill(source_client)
    expected = contents(source_client)
    assert len(expected["versions"]) == 15, expected["versions"].keys()
    assert expected["configs"][":.team:"] == "FULL_TRANSITIVE" and expected["modes"]["payments-value"] == "READONLY"
    assert expected["versions"][("contracts-value", 1)][5]["properties"] == {"owner": "payments"}
    assert ("gaps-value", 2) not in expected["versions"] and ("gaps-value", 3) in expected["versions"]
    to_target = ["--to", target.url, "--to-bearer", TARGET_KEY]
    target_client = client(target.url, TARGET_KEY)

    dry = migrate(*from_source(source), *to_target, "--dry-run")
    assert "would import customer-value version 1" in dry.stdout, dry.stdout
    assert "would soft-delete orders-value version 1" in dry.stdout, dry.stdout
    assert "nothing was changed" in dry.stdout, dry.stdout
    assert target_client.get_subjects(deleted=True) == [], "a dry run changes nothing"

    first = migrate(*from_source(source), *to_target)
    assert "imported 15 versions (0 already there)" in first.stdout, first.stdout
    assert "verified: 15 versions" in first.stdout, first.stdout
    assert contents(target_client) == expected
    # Ids answer the same schema on both sides, the context's ids in the context.
    for (subject, _), (schema_id, schema_type, text, *_) in expected["versions"].items():
        if subject.startswith(":.team:"):
            continue
        assert target_client.get_schema(schema_id).schema_str == text

    second = migrate(*from_source(source), *to_target)
    assert "imported 0 versions (15 already there), soft-deleted 0" in second.stdout, second.stdout
    assert contents(target_client) == expected



def test_a_rerun_repairs_what_an_interrupted_run_left_and_carries_the_sources_changes(servers):
    directory, source, target = servers
    source_client, target_client = client(source.url, SOURCE_KEY, source.ca), client(target.url, TARGET_KEY)
    # What a run killed half-way leaves: the target, a context and a subject in IMPORT.
    target_client.update_global_mode("IMPORT", force=True)
    target_client.update_mode(":.team:", "IMPORT", force=True)
    target_client.update_mode("orders-value", "IMPORT", force=True)
    # Meanwhile the source moved on: a READONLY subject (on both sides) got a version and lost one.
    source_client.update_mode("payments-value", "READWRITE")
    source_client.register_schema("payments-value", Schema(PAYMENT_PROTO.replace("}\n", "  string memo = 3;\n}\n"), "PROTOBUF",
                                                           [SchemaReference("acme/money.proto", "money", 1)]))
    source_client.delete_version("payments-value", 1)
    source_client.update_mode("payments-value", "READONLY")
    expected = contents(source_client)
    rerun = migrate(*from_source(source), "--to", target.url, "--to-bearer", TARGET_KEY)
    assert "imported 1 versions (15 already there), soft-deleted 1" in rerun.stdout, rerun.stdout
    assert "verified: 16 versions" in rerun.stdout, rerun.stdout
    assert contents(target_client) == expected
    assert target_client.get_global_mode() == "READWRITE"
    for scope in (":.team:", "orders-value"):
        with pytest.raises(SchemaRegistryError) as unset:
            target_client.get_mode(scope)
        assert unset.value.error_code == 40409, f"{scope} keeps no IMPORT of an earlier run"
    assert target_client.get_mode("payments-value") == "READONLY"


def test_a_migration_into_a_data_directory_gives_the_same_registry(servers):
    directory, source, _ = servers
    data_dir = os.path.join(directory, "offline-target")
    dry = migrate(*from_source(source), "--data-dir", data_dir, "--dry-run")
    assert "would import 16 versions" in dry.stdout, dry.stdout
    assert not os.path.exists(data_dir), "a dry run into a data directory creates nothing"
    result = migrate(*from_source(source), "--data-dir", data_dir)
    assert "verified: 16 versions" in result.stdout, result.stdout
    check = subprocess.run([BIN, "--data-dir", data_dir, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    # Served from that directory, it answers as the source does.
    port = free_port()
    process = subprocess.Popen([BIN, "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while subprocess.run([BIN, "health", "--url", url], capture_output=True).returncode != 0:
            assert time.time() < deadline and process.poll() is None
            time.sleep(0.1)
        assert contents(SchemaRegistryClient({"url": url})) == contents(client(source.url, SOURCE_KEY, source.ca))
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize("args, message", [
    (["--from-basic", "ci:wrong-key"], "401"),
    (["--from-basic", f"ci:{SOURCE_KEY}"], "certificate"),  # https without --from-ca: named, not guessed
])
def test_a_source_that_refuses_or_cannot_be_trusted_is_a_clear_error(servers, args, message):
    directory, source, target = servers
    extra = ["--from-ca", source.ca] if message == "401" else []
    result = migrate("--from", source.url, *args, *extra, "--to", target.url, "--to-bearer", TARGET_KEY, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert message in result.stderr, result.stderr


def test_an_unreachable_source_is_a_clear_error(tmp_path):
    result = migrate("--from", f"http://127.0.0.1:{free_port()}", "--data-dir", str(tmp_path / "data"), check=False)
    assert result.returncode == 1 and "cannot reach" in result.stderr, result.stderr


def test_after_a_migration_the_target_allocates_ids_past_the_migrated_ones_and_a_clash_is_reported(servers):
    directory, source, target = servers
    source_client, target_client = client(source.url, SOURCE_KEY, source.ca), client(target.url, TARGET_KEY)
    migrated = contents(target_client)["versions"]
    new = target_client.register_schema("after-value", Schema('"long"', "AVRO"))
    assert new > max(v[0] for (s, _), v in migrated.items() if not s.startswith(":.")), new
    # The source registers meanwhile and gets the same id for another schema: a later run reports it, and
    # overwrites nothing.
    clash = source_client.register_schema("clash-value", Schema('"double"', "AVRO"))
    assert clash == new
    result = migrate(*from_source(source), "--to", target.url, "--to-bearer", TARGET_KEY, check=False)
    assert result.returncode == 1, result.stdout
    assert f"failed: clash-value version 1 (id {clash})" in result.stdout, result.stdout
    assert "differs: clash-value version 1: missing on the target" in result.stdout, result.stdout
    assert target_client.get_schema(new).schema_str == '"long"'
