"""The real-client test: Confluent's own Python client against a running schema-registry.

Drives `confluent_kafka.schema_registry.SchemaRegistryClient` and the Avro, JSON Schema and Protobuf
serializers exactly as an application would, with no Kafka broker: the serializers are called directly with a
`SerializationContext`. Expected answers are what Confluent Schema Registry gives for the same calls.

The server's URL comes from `SCHEMA_REGISTRY_URL` (scripts/client-test.sh starts one and sets it).
"""

import base64
import json
import struct
import uuid

import pytest
from confluent_kafka.schema_registry import (
    ConfigCompatibilityLevel,
    Schema,
    SchemaReference,
    SchemaRegistryError,
    ServerConfig,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, timestamp_pb2

from conftest import URL, new_client

pytestmark = pytest.mark.skipif(not URL, reason="SCHEMA_REGISTRY_URL is not set (run scripts/client-test.sh)")


# ----- helpers -----


def unique(prefix):
    """A subject or topic name no other test (or earlier run against the same server) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"



def expect_error(call, status, code=None):
    """Runs `call`, which must fail with the given HTTP status (and Confluent error code)."""
    with pytest.raises(SchemaRegistryError) as info:
        call()
    err = info.value
    assert err.http_status_code == status, f"expected HTTP {status}, got {err}"
    if code is not None:
        assert err.error_code == code, f"expected error code {code}, got {err}"
    return err


def framing(data):
    """(magic byte, schema id, payload) of a Confluent-framed record."""
    assert len(data) >= 5
    magic, schema_id = struct.unpack(">bI", data[:5])
    return magic, schema_id, data[5:]


# The schemas of one run are its own (a registry shared by several instances, or kept from an earlier run,
# already holds an earlier run's), so an id found by schema belongs to this run's subjects alone.
RUN_NAMESPACE = f"test.client.run{uuid.uuid4().hex[:12]}"


def avro_record(name, fields, namespace=RUN_NAMESPACE):
    return json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": fields})


USER_V1 = avro_record(
    "User",
    [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
    ],
)
# Adds a field with a default: BACKWARD compatible with v1.
USER_V2 = avro_record(
    "User",
    [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "email", "type": ["null", "string"], "default": None},
    ],
)
# Adds a field without a default: a v3 reader cannot read v1 data, so not BACKWARD compatible.
USER_BAD = avro_record(
    "User",
    [
        {"name": "name", "type": "string"},
        {"name": "age", "type": "int"},
        {"name": "country", "type": "string"},
    ],
)

ORDER_JSON = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Order",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "quantity": {"type": "integer", "minimum": 1},
            "price": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["id", "quantity"],
    }
)

PROTO_TEXT = """syntax = "proto3";
package test.client;

message Ping {
  string id = 1;
  int64 sent_at = 2;
  repeated string labels = 3;
}
"""


# ----- the client API -----


def test_schema_types(client):
    assert set(client.get_schema_types()) == {"AVRO", "JSON", "PROTOBUF"}


def test_avro_register_lookup_and_fetch(client):
    subject = unique("avro-value")
    schema = Schema(USER_V1, "AVRO")

    schema_id = client.register_schema(subject, schema)
    assert isinstance(schema_id, int) and schema_id > 0
    # The same schema again: the same id, no new version.
    assert new_client().register_schema(subject, schema) == schema_id
    # Formatting does not matter either.
    reformatted = Schema(json.dumps(json.loads(USER_V1), indent=2), "AVRO")
    assert new_client().register_schema(subject, reformatted) == schema_id
    assert new_client().get_versions(subject) == [1]

    found = new_client().lookup_schema(subject, schema)
    assert found.schema_id == schema_id
    assert found.subject == subject
    assert found.version == 1

    fetched = new_client().get_schema(schema_id)
    assert fetched.schema_type == "AVRO"
    assert json.loads(fetched.schema_str) == json.loads(USER_V1)
    assert not fetched.references

    assert subject in new_client().get_subjects()
    assert new_client().get_subjects(subject_prefix=subject) == [subject]
    assert new_client().get_subjects_by_schema_id(schema_id) == [subject]
    versions = new_client().get_schema_versions(schema_id)
    assert [(v.subject, v.version) for v in versions] == [(subject, 1)]

    latest = new_client().get_latest_version(subject)
    assert (latest.schema_id, latest.subject, latest.version) == (schema_id, subject, 1)
    assert json.loads(latest.schema.schema_str) == json.loads(USER_V1)

    v1 = new_client().get_version(subject, 1)
    assert (v1.schema_id, v1.subject, v1.version) == (schema_id, subject, 1)


def test_same_schema_in_two_subjects_shares_an_id(client):
    first, second = unique("shared-a"), unique("shared-b")
    schema = Schema(USER_V1, "AVRO")
    schema_id = client.register_schema(first, schema)
    assert new_client().register_schema(second, schema) == schema_id
    assert {first, second} <= set(new_client().get_subjects_by_schema_id(schema_id))


def test_pagination(client):
    prefix = unique("page")
    subjects = [f"{prefix}-{n}" for n in ("a", "b", "c")]
    # A schema of its own, so that its id is shared by these three subjects only.
    own = avro_record("Paged", [{"name": "n", "type": "long"}], namespace="test." + prefix.replace("-", "_"))
    schema_id = None
    for subject in subjects:
        schema_id = client.register_schema(subject, Schema(own, "AVRO"))
    client.set_compatibility(subjects[0], "NONE")
    client.register_schema(subjects[0], Schema(USER_BAD, "AVRO"))
    client.register_schema(subjects[0], Schema(USER_V2, "AVRO"))

    c = new_client()
    assert c.get_subjects(subject_prefix=prefix) == subjects
    assert c.get_subjects(subject_prefix=prefix, offset=1, limit=1) == subjects[1:2]
    assert c.get_subjects(subject_prefix=prefix, offset=1) == subjects[1:]
    assert c.get_subjects(subject_prefix=prefix, limit=2) == subjects[:2]
    assert c.get_versions(subjects[0]) == [1, 2, 3]
    assert c.get_versions(subjects[0], offset=1, limit=1) == [2]
    assert c.get_versions(subjects[0], offset=2) == [3]
    assert c.get_subjects_by_schema_id(schema_id, subject_name=None) == subjects
    assert c.get_subjects_by_schema_id(schema_id, offset=2, limit=5) == subjects[2:]
    pairs = c.get_schema_versions(schema_id, offset=1, limit=1)
    assert [(v.subject, v.version) for v in pairs] == [(subjects[1], 1)]


def test_mode(client):
    subject = unique("mode-value")
    client.register_schema(subject, Schema(USER_V1, "AVRO"))
    assert new_client().get_global_mode() == "READWRITE"
    # No subject-level mode yet: 404 40409.
    expect_error(lambda: new_client().get_mode(subject), 404, 40409)

    assert new_client().update_mode(subject, "READONLY") == "READONLY"
    assert new_client().get_mode(subject) == "READONLY"
    # Writes to a read-only subject: 422 42205; reads still work.
    expect_error(lambda: new_client().register_schema(subject, Schema(USER_V2, "AVRO")), 422, 42205)
    assert new_client().get_latest_version(subject).version == 1

    assert new_client().delete_mode(subject) == "READONLY"
    expect_error(lambda: new_client().get_mode(subject), 404, 40409)
    assert new_client().register_schema(subject, Schema(USER_V2, "AVRO")) > 0
    expect_error(lambda: new_client().update_mode(subject, "SIDEWAYS"), 422, 42204)


def test_normalize_flag(client):
    subject = unique("normalize-value")
    schema_id = client.register_schema(subject, Schema(USER_V1, "AVRO"), normalize_schemas=True)
    found = new_client().lookup_schema(subject, Schema(USER_V1, "AVRO"), normalize_schemas=True)
    assert (found.schema_id, found.version) == (schema_id, 1)
    assert new_client().test_compatibility(subject, Schema(USER_V2, "AVRO"), normalize=True) is True


def test_normalized_schemas_are_one_schema_and_stored_as_confluent_stores_them(client):
    topic = unique("normalized-topic")
    subject = f"{topic}-value"
    z_first = avro_record("Prop", [{"name": "f", "type": "double", "default": 1, "zprop": "z", "aprop": {"y": 1, "x": 2}}])
    a_first = avro_record("Prop", [{"name": "f", "type": "double", "default": 1.0, "aprop": {"x": 2, "y": 1}, "zprop": "z"}])
    schema_id = client.register_schema(subject, Schema(z_first, "AVRO"), normalize_schemas=True)
    assert new_client().register_schema(subject, Schema(a_first, "AVRO"), normalize_schemas=True) == schema_id
    assert new_client().get_versions(subject) == [1]
    # Stored normalized: properties sorted, the default typed by its field, as Confluent stores it.
    stored = json.loads(new_client().get_schema(schema_id).schema_str)
    assert list(stored["fields"][0]) == ["name", "type", "default", "aprop", "zprop"]
    assert stored["fields"][0]["default"] == 1.0 and isinstance(stored["fields"][0]["default"], float)

    # A serializer with normalize.schemas finds the same version, whichever order it holds.
    ctx = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(
        new_client(), a_first, conf={"auto.register.schemas": True, "normalize.schemas": True}
    )
    assert framing(serializer({"f": 2.5}, ctx))[1] == schema_id
    assert new_client().get_versions(subject) == [1]

    # Without normalize, Avro's own canonical text is stored: `{"type": "int"}` is `"int"`.
    plain = unique("plain-value")
    int_id = client.register_schema(plain, Schema('{"type": "int"}', "AVRO"))
    assert new_client().get_schema(int_id).schema_str == '"int"'
    assert new_client().register_schema(plain, Schema('"int"', "AVRO")) == int_id


def test_json_schema_register_lookup_and_fetch(client):
    subject = unique("json-value")
    schema = Schema(ORDER_JSON, "JSON")

    schema_id = client.register_schema(subject, schema)
    assert new_client().register_schema(subject, schema) == schema_id

    found = new_client().lookup_schema(subject, schema)
    assert (found.schema_id, found.subject, found.version) == (schema_id, subject, 1)

    fetched = new_client().get_schema(schema_id)
    assert fetched.schema_type == "JSON"
    assert json.loads(fetched.schema_str) == json.loads(ORDER_JSON)

    latest = new_client().get_latest_version(subject)
    assert latest.schema.schema_type == "JSON"
    assert latest.version == 1 and latest.schema_id == schema_id


def test_protobuf_register_lookup_and_fetch(client):
    subject = unique("proto-value")
    schema = Schema(PROTO_TEXT, "PROTOBUF")

    schema_id = client.register_schema(subject, schema)
    assert new_client().register_schema(subject, schema) == schema_id

    found = new_client().lookup_schema(subject, schema)
    assert (found.schema_id, found.subject, found.version) == (schema_id, subject, 1)

    fetched = new_client().get_schema(schema_id)
    assert fetched.schema_type == "PROTOBUF"
    assert "message Ping" in fetched.schema_str

    # What the Protobuf deserializer asks for: the descriptor, base64, with format=serialized.
    serialized = new_client().get_schema(schema_id, fmt="serialized")
    fdp = descriptor_pb2.FileDescriptorProto()
    fdp.ParseFromString(base64.b64decode(serialized.schema_str))
    assert fdp.package == "test.client"
    assert [m.name for m in fdp.message_type] == ["Ping"]
    assert [f.name for f in fdp.message_type[0].field] == ["id", "sent_at", "labels"]

    latest = new_client().get_latest_version(subject)
    assert latest.schema.schema_type == "PROTOBUF" and latest.schema_id == schema_id


def test_versions_and_latest(client):
    subject = unique("versions-value")
    id1 = client.register_schema(subject, Schema(USER_V1, "AVRO"))
    id2 = client.register_schema(subject, Schema(USER_V2, "AVRO"))
    assert id1 != id2

    c = new_client()
    assert c.get_versions(subject) == [1, 2]
    latest = c.get_latest_version(subject)
    assert (latest.version, latest.schema_id) == (2, id2)
    assert json.loads(latest.schema.schema_str) == json.loads(USER_V2)
    assert new_client().get_version(subject, 1).schema_id == id1
    assert new_client().get_version(subject, 2).schema_id == id2
    assert new_client().get_version(subject, "latest").version == 2
    assert new_client().get_version(subject, -1).version == 2

    # Looking up the older schema finds the older version.
    assert new_client().lookup_schema(subject, Schema(USER_V1, "AVRO")).version == 1


def test_compatibility(client):
    subject = unique("compat-value")
    client.register_schema(subject, Schema(USER_V1, "AVRO"))

    c = new_client()
    assert c.test_compatibility(subject, Schema(USER_V2, "AVRO")) is True
    assert c.test_compatibility(subject, Schema(USER_V2, "AVRO"), version=1) is True
    assert c.test_compatibility(subject, Schema(USER_BAD, "AVRO")) is False
    assert c.test_compatibility(subject, Schema(USER_BAD, "AVRO"), version="latest", verbose=True) is False
    assert c.test_compatibility_all_versions(subject, Schema(USER_V2, "AVRO")) is True
    assert c.test_compatibility_all_versions(subject, Schema(USER_BAD, "AVRO")) is False

    # Registering the incompatible schema is refused with 409; the subject is unchanged.
    expect_error(lambda: new_client().register_schema(subject, Schema(USER_BAD, "AVRO")), 409)
    assert new_client().get_versions(subject) == [1]

    # Under NONE it is accepted.
    new_client().set_compatibility(subject_name=subject, level="NONE")
    assert new_client().register_schema(subject, Schema(USER_BAD, "AVRO")) > 0
    assert new_client().get_versions(subject) == [1, 2]

    # An unknown version of the subject: 404 40402.
    expect_error(lambda: new_client().test_compatibility(subject, Schema(USER_V2, "AVRO"), version=42), 404, 40402)
    # A subject with no versions yet accepts anything (Confluent's testCompatibilityNonExistentSubject).
    missing = unique("compat-missing")
    assert new_client().test_compatibility(missing, Schema(USER_V2, "AVRO")) is True
    assert new_client().test_compatibility_all_versions(missing, Schema(USER_V2, "AVRO")) is True
    assert missing not in new_client().get_subjects()


def test_json_and_protobuf_compatibility(client):
    subject = unique("json-compat-value")
    client.register_schema(subject, Schema(ORDER_JSON, "JSON"))
    # Changing a property's type is not backward compatible.
    changed = json.loads(ORDER_JSON)
    changed["properties"]["quantity"] = {"type": "string"}
    assert new_client().test_compatibility(subject, Schema(json.dumps(changed), "JSON")) is False
    # Adding a property to an open content model is not either (old data may hold it with any value).
    added = json.loads(ORDER_JSON)
    added["properties"]["note"] = {"type": "string"}
    assert new_client().test_compatibility(subject, Schema(json.dumps(added), "JSON")) is False
    # Relaxing a constraint is: a reader without `minimum` accepts everything the old one did.
    relaxed = json.loads(ORDER_JSON)
    del relaxed["properties"]["quantity"]["minimum"]
    assert new_client().test_compatibility(subject, Schema(json.dumps(relaxed), "JSON")) is True

    subject = unique("proto-compat-value")
    client.register_schema(subject, Schema(PROTO_TEXT, "PROTOBUF"))
    with_field = PROTO_TEXT.replace("repeated string labels = 3;", "repeated string labels = 3;\n  string note = 4;")
    assert new_client().test_compatibility(subject, Schema(with_field, "PROTOBUF")) is True
    retyped = PROTO_TEXT.replace("string id = 1;", "int32 id = 1;")
    assert new_client().test_compatibility(subject, Schema(retyped, "PROTOBUF")) is False


def test_config_global_and_subject(client):
    subject = unique("config-value")
    client.register_schema(subject, Schema(USER_V1, "AVRO"))

    original = new_client().get_config()
    assert original.compatibility_level is not None
    assert new_client().get_compatibility() == original.compatibility_level.value
    try:
        answer = new_client().set_config(config=ServerConfig(compatibility=ConfigCompatibilityLevel.FULL))
        assert answer["compatibility"] == "FULL"
        assert new_client().get_config().compatibility_level == ConfigCompatibilityLevel.FULL
        assert new_client().get_compatibility() == "FULL"

        # set_compatibility is the older call for the same thing.
        assert new_client().set_compatibility(level="forward_transitive")["compatibility"] == "FORWARD_TRANSITIVE"
        assert new_client().get_config().compatibility_level == ConfigCompatibilityLevel.FORWARD_TRANSITIVE
    finally:
        new_client().set_config(config=ServerConfig(compatibility=original.compatibility_level))
    assert new_client().get_config().compatibility_level == original.compatibility_level

    # A subject without its own level: 404 40408, unless it asks for the global default.
    expect_error(lambda: new_client().get_config(subject), 404, 40408)

    answer = new_client().set_config(subject, ServerConfig(compatibility=ConfigCompatibilityLevel.NONE))
    assert answer["compatibility"] == "NONE"
    assert new_client().get_config(subject).compatibility_level == ConfigCompatibilityLevel.NONE
    assert new_client().get_compatibility(subject) == "NONE"
    # The global level is untouched.
    assert new_client().get_config().compatibility_level == original.compatibility_level

    # The subject level governs registration: NONE lets an incompatible schema in.
    assert new_client().test_compatibility(subject, Schema(USER_BAD, "AVRO")) is True
    assert new_client().register_schema(subject, Schema(USER_BAD, "AVRO")) > 0

    assert new_client().set_compatibility(subject, "BACKWARD_TRANSITIVE")["compatibility"] == "BACKWARD_TRANSITIVE"
    assert new_client().get_config(subject).compatibility_level == ConfigCompatibilityLevel.BACKWARD_TRANSITIVE

    deleted = new_client().delete_config(subject)
    assert deleted.compatibility_level == ConfigCompatibilityLevel.BACKWARD_TRANSITIVE
    expect_error(lambda: new_client().get_config(subject), 404, 40408)

    # An unknown level: 422 42203.
    expect_error(lambda: new_client().set_compatibility(subject, "SIDEWAYS"), 422, 42203)
    expect_error(lambda: new_client().set_compatibility(level="SIDEWAYS"), 422, 42203)


def test_delete_version_soft_and_permanent(client):
    subject = unique("delete-version-value")
    id1 = client.register_schema(subject, Schema(USER_V1, "AVRO"))
    id2 = client.register_schema(subject, Schema(USER_V2, "AVRO"))

    # Permanent delete before a soft delete: 404 40407.
    expect_error(lambda: new_client().delete_version(subject, 1, permanent=True), 404, 40407)

    assert new_client().delete_version(subject, 1) == 1
    assert new_client().get_versions(subject) == [2]
    assert new_client().get_versions(subject, deleted=True) == [1, 2]
    expect_error(lambda: new_client().get_version(subject, 1), 404, 40402)
    soft = new_client().get_version(subject, 1, deleted=True)
    assert (soft.version, soft.schema_id) == (1, id1)
    # The schema itself stays readable by id (old records must stay decodable).
    assert json.loads(new_client().get_schema(id1).schema_str) == json.loads(USER_V1)
    # Soft-deleting again: 404 40406.
    expect_error(lambda: new_client().delete_version(subject, 1), 404, 40406)

    assert new_client().delete_version(subject, 1, permanent=True) == 1
    assert new_client().get_versions(subject, deleted=True) == [2]
    expect_error(lambda: new_client().get_version(subject, 1, deleted=True), 404, 40402)
    assert new_client().get_latest_version(subject).schema_id == id2

    # An unknown version: 404 40402; an invalid one: 422 42202.
    expect_error(lambda: new_client().delete_version(subject, 7), 404, 40402)
    expect_error(lambda: new_client().get_version(subject, 0), 422, 42202)


def test_delete_subject_soft_and_permanent(client):
    subject = unique("delete-subject-value")
    client.register_schema(subject, Schema(USER_V1, "AVRO"))
    client.register_schema(subject, Schema(USER_V2, "AVRO"))

    # Permanent delete before a soft delete: 404 40405.
    expect_error(lambda: new_client().delete_subject(subject, permanent=True), 404, 40405)

    assert new_client().delete_subject(subject) == [1, 2]
    assert subject not in new_client().get_subjects()
    assert subject in new_client().get_subjects(deleted=True)
    expect_error(lambda: new_client().get_versions(subject), 404, 40401)
    expect_error(lambda: new_client().get_latest_version(subject), 404, 40401)
    assert new_client().get_versions(subject, deleted=True) == [1, 2]
    # A lookup that includes deleted versions still finds it.
    found = new_client().lookup_schema(subject, Schema(USER_V1, "AVRO"), deleted=True)
    assert found.version == 1
    # Soft-deleting again: 404 40404.
    expect_error(lambda: new_client().delete_subject(subject), 404, 40404)

    assert new_client().delete_subject(subject, permanent=True) == [1, 2]
    assert subject not in new_client().get_subjects(deleted=True)
    expect_error(lambda: new_client().get_versions(subject, deleted=True), 404, 40401)

    # The name can be reused afterwards, starting at version 1 again.
    new_client().register_schema(subject, Schema(USER_V2, "AVRO"))
    assert new_client().get_versions(subject) == [1]


def test_not_found_and_invalid(client):
    subject = unique("errors-value")
    expect_error(lambda: client.lookup_schema(subject, Schema(USER_V1, "AVRO")), 404, 40401)
    expect_error(lambda: new_client().get_versions(subject), 404, 40401)
    expect_error(lambda: new_client().get_latest_version(subject), 404, 40401)
    expect_error(lambda: new_client().delete_subject(subject), 404, 40401)

    new_client().register_schema(subject, Schema(USER_V1, "AVRO"))
    expect_error(lambda: new_client().lookup_schema(subject, Schema(USER_V2, "AVRO")), 404, 40403)
    expect_error(lambda: new_client().get_version(subject, 9), 404, 40402)
    expect_error(lambda: new_client().get_schema(2_000_000_000), 404, 40403)

    # Invalid schemas: 422 42201.
    expect_error(lambda: new_client().register_schema(subject, Schema('{"type": "recrod"}', "AVRO")), 422, 42201)
    expect_error(lambda: new_client().register_schema(subject, Schema("{not json", "AVRO")), 422, 42201)
    expect_error(lambda: new_client().register_schema(unique("errors-json"), Schema("[1, 2", "JSON")), 422, 42201)
    expect_error(
        lambda: new_client().register_schema(unique("errors-proto"), Schema("message {", "PROTOBUF")), 422, 42201
    )
    assert new_client().get_versions(subject) == [1]


def test_avro_references(client):
    address_subject = unique("address")
    person_subject = unique("person-value")
    address = avro_record(
        "Address", [{"name": "street", "type": "string"}, {"name": "city", "type": "string"}], namespace="test.ref"
    )
    person = avro_record(
        "Person",
        [{"name": "name", "type": "string"}, {"name": "home", "type": "test.ref.Address"}],
        namespace="test.ref",
    )
    address_id = client.register_schema(address_subject, Schema(address, "AVRO"))
    refs = [SchemaReference("test.ref.Address", address_subject, 1)]
    person_id = client.register_schema(person_subject, Schema(person, "AVRO", refs))

    fetched = new_client().get_schema(person_id)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == [("test.ref.Address", address_subject, 1)]
    latest = new_client().get_latest_version(person_subject)
    assert [(r.name, r.subject, r.version) for r in latest.schema.references] == [
        ("test.ref.Address", address_subject, 1)
    ]
    assert new_client().lookup_schema(person_subject, Schema(person, "AVRO", refs)).schema_id == person_id
    assert new_client().get_referenced_by(address_subject, 1) == [person_id]
    assert new_client().get_referenced_by(address_subject, 1, offset=1) == []

    # A referenced version cannot be deleted: 422 42206.
    expect_error(lambda: new_client().delete_version(address_subject, 1), 422, 42206)
    # Without its reference the schema does not resolve: 422 42201.
    expect_error(lambda: new_client().register_schema(unique("person-noref"), Schema(person, "AVRO")), 422, 42201)
    # A reference to a version that does not exist.
    bad_refs = [SchemaReference("test.ref.Address", address_subject, 5)]
    err = expect_error(lambda: new_client().register_schema(unique("person-badref"), Schema(person, "AVRO", bad_refs)), 422)
    assert err.error_code in (42201, 422)

    # Round trip through the serializers: the deserializer resolves the reference from the registry.
    topic = unique("person-topic")
    ctx = SerializationContext(topic, MessageField.VALUE)
    serializer = AvroSerializer(
        new_client(), Schema(person, "AVRO", refs), conf={"auto.register.schemas": True}
    )
    record = {"name": "Ada", "home": {"street": "1 Analytical Way", "city": "London"}}
    data = serializer(record, ctx)
    magic, schema_id, _ = framing(data)
    assert (magic, schema_id) == (0, person_id)
    assert AvroDeserializer(new_client())(data, ctx) == record
    assert address_id != person_id


# ----- serializers -----


def test_avro_serde_round_trip(client):
    topic = unique("avro-topic")
    subject = f"{topic}-value"
    ctx = SerializationContext(topic, MessageField.VALUE)

    serializer = AvroSerializer(client, USER_V2, conf={"auto.register.schemas": True})
    records = [
        {"name": "Ada", "age": 36, "email": "ada@example.com"},
        {"name": "Grace", "age": 85, "email": None},
        {"name": "", "age": -1, "email": "ünïcödé@example.com"},
    ]
    encoded = [serializer(r, ctx) for r in records]

    # The serializer registered the schema under the topic's value subject.
    registered = new_client().lookup_schema(subject, Schema(USER_V2, "AVRO"))
    assert registered.version == 1
    for data in encoded:
        magic, schema_id, _ = framing(data)
        assert (magic, schema_id) == (0, registered.schema_id)

    deserializer = AvroDeserializer(new_client())
    assert [deserializer(d, ctx) for d in encoded] == records

    # A reader schema: the v1 reader drops the field v2 added.
    reader = AvroDeserializer(new_client(), USER_V1)
    assert reader(encoded[0], ctx) == {"name": "Ada", "age": 36}

    # Evolution through the serializer: v1 writer data read back with the v2 reader's default.
    v1_serializer = AvroSerializer(new_client(), USER_V1, conf={"auto.register.schemas": True})
    old = v1_serializer({"name": "Old", "age": 1}, ctx)
    assert new_client().get_versions(subject) == [1, 2]
    assert AvroDeserializer(new_client(), USER_V2)(old, ctx) == {"name": "Old", "age": 1, "email": None}

    # With auto-registration off, the serializer looks the schema up and uses the same id.
    lookup_serializer = AvroSerializer(new_client(), USER_V2, conf={"auto.register.schemas": False})
    assert framing(lookup_serializer(records[0], ctx))[1] == registered.schema_id

    # use.latest.version serializes with the subject's latest version.
    latest_serializer = AvroSerializer(
        new_client(), None, conf={"auto.register.schemas": False, "use.latest.version": True}
    )
    latest_id = new_client().get_latest_version(subject).schema_id
    assert framing(latest_serializer({"name": "L", "age": 2}, ctx))[1] == latest_id


def test_json_serde_round_trip(client):
    topic = unique("json-topic")
    subject = f"{topic}-value"
    ctx = SerializationContext(topic, MessageField.VALUE)

    serializer = JSONSerializer(ORDER_JSON, client, conf={"auto.register.schemas": True})
    records = [
        {"id": "o-1", "quantity": 3, "price": 9.5, "tags": ["a", "b"]},
        {"id": "o-2", "quantity": 1},
    ]
    encoded = [serializer(r, ctx) for r in records]

    registered = new_client().lookup_schema(subject, Schema(ORDER_JSON, "JSON"))
    assert registered.version == 1
    for data in encoded:
        magic, schema_id, payload = framing(data)
        assert (magic, schema_id) == (0, registered.schema_id)
        assert json.loads(payload) in records

    deserializer = JSONDeserializer(None, schema_registry_client=new_client())
    assert [deserializer(d, ctx) for d in encoded] == records
    assert JSONDeserializer(ORDER_JSON, schema_registry_client=new_client())(encoded[0], ctx) == records[0]

    # The serializer validates against the schema before anything is sent.
    with pytest.raises(Exception):
        serializer({"id": "o-3", "quantity": 0}, ctx)


def _build_proto_message(file_name, package, with_timestamp=True, dependency=None):
    """Builds a message class at runtime (no protoc): `Event` in `file_name`, importing
    google/protobuf/timestamp.proto and, when given, a user file `dependency` with a `Meta` message."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(timestamp_pb2.DESCRIPTOR.serialized_pb)
    F = descriptor_pb2.FieldDescriptorProto

    deps = []
    if dependency is not None:
        dep = descriptor_pb2.FileDescriptorProto(name=dependency, package=package + ".common", syntax="proto3")
        meta = dep.message_type.add(name="Meta")
        meta.field.add(name="source", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
        meta.field.add(name="attempt", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
        pool.Add(dep)
        deps.append(dependency)
    if with_timestamp:
        deps.append("google/protobuf/timestamp.proto")

    fdp = descriptor_pb2.FileDescriptorProto(name=file_name, package=package, syntax="proto3", dependency=deps)
    event = fdp.message_type.add(name="Event")
    event.field.add(name="id", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    event.field.add(name="count", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    event.field.add(name="labels", number=3, type=F.TYPE_STRING, label=F.LABEL_REPEATED)
    if with_timestamp:
        event.field.add(
            name="at", number=4, type=F.TYPE_MESSAGE, type_name=".google.protobuf.Timestamp", label=F.LABEL_OPTIONAL
        )
    if dependency is not None:
        event.field.add(
            name="meta", number=5, type=F.TYPE_MESSAGE, type_name=f".{package}.common.Meta", label=F.LABEL_OPTIONAL
        )
    # A second message, so the message-index framing is exercised with a non-first message too.
    other = fdp.message_type.add(name="Other")
    other.field.add(name="note", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    pool.Add(fdp)
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Event")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.Other")),
    )


def _proto_round_trip(event_cls, topic, serializer_conf, fill):
    ctx = SerializationContext(topic, MessageField.VALUE)
    serializer = ProtobufSerializer(event_cls, new_client(), conf=serializer_conf)
    msg = event_cls(id="e-1", count=2**40, labels=["x", "y"])
    fill(msg)
    data = serializer(msg, ctx)
    magic, schema_id, _ = framing(data)
    assert magic == 0
    registered = new_client().get_latest_version(f"{topic}-value")
    assert registered.schema_id == schema_id
    assert registered.schema.schema_type == "PROTOBUF"

    deserializer = ProtobufDeserializer(event_cls, {"use.deprecated.format": False}, new_client())
    back = deserializer(data, ctx)
    assert back == msg
    assert back.SerializeToString(deterministic=True) == msg.SerializeToString(deterministic=True)
    return registered


def test_protobuf_serde_well_known_import(client):
    """A message importing google/protobuf/timestamp.proto, with the default skip.known.types: the import is
    not sent as a reference, so the server must know the well-known types itself (as Confluent does)."""
    tag = uuid.uuid4().hex[:12]
    event_cls, other_cls = _build_proto_message(f"test/wkt_{tag}/event.proto", f"test.wkt{tag}")
    topic = unique("proto-wkt-topic")

    def fill(msg):
        msg.at.seconds = 1_700_000_000
        msg.at.nanos = 123_000_000

    registered = _proto_round_trip(
        event_cls, topic, {"auto.register.schemas": True, "use.deprecated.format": False}, fill
    )
    assert not registered.schema.references

    # The second message of the file: same schema id, a non-zero message index.
    other_topic = unique("proto-wkt-other")
    ctx = SerializationContext(other_topic, MessageField.VALUE)
    data = ProtobufSerializer(other_cls, new_client(), conf={"use.deprecated.format": False})(other_cls(note="hi"), ctx)
    back = ProtobufDeserializer(other_cls, {"use.deprecated.format": False}, new_client())(data, ctx)
    assert back.note == "hi"


def test_protobuf_serde_with_references(client):
    """skip.known.types off: the serializer registers google/protobuf/timestamp.proto and a user dependency as
    subjects of their own and registers the message's schema with references to them; the deserializer resolves
    the references from the registry."""
    tag = uuid.uuid4().hex[:12]
    dependency = f"test/ref_{tag}/common.proto"
    event_cls, _ = _build_proto_message(f"test/ref_{tag}/event.proto", f"test.ref{tag}", dependency=dependency)
    topic = unique("proto-ref-topic")

    def fill(msg):
        msg.at.seconds = 42
        msg.meta.source = "client-test"
        msg.meta.attempt = 3

    registered = _proto_round_trip(
        event_cls,
        topic,
        {"auto.register.schemas": True, "use.deprecated.format": False, "skip.known.types": False},
        fill,
    )
    refs = {(r.name, r.subject, r.version) for r in registered.schema.references}
    assert (dependency, dependency, 1) in refs
    timestamp_refs = [r for r in registered.schema.references if r.name == "google/protobuf/timestamp.proto"]
    assert len(timestamp_refs) == 1 and timestamp_refs[0].subject == "google/protobuf/timestamp.proto"

    # The referenced schemas are subjects of their own, and know who references them.
    assert new_client().get_versions(dependency) == [1]
    assert new_client().get_referenced_by(dependency, 1) == [registered.schema_id]
    expect_error(lambda: new_client().delete_version(dependency, 1), 422, 42206)


def test_protobuf_serde_text_schema_registered_first(client):
    """An application registers .proto text itself; the serializer (auto-register off) finds the same schema
    from the descriptor it sends, as Confluent does by comparing the parsed schemas."""
    tag = uuid.uuid4().hex[:12]
    package = f"test.txt{tag}"
    file_name = f"test/txt_{tag}/event.proto"
    event_cls, _ = _build_proto_message(file_name, package, with_timestamp=False)
    topic = unique("proto-text-topic")
    subject = f"{topic}-value"
    text = f"""syntax = "proto3";
package {package};

message Event {{
  string id = 1;
  int64 count = 2;
  repeated string labels = 3;
}}
message Other {{
  string note = 1;
}}
"""
    schema_id = client.register_schema(subject, Schema(text, "PROTOBUF"))
    ctx = SerializationContext(topic, MessageField.VALUE)
    serializer = ProtobufSerializer(
        event_cls, new_client(), conf={"auto.register.schemas": False, "use.deprecated.format": False}
    )
    msg = event_cls(id="t", count=7, labels=["q"])
    data = serializer(msg, ctx)
    assert framing(data)[1] == schema_id
    assert ProtobufDeserializer(event_cls, {"use.deprecated.format": False}, new_client())(data, ctx) == msg

    # use.latest.version: the serializer reads the latest version with format=serialized and encodes with it.
    latest = ProtobufSerializer(
        event_cls,
        new_client(),
        conf={"auto.register.schemas": False, "use.latest.version": True, "use.deprecated.format": False},
    )
    data = latest(msg, ctx)
    assert framing(data)[1] == schema_id
    assert ProtobufDeserializer(event_cls, {"use.deprecated.format": False}, new_client())(data, ctx) == msg


def test_a_context_has_ids_of_its_own_and_a_consumer_reads_them_back(client):
    """A subject in a schema context (`:.ctx:name`) takes the context's ids, from 1, whatever the default context
    holds; a producer and a consumer whose subject name strategy puts their subjects in the context meet over the
    id alone (the consumer asks for it with its subject, and so in the context)."""
    context = "team" + uuid.uuid4().hex[:8]
    topic = unique("orders")

    def strategy(ctx, record_name):
        return f":.{context}:{ctx.topic}-value"

    # The default context's id 1 is some other schema by now (or becomes one here).
    client.register_schema(unique("default-value"), Schema('"string"', "AVRO"))
    order = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]})
    ctx = SerializationContext(topic, MessageField.VALUE)
    conf = {"auto.register.schemas": True, "subject.name.strategy": strategy}
    data = AvroSerializer(new_client(), order, conf=conf)({"id": 7}, ctx)
    assert framing(data)[1] == 1, "the context's first id"
    assert new_client().get_schema(1).schema_str != json.dumps(json.loads(order), separators=(",", ":"))
    deserializer = AvroDeserializer(new_client(), conf={"subject.name.strategy": strategy})
    assert deserializer(data, ctx) == {"id": 7}
    assert f":.{context}:{topic}-value" in client.get_subjects()
    registered = client.get_latest_version(f":.{context}:{topic}-value")
    assert (registered.schema_id, registered.version) == (1, 1)
