"""The MCP tools through the official MCP Python SDK, over both transports: streamable HTTP at the server's `/mcp`
(over TLS with a Basic-auth key too, when the run sets them) and stdio (`schema-registry mcp` on a data directory of
its own). Each answer is checked against the REST API's answer to the same question; bad input is a tool error
(`isError`) whose text names what to send.
"""

import asyncio
import base64
import json
import os
import tempfile
import uuid

import httpx
from confluent_kafka.schema_registry import Schema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamablehttp_client

from conftest import URL, new_client

BIN = os.environ.get("SCHEMA_REGISTRY_BIN")
TOOLS = {
    "search_schemas", "list_subjects", "get_schema", "get_versions", "check_compatibility", "explain_violation",
    "diff_schemas", "validate_data", "register_schema", "set_compatibility",
}


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def order(*fields):
    return json.dumps({"type": "record", "name": "Order", "fields": [{"name": n, "type": t} for n, t in fields]})


def http_client_factory(headers=None, timeout=None, auth=None):
    """The SDK's HTTP client, trusting the run's CA (over TLS) and sending its key (with auth on)."""
    headers = dict(headers or {})
    if os.environ.get("SCHEMA_REGISTRY_BASIC_AUTH"):
        token = base64.b64encode(os.environ["SCHEMA_REGISTRY_BASIC_AUTH"].encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    verify = os.environ.get("SCHEMA_REGISTRY_CA", True)
    return httpx.AsyncClient(headers=headers, timeout=timeout, auth=auth, verify=verify, follow_redirects=True)


async def over_http(work):
    async with streamablehttp_client(URL + "/mcp", httpx_client_factory=http_client_factory) as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


async def over_stdio(data_dir, work):
    parameters = StdioServerParameters(command=BIN, args=["mcp", "--data-dir", data_dir])
    async with stdio_client(parameters) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            return await work(session)


async def call(session, tool, **arguments):
    return await session.call_tool(tool, arguments)


def test_every_tool_over_http_answers_as_the_rest_api_does():
    client = new_client()
    subject = unique("orders-value")
    registered = client.register_schema(subject, Schema(order(("id", "long")), "AVRO"))

    async def work(session):
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        assert set(tools) == TOOLS
        assert all(tool.outputSchema for tool in tools.values()), "every tool says the shape of its answer"

        found = (await call(session, "search_schemas", query=subject)).structuredContent
        assert found["results"][0]["subject"] == subject and found["results"][0]["id"] == registered

        schema = (await call(session, "get_schema", subject=subject, version="latest")).structuredContent
        latest = client.get_latest_version(subject)
        assert (schema["id"], schema["version"], schema["schema"]) == (
            latest.schema_id, latest.version, latest.schema.schema_str,
        )
        by_id = (await call(session, "get_schema", id=registered)).structuredContent
        assert by_id["schema"] == client.get_schema(registered).schema_str

        versions = (await call(session, "get_versions", subject=subject)).structuredContent
        assert [v["version"] for v in versions["versions"]] == client.get_versions(subject)

        candidate = order(("id", "long"), ("note", "string"))
        verdict = (await call(session, "check_compatibility", subject=subject, schema=candidate)).structuredContent
        assert verdict["compatible"] is False
        assert verdict["compatible"] == client.test_compatibility(subject, Schema(candidate, "AVRO"))
        explained = (await call(session, "explain_violation", subject=subject, schema=candidate)).structuredContent
        assert "default" in explained["violations"][0]["fix"]

        diff = (await call(session, "diff_schemas", schema_type="AVRO", old=order(("id", "long")), new=candidate))
        assert diff.structuredContent["bump"] == "major"

        report = (await call(session, "validate_data", id=registered, data={"id": "not a number"})).structuredContent
        assert report["valid"] is False and report["reports"][0]["errors"][0]["path"] == "/id"

        # Bad input: a tool error naming what to send, never a crash of the session.
        missing = await call(session, "get_schema")
        assert missing.isError and "`id`" in missing.content[0].text
        unknown = await call(session, "get_versions", subject=unique("nobody"))
        assert unknown.isError and "40401" in unknown.content[0].text
        refused = await call(session, "register_schema", subject=subject, schema=candidate)
        assert refused.isError and "--mcp-writes" in refused.content[0].text

        # Resources: each subject's latest schema, and any version by template.
        from pydantic import AnyUrl

        listed = []
        cursor = None
        while True:
            page = await session.list_resources(cursor)
            listed.extend(str(resource.uri) for resource in page.resources)
            if not page.nextCursor:
                break
            cursor = page.nextCursor
        assert f"schema://{subject}/latest" in listed
        read = await session.read_resource(AnyUrl(f"schema://{subject}/1"))
        assert read.contents[0].text == client.get_version(subject, 1).schema.schema_str
        templates = (await session.list_resource_templates()).resourceTemplates
        assert templates[0].uriTemplate == "schema://{subject}/{version}"

        # Prompts for the two common tasks.
        prompts = {prompt.name for prompt in (await session.list_prompts()).prompts}
        assert prompts == {"evolve_schema", "make_output_valid"}
        prompt = await session.get_prompt("evolve_schema", {"subject": subject, "change": "add a coupon"})
        assert subject in prompt.messages[0].content.text
        return True

    assert asyncio.run(over_http(work))


def test_the_tools_over_stdio_on_a_data_directory():
    assert BIN, "SCHEMA_REGISTRY_BIN names the binary (scripts/client-test.sh sets it)"
    with tempfile.TemporaryDirectory() as data_dir:

        async def work(session):
            names = {tool.name for tool in (await session.list_tools()).tools}
            assert names == TOOLS
            empty = (await call(session, "list_subjects")).structuredContent
            assert empty["subjects"] == []
            dry = (await call(session, "register_schema", subject="a", schema='"int"', dry_run=True)).structuredContent
            assert dry["dry_run"] is True and dry["id"] is None
            refused = await call(session, "register_schema", subject="a", schema='"int"')
            assert refused.isError
            return True

        assert asyncio.run(over_stdio(data_dir, work))


def test_the_relay_from_stdio_to_the_running_server():
    """`schema-registry mcp --url` relays an assistant's stdio to this server's `/mcp` (over TLS trusting the run's
    CA, with its key, when the run sets them): the same answers as over HTTP."""
    assert BIN, "SCHEMA_REGISTRY_BIN names the binary (scripts/client-test.sh sets it)"
    client = new_client()
    subject = unique("relayed-value")
    registered = client.register_schema(subject, Schema(order(("id", "long")), "AVRO"))
    args = ["mcp", "--url", URL]
    if os.environ.get("SCHEMA_REGISTRY_CA"):
        args += ["--ca", os.environ["SCHEMA_REGISTRY_CA"]]
    if os.environ.get("SCHEMA_REGISTRY_BASIC_AUTH"):
        args += ["--api-key", os.environ["SCHEMA_REGISTRY_BASIC_AUTH"].split(":", 1)[1]]

    async def work():
        async with stdio_client(StdioServerParameters(command=BIN, args=args)) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                assert {tool.name for tool in (await session.list_tools()).tools} == TOOLS
                found = (await call(session, "get_schema", subject=subject)).structuredContent
                assert found["id"] == registered
                return True

    assert asyncio.run(work())
