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
