"""What the real-client tests share: the server they run against and clients for it.

The server's URL comes from `SCHEMA_REGISTRY_URL` (scripts/client-test.sh starts one and sets it), with
`SCHEMA_REGISTRY_CA` and `SCHEMA_REGISTRY_BASIC_AUTH` when it serves TLS and checks keys.
"""

import os

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient

URL = os.environ.get("SCHEMA_REGISTRY_URL")


def client_config():
    """The configuration of a client of the server under test: its URL, over TLS trusting SCHEMA_REGISTRY_CA and
    with SCHEMA_REGISTRY_BASIC_AUTH's `user:key`, when they are set; no retries, so a failure shows at once."""
    config = {"url": URL, "max.retries": 0}
    if os.environ.get("SCHEMA_REGISTRY_CA"):
        config["ssl.ca.location"] = os.environ["SCHEMA_REGISTRY_CA"]
    if os.environ.get("SCHEMA_REGISTRY_BASIC_AUTH"):
        config["basic.auth.user.info"] = os.environ["SCHEMA_REGISTRY_BASIC_AUTH"]
    return config


def new_client():
    """A client with empty caches, so every read really goes to the server."""
    return SchemaRegistryClient(client_config())


@pytest.fixture
def client():
    c = new_client()
    yield c
    c.close()
