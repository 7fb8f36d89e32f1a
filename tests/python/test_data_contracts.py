"""Data contracts with Confluent's own Python client and its rule executors (`confluent-kafka[rules]`).

The registry stores and serves the metadata and rule sets; the client runs the rules. Each case is one a
Confluent user relies on: a CEL condition that refuses a bad record, a CEL field transform, JSONata migrations
between major versions split by `compatibilityGroup` and chosen with `use.latest.with.metadata`, the schema GUID
carried in a message header instead of the id, and field-level encryption with keys kept in the registry's key
registry (`/dek-registry/v1`), wrapped by the client's local KMS. The serializers are called directly, with no
broker.

The server's URL comes from `SCHEMA_REGISTRY_URL` (scripts/client-test.sh starts one and sets it).
"""

import json
import uuid

import pytest
from confluent_kafka.schema_registry import (
    Metadata,
    MetadataProperties,
    Schema,
    SchemaRegistryClient,
    header_schema_id_serializer,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.rules.cel.cel_executor import CelExecutor
from confluent_kafka.schema_registry.rules.cel.cel_field_executor import CelFieldExecutor
from confluent_kafka.schema_registry.rules.encryption.dek_registry.dek_registry_client import DekRegistryClient
from confluent_kafka.schema_registry.rules.encryption.encrypt_executor import FieldEncryptionExecutor
from confluent_kafka.schema_registry.rules.encryption.localkms.local_driver import LocalKmsDriver
from confluent_kafka.schema_registry.rules.jsonata.jsonata_executor import JsonataExecutor
from confluent_kafka.schema_registry.schema_registry_client import (
    Rule,
    RuleKind,
    RuleMode,
    RuleParams,
    RuleSet,
    ServerConfig,
)
from confluent_kafka.schema_registry.serde import RuleConditionError
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError

from conftest import URL, client_config

pytestmark = pytest.mark.skipif(not URL, reason="SCHEMA_REGISTRY_URL is not set (run scripts/client-test.sh)")

CelExecutor.register()
CelFieldExecutor.register()
JsonataExecutor.register()
FieldEncryptionExecutor.register()
LocalKmsDriver.register()

RECORD = {
    "type": "record",
    "name": "order",
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "note", "type": "string"},
    ],
}


@pytest.fixture
def topic():
    """A topic (and so a `<topic>-value` subject) no other test or earlier run uses."""
    return f"contracts-{uuid.uuid4().hex[:12]}"


def rule(name, kind, mode, rule_type, expr):
    return Rule(name, "", kind, mode, rule_type, None, None, expr, None, None, False)


def latest_serializer(client):
    return AvroSerializer(client, schema_str=None, conf={"auto.register.schemas": False, "use.latest.version": True})


def test_a_cel_condition_refuses_a_bad_record_and_lets_a_good_one_through(client, topic):
    condition = rule("idPositive", RuleKind.CONDITION, RuleMode.WRITE, "CEL", "message.id > 0")
    registered = client.register_schema_full_response(
        f"{topic}-value", Schema(json.dumps(RECORD), "AVRO", [], None, RuleSet(None, [condition]))
    )
    assert registered.schema.rule_set.domain_rules[0].name == "idPositive"
    ctx = SerializationContext(topic, MessageField.VALUE)
    ser = latest_serializer(client)

    good = ser({"id": 5, "note": "ok"}, ctx)
    assert AvroDeserializer(client)(good, ctx) == {"id": 5, "note": "ok"}
    with pytest.raises(SerializationError) as refused:
        ser({"id": -5, "note": "bad"}, ctx)
    assert isinstance(refused.value.__cause__, RuleConditionError)


def test_a_cel_field_transform_rewrites_the_field_it_names(client, topic):
    transform = rule("suffix", RuleKind.TRANSFORM, RuleMode.WRITE, "CEL_FIELD", "name == 'note' ; value + '-checked'")
    client.register_schema(f"{topic}-value", Schema(json.dumps(RECORD), "AVRO", [], None, RuleSet(None, [transform])))
    ctx = SerializationContext(topic, MessageField.VALUE)
    data = latest_serializer(client)({"id": 1, "note": "hi"}, ctx)
    assert AvroDeserializer(client)(data, ctx) == {"id": 1, "note": "hi-checked"}


def test_jsonata_migrations_read_every_major_version_as_any_other(client, topic):
    """Three major versions of one subject, each in its own `application.version` group (so the breaking renames
    register), with JSONata rules up and down between neighbours: a record written as any version reads as any."""
    subject = f"{topic}-value"
    client.set_config(subject, ServerConfig(compatibility_group="application.version"))
    up_1_2 = "$merge([$sift($, function($v, $k) {$k != 'size'}), {'height': $.'size'}])"
    down_2_1 = "$merge([$sift($, function($v, $k) {$k != 'height'}), {'size': $.'height'}])"
    up_2_3 = "$merge([$sift($, function($v, $k) {$k != 'height'}), {'length': $.'height'}])"
    down_3_2 = "$merge([$sift($, function($v, $k) {$k != 'length'}), {'height': $.'length'}])"

    def version(name, field, label, rules):
        schema = {
            "type": "record",
            "name": name,
            "fields": [
                {"name": "name", "type": "string"},
                {"name": field, "type": "int"},
                {"name": "version", "type": "int"},
            ],
        }
        metadata = Metadata(None, MetadataProperties({"application.version": label}), None)
        rule_set = RuleSet(rules, None) if rules else None
        client.register_schema(subject, Schema(json.dumps(schema), "AVRO", [], metadata, rule_set))

    version("old", "size", "v1", [])
    version(
        "new",
        "height",
        "v2",
        [
            rule("rule1", RuleKind.TRANSFORM, RuleMode.UPGRADE, "JSONATA", up_1_2),
            rule("rule2", RuleKind.TRANSFORM, RuleMode.DOWNGRADE, "JSONATA", down_2_1),
        ],
    )
    version(
        "newer",
        "length",
        "v3",
        [
            rule("rule3", RuleKind.TRANSFORM, RuleMode.UPGRADE, "JSONATA", up_2_3),
            rule("rule4", RuleKind.TRANSFORM, RuleMode.DOWNGRADE, "JSONATA", down_3_2),
        ],
    )
    records = {
        "v1": {"name": "alice", "size": 123, "version": 1},
        "v2": {"name": "alice", "height": 123, "version": 1},
        "v3": {"name": "alice", "length": 123, "version": 1},
    }
    ctx = SerializationContext(topic, MessageField.VALUE)
    for written in records:
        conf = {
            "auto.register.schemas": False,
            "use.latest.version": False,
            "use.latest.with.metadata": {"application.version": written},
        }
        data = AvroSerializer(client, schema_str=None, conf=conf)(records[written], ctx)
        for read in records:
            deser = AvroDeserializer(client, conf={"use.latest.with.metadata": {"application.version": read}})
            assert deser(data, ctx) == records[read], f"written as {written}, read as {read}"


def test_the_schema_guid_travels_in_a_header_and_is_found_by_the_registry(client, topic):
    ctx = SerializationContext(topic, MessageField.VALUE, [])
    conf = {"auto.register.schemas": True, "schema.id.serializer": header_schema_id_serializer}
    data = AvroSerializer(client, schema_str=json.dumps(RECORD), conf=conf)({"id": 7, "note": "by guid"}, ctx)
    registered = client.get_latest_version(f"{topic}-value")
    guid_headers = [value for key, value in ctx.headers if key == "__value_schema_id"]
    assert len(guid_headers) == 1, ctx.headers
    # A version byte, then the 16 bytes of the GUID the registry gave the schema.
    assert uuid.UUID(bytes=guid_headers[0][1:]) == uuid.UUID(registered.guid)
    assert data[:1] != b"\x00", "the payload carries no id prefix"

    fresh = SchemaRegistryClient(client_config())
    try:
        assert AvroDeserializer(fresh)(data, ctx) == {"id": 7, "note": "by guid"}
        assert json.loads(fresh.get_schema_by_guid(registered.guid).schema_str) == RECORD
    finally:
        fresh.close()


def test_metadata_and_rules_come_back_from_every_read(client, topic):
    subject = f"{topic}-value"
    metadata = Metadata(None, MetadataProperties({"owner": "payments"}), None)
    condition = rule("idPositive", RuleKind.CONDITION, RuleMode.WRITE, "CEL", "message.id > 0")
    registered = client.register_schema_full_response(
        subject, Schema(json.dumps(RECORD), "AVRO", [], metadata, RuleSet(None, [condition]))
    )
    assert registered.guid
    # The same text without a contract inherits the newest version's: the same version.
    again = client.register_schema_full_response(subject, Schema(json.dumps(RECORD), "AVRO"))
    assert (again.schema_id, again.version) == (registered.schema_id, registered.version)

    by_id = client.get_schema(registered.schema_id)
    assert by_id.metadata.properties.properties == {"owner": "payments"}
    assert by_id.rule_set.domain_rules[0].expr == "message.id > 0"
    found = client.get_latest_with_metadata(subject, {"owner": "payments"})
    assert (found.schema_id, found.guid) == (registered.schema_id, registered.guid)


def test_a_field_tagged_pii_is_encrypted_with_keys_the_registry_keeps(client, topic):
    """The serializer creates a KEK and a DEK in the registry (the DEK wrapped by its local KMS), encrypts the
    tagged field, and a deserializer reads it back; the field is not in the message in the clear, and the registry
    holds only the wrapped key."""
    subject = f"{topic}-value"
    kek_name = f"kek-{uuid.uuid4().hex[:12]}"
    schema = {
        "type": "record",
        "name": "payment",
        "fields": [
            {"name": "id", "type": "int"},
            {"name": "card", "type": "string", "confluent:tags": ["PII"]},
        ],
    }
    params = {"encrypt.kek.name": kek_name, "encrypt.kms.type": "local-kms", "encrypt.kms.key.id": "mykey"}
    encrypt = Rule(
        "encryptPii",
        "",
        RuleKind.TRANSFORM,
        RuleMode.WRITEREAD,
        "ENCRYPT",
        ["PII"],
        RuleParams(params),
        None,
        None,
        "ERROR,NONE",
        False,
    )
    client.register_schema(subject, Schema(json.dumps(schema), "AVRO", [], None, RuleSet(None, [encrypt])))
    rule_conf = {"secret": "mysecret"}
    ctx = SerializationContext(topic, MessageField.VALUE)
    conf = {"auto.register.schemas": False, "use.latest.version": True}
    data = AvroSerializer(client, schema_str=None, conf=conf, rule_conf=rule_conf)({"id": 1, "card": "4111-1111"}, ctx)
    assert b"4111-1111" not in data

    assert AvroDeserializer(client, rule_conf=rule_conf)(data, ctx) == {"id": 1, "card": "4111-1111"}

    keys = DekRegistryClient(client_config())
    kek = keys.get_kek(kek_name)
    assert (kek.kms_type, kek.kms_key_id, kek.shared) == ("local-kms", "mykey", False)
    dek = keys.get_dek(kek_name, subject, version=1)
    assert dek.encrypted_key_material and dek.key_material is None, "the registry keeps only the wrapped key"
