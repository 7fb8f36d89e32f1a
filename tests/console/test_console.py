"""The web console (`/ui`) end to end, in a real headless Chromium driven through chromedriver.

One server (auth off) is filled over HTTP with Avro (a reference between subjects, a compatible evolution, an
incompatible version registered under NONE, a soft-deleted version), JSON Schema and Protobuf subjects, and enough
subjects to need a second page. Each view is opened as a person would and checked for what is visible: the subject
list and its paging, a version's text and references, the diff's marked violation, a check's verdict, a
validation error at its path, the overview's counts and charts. A second server has auth on: without a key the
login form shows and no data, a reader sees subjects but cannot edit the level or register, a writer's refused
registration shows the server's message. Every page is screenshotted into $CONSOLE_SCREENSHOTS, and the browser
console must hold no error (a CSP violation would be one).

Needs SCHEMA_REGISTRY_BIN (the binary under test), /usr/bin/chromium and /usr/bin/chromedriver.
"""

import base64
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

BIN = os.environ["SCHEMA_REGISTRY_BIN"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.environ.get("CONSOLE_SCREENSHOTS") or os.path.join(ROOT, "target", "console-screenshots")
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
READER_KEY = "console-reader-key"
WRITER_KEY = "console-writer-key"
BULK = 52  # with the five named subjects, two pages of 50


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hashed(key):
    return subprocess.run([BIN, "hash-key", key], check=True, capture_output=True, text=True).stdout.strip()


class Server:
    """A `schema-registry` process on a free port with its own data directory; auth on when given keys."""

    def __init__(self, directory, keys=None):
        os.makedirs(directory)
        self.url = f"http://127.0.0.1:{free_port()}"
        self.key = None
        args = [BIN, "--listen", self.url.removeprefix("http://"), "--data-dir", os.path.join(directory, "data")]
        if keys:
            path = os.path.join(directory, "keys")
            with open(path, "w") as f:
                f.writelines(f"{role} {hashed(key)} {name}\n" for role, key, name in keys)
            args += ["--auth-keys", path]
            self.key = next(key for role, key, _ in keys if role == "writer")
        self.log = open(os.path.join(directory, "server.log"), "w")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while subprocess.run([BIN, "health", "--url", self.url], capture_output=True).returncode != 0:
            assert self.process.poll() is None, "the server exited"
            assert time.time() < deadline, "the server did not become healthy"
            time.sleep(0.1)

    def call(self, method, path, body=None):
        """A JSON request; answers (status, decoded body)."""
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if self.key:
            request.add_header("X-API-Key", self.key)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        assert status < 300, f"{method} {path}: {status} {answer}"
        return answer

    def register(self, subject, schema, schema_type="AVRO", references=()):
        text = schema if isinstance(schema, str) else json.dumps(schema)
        return self.ok("POST", f"/subjects/{subject}/versions",
                       {"schema": text, "schemaType": schema_type, "references": list(references)})

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def order(*fields):
    return {"type": "record", "name": "Order", "namespace": "com.acme", "doc": "A placed order",
            "fields": [dict(name=n, type=t, **({"default": d} if d is not None else {})) for n, t, d in fields]}


ADDRESS = {"type": "record", "name": "Address", "namespace": "com.acme", "fields": [{"name": "street", "type": "string"}]}
CUSTOMER = {"type": "record", "name": "Customer", "namespace": "com.acme",
            "fields": [{"name": "name", "type": "string"}, {"name": "address", "type": "com.acme.Address"}]}
USER = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
        "required": ["name"]}
PAYMENT = ('syntax = "proto3";\npackage acme;\n\n// A payment of an order.\nmessage Payment {\n  string id = 1;\n'
           '  int64 amount = 2;\n  repeated string tags = 3;\n}\n')


def fill(server):
    """All three formats, a reference, a compatible evolution, an incompatible version under NONE, a soft delete,
    and enough subjects for two pages."""
    server.register("address", ADDRESS)
    server.register("customer-value", CUSTOMER, references=[{"name": "com.acme.Address", "subject": "address", "version": 1}])
    server.register("orders-value", order(("id", "long", None)))
    server.register("orders-value", order(("id", "long", None), ("note", "string", "")))  # compatible (BACKWARD)
    server.register("orders-value", order(("id", "long", None), ("note", "string", ""), ("status", "string", "")))
    server.ok("PUT", "/config/orders-value", {"compatibility": "NONE"})
    # Incompatible: a field without a default the new schema cannot fill from old data.
    server.register("orders-value", order(("id", "long", None), ("note", "string", ""), ("qty", "int", None)))
    server.ok("DELETE", "/subjects/orders-value/versions/1")
    server.register("user-value", USER, "JSON")
    server.register("payments-value", PAYMENT, "PROTOBUF")
    for n in range(BULK):
        server.register(f"bulk-{n:02}", {"type": "enum", "name": "E", "symbols": ["A"]})


def make_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return str(tmp_path_factory.mktemp("console"))


@pytest.fixture(scope="module")
def server(tmp):
    s = Server(os.path.join(tmp, "open"))
    fill(s)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def auth_server(tmp):
    s = Server(os.path.join(tmp, "auth"), keys=[("reader", READER_KEY, "ci-reader"), ("writer", WRITER_KEY, "ci-writer")])
    s.register("secret-orders", order(("id", "long", None)))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def driver():
    shutil.rmtree(SHOTS, ignore_errors=True)
    os.makedirs(SHOTS)
    d = make_driver()
    yield d
    d.quit()


def wait(driver, seconds=10):
    """An explicit wait; an element a view redrew meanwhile is looked up again."""
    return WebDriverWait(driver, seconds, ignored_exceptions=[StaleElementReferenceException])


def visible(driver, testid, seconds=10):
    return wait(driver, seconds).until(EC.visibility_of_element_located((By.CSS_SELECTOR, f'[data-testid="{testid}"]')))


def all_testid(driver, testid):
    return driver.find_elements(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def text_in(driver, testid, text, seconds=10):
    wait(driver, seconds).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, f'[data-testid="{testid}"]'), text))


def shot(driver, name):
    """The whole page (up to 2,400 px tall), as a person scrolling it would see it."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 2400), "scale": 1}
    png = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip})
    with open(os.path.join(SHOTS, f"{name}.png"), "wb") as f:
        f.write(base64.b64decode(png["data"]))


def console_errors(driver, allowed=()):
    """The browser console's errors since the last call (a CSP violation, a script error, a failed request),
    except those naming an expected status."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not any(a in entry["message"] for a in allowed)]


def test_subjects_list_search_filter_and_pages(server, driver):
    driver.get(server.url + "/ui")
    wait(driver).until(EC.url_contains("/ui/subjects"))
    text_in(driver, "subject-count", f"{BULK + 5} subjects")
    rows = all_testid(driver, "subject-row")
    assert len(rows) == 50
    assert [r.get_attribute("data-subject") for r in rows[:2]] == ["address", "bulk-00"]

    driver.find_element(By.CSS_SELECTOR, '[data-testid="page-next"]').click()
    wait(driver).until(EC.url_contains("page=2"))
    text_in(driver, "subject-count", f"{BULK + 5} subjects")
    wait(driver).until(lambda d: len(all_testid(d, "subject-row")) == BULK + 5 - 50)
    assert "page 2 of 2" in driver.find_element(By.TAG_NAME, "main").text
    names = [r.get_attribute("data-subject") for r in all_testid(driver, "subject-row")]
    assert {"customer-value", "orders-value", "payments-value", "user-value"} <= set(names)
    shot(driver, "subjects")  # the second page: all three formats

    # Back in history, then the format filter: the Protobuf subject alone.
    driver.back()
    wait(driver).until(lambda d: len(all_testid(d, "subject-row")) == 50)
    Select(visible(driver, "format-filter")).select_by_value("protobuf")
    text_in(driver, "subject-count", "1 subject")
    assert [r.get_attribute("data-subject") for r in all_testid(driver, "subject-row")] == ["payments-value"]

    # `/` focuses the search; a prefix search, then a text search (a field name inside a schema).
    driver.find_element(By.TAG_NAME, "body").send_keys("/")
    search = driver.switch_to.active_element
    assert search.get_attribute("data-testid") == "search-input"
    Select(visible(driver, "format-filter")).select_by_value("")
    text_in(driver, "subject-count", f"{BULK + 5} subjects")
    search = visible(driver, "search-input")
    search.send_keys("orders", Keys.ENTER)
    text_in(driver, "subject-count", "1 subject")
    driver.get(server.url + "/ui/subjects?q=street&mode=text")
    text_in(driver, "subject-count", "result")
    assert "address" in [r.get_attribute("data-subject") for r in all_testid(driver, "subject-row")]

    # `g o` goes to the overview.
    driver.find_element(By.TAG_NAME, "body").send_keys("g", "o")
    wait(driver).until(EC.url_contains("/ui/overview"))
    visible(driver, "overview-counts")
    assert console_errors(driver) == []


def test_subject_versions_level_and_links(server, driver):
    driver.get(server.url + "/ui/subjects/orders-value")
    text_in(driver, "subject-title", "orders-value")
    text_in(driver, "level", "NONE")
    assert visible(driver, "mode").text == "READWRITE"
    assert [r.get_attribute("data-version") for r in all_testid(driver, "version-row")] == ["4", "3", "2"]
    # Each version's registration time, in the browser's local time; the exact instant in its title.
    for cell in all_testid(driver, "registered"):
        assert cell.text not in ("", "—") and str(time.gmtime().tm_year) in cell.text, cell.text
        assert cell.get_attribute("title").endswith("Z"), cell.get_attribute("title")
    assert visible(driver, "whoami").text == "auth off"
    shot(driver, "subject")

    driver.find_element(By.LINK_TEXT, "Show deleted versions (1)").click()
    wait(driver).until(lambda d: len(all_testid(d, "version-row")) == 4)
    assert "deleted" in driver.find_element(By.CSS_SELECTOR, '[data-testid="version-row"][data-version="1"]').text

    # An admin (auth off) may change the level; the change is the server's.
    driver.get(server.url + "/ui/subjects/user-value")
    text_in(driver, "level", "BACKWARD")
    Select(visible(driver, "level-edit")).select_by_value("FULL")
    visible(driver, "level-edit").find_element(By.XPATH, "following-sibling::button").click()
    text_in(driver, "level", "FULL")
    assert server.ok("GET", "/config/user-value")["compatibilityLevel"] == "FULL"
    assert console_errors(driver) == []

    # A subject that does not exist: the server's message in the banner.
    driver.get(server.url + "/ui/subjects/no-such-subject")
    text_in(driver, "error", "not found")
    assert "no-such-subject" in visible(driver, "error").text
    assert console_errors(driver, allowed=("status of 404",)) == []


def test_version_text_references_and_referrers(server, driver):
    driver.get(server.url + "/ui/subjects/customer-value/versions/1")
    schema = visible(driver, "schema-text")
    assert '"name": "Customer"' in schema.text
    assert schema.find_elements(By.CSS_SELECTOR, ".k")  # keys highlighted
    link = visible(driver, "reference-link")
    assert link.text == "address v1"
    shot(driver, "version")
    link.click()
    wait(driver).until(EC.url_contains("/ui/subjects/address/versions/1"))
    text_in(driver, "schema-text", '"name": "Address"')
    text_in(driver, "referenced-by", "customer-value v1")

    driver.get(server.url + "/ui/subjects/payments-value/versions/1")
    schema = visible(driver, "schema-text")
    assert "message Payment {" in schema.text and "int64 amount = 2;" in schema.text
    assert {e.text for e in schema.find_elements(By.CSS_SELECTOR, ".kw")} >= {"message", "repeated", "syntax"}
    assert {e.text for e in schema.find_elements(By.CSS_SELECTOR, ".t")} >= {"string", "int64"}
    # The stored text is Confluent's printing of the file, which drops comments: none is left to highlight.
    assert "A payment of an order" not in schema.text and not schema.find_elements(By.CSS_SELECTOR, ".c")
    assert console_errors(driver) == []


def test_references_within_a_context_link_within_it(server, driver):
    """In a context of its own (ids numbered apart, references named within it), a reference links to the
    context's subject and the referrer is found by its id in that context."""
    server.register(":.team:address", ADDRESS)
    referrer = server.register(":.team:customer-value", CUSTOMER,
                               references=[{"name": "com.acme.Address", "subject": "address", "version": 1}])
    assert referrer["id"] == 2, referrer  # the context's second id, not the default context's
    try:
        driver.get(server.url + "/ui/subjects/%3A.team%3Acustomer-value/versions/1")
        link = visible(driver, "reference-link")
        assert link.text == ":.team:address v1"
        link.click()
        wait(driver).until(EC.url_contains("/ui/subjects/%3A.team%3Aaddress/versions/1"))
        text_in(driver, "referenced-by", ":.team:customer-value v1")
        assert console_errors(driver) == []
    finally:
        for subject in (":.team:customer-value", ":.team:address"):
            encoded = urllib.parse.quote(subject, safe="")
            server.ok("DELETE", f"/subjects/{encoded}")
            server.ok("DELETE", f"/subjects/{encoded}?permanent=true")


def test_diff_marks_the_violation_on_its_line(server, driver):
    driver.get(server.url + "/ui/subjects/orders-value/diff?from=3&to=4")
    left, right = visible(driver, "diff-left"), visible(driver, "diff-right")
    assert '"status"' in left.text and '"qty"' in right.text
    violation = visible(driver, "violation")
    assert violation.get_attribute("data-side") == "right"
    assert "qty" in violation.text and "backward" in violation.text
    line = int(violation.get_attribute("data-line"))
    marked = right.find_elements(By.CSS_SELECTOR, ".line.bad")
    assert marked and int(marked[0].get_attribute("data-n")) == line
    assert any('"qty"' in m.text for m in marked)
    # The removed field is marked on the old side.
    assert any('"status"' in m.text for m in left.find_elements(By.CSS_SELECTOR, ".line.del"))
    shot(driver, "diff")

    # The pickers: a compatible step (v2 -> v3) has no violation.
    picker = lambda name: Select(wait(driver).until(EC.element_to_be_clickable((By.NAME, name))))  # noqa: E731
    picker("from").select_by_value("2")
    wait(driver).until(EC.url_contains("from=2"))
    picker("to").select_by_value("3")
    wait(driver).until(EC.url_contains("to=3"))
    wait(driver).until(lambda d: "1 difference, 0 violations" in d.find_element(By.TAG_NAME, "main").text)
    assert not all_testid(driver, "violation")
    assert console_errors(driver) == []

    # A link may name versions as the API does: a semantic version, `latest`; one that no version has is said so.
    driver.get(server.url + "/ui/subjects/orders-value/diff?from=1.1.0&to=latest")
    wait(driver).until(lambda d: "v2 → v4" in d.find_element(By.TAG_NAME, "main").text)
    driver.get(server.url + "/ui/subjects/orders-value/diff?from=1&to=9.9.9")
    text_in(driver, "error", "no version 9.9.9")


def test_check_and_register(server, driver):
    driver.get(server.url + "/ui/subjects/address/check")
    box = visible(driver, "check-input")
    assert '"Address"' in box.get_attribute("value")
    zip_without_default = dict(ADDRESS, fields=ADDRESS["fields"] + [{"name": "zip", "type": "string"}])
    box.clear()
    box.send_keys(json.dumps(zip_without_default, indent=2))
    box.send_keys(Keys.CONTROL, Keys.ENTER)  # Ctrl+Enter submits
    text_in(driver, "check-verdict", "Incompatible at BACKWARD")
    assert "/fields/1" in visible(driver, "check-verdict").text
    shot(driver, "check")

    with_default = dict(ADDRESS, fields=ADDRESS["fields"] + [{"name": "zip", "type": "string", "default": ""}])
    box.clear()
    box.send_keys(json.dumps(with_default))
    visible(driver, "check-submit").click()
    text_in(driver, "check-verdict", "Compatible at BACKWARD")
    visible(driver, "register-submit").click()
    text_in(driver, "register-result", "Registered: version 2")
    assert console_errors(driver) == []


def test_validate_shows_each_error_at_its_path(server, driver):
    driver.get(server.url + "/ui/subjects/user-value/versions/1/validate")
    box = visible(driver, "validate-input")
    box.send_keys('{"name": 5, "age": "x"}')
    visible(driver, "validate-submit").click()
    text_in(driver, "validate-result", "Invalid: 2 errors")
    errors = {e.get_attribute("data-path"): e.text for e in all_testid(driver, "validation-error")}
    assert set(errors) == {"/name", "/age"}
    assert "string" in errors["/name"]
    shot(driver, "validate")
    box.clear()
    box.send_keys('{"name": "Ada", "age": 36}')
    visible(driver, "validate-submit").click()
    text_in(driver, "validate-result", "Valid.")
    assert console_errors(driver) == []


def test_overview_counts_caches_and_charts(server, driver):
    driver.get(server.url + "/ui/overview")
    text_in(driver, "overview-counts", f"Subjects\n{BULK + 5}")
    assert all_testid(driver, "cache-ratio") and all_testid(driver, "chart")
    # The second scrape (5 s later) gives rates: a number in a req/s cell.
    wait(driver, 15).until(lambda d: any(
        c.text.replace(".", "").isdigit() for c in d.find_elements(By.CSS_SELECTOR, "tr[data-route] td:nth-child(3)")))
    shot(driver, "overview")
    driver.find_element(By.TAG_NAME, "body").send_keys("g", "s")  # `g s`: back to the subjects
    wait(driver).until(EC.url_contains("/ui/subjects"))
    visible(driver, "subject-count")
    assert console_errors(driver) == []


def page_bytes(driver):
    """What loading the page transferred: the document, its script and style, and every API answer."""
    return driver.execute_script(
        "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
        ".reduce((sum, e) => sum + e.transferSize, 0)")


def test_every_page_loads_under_100_kb(server, driver):
    views = [("/ui/subjects", "subject-row"), ("/ui/subjects?q=order&mode=text", "subject-row"),
             ("/ui/subjects/orders-value", "version-row"), ("/ui/subjects/customer-value/versions/1", "referenced-by"),
             ("/ui/subjects/orders-value/diff?from=3&to=4", "violation"), ("/ui/subjects/address/check", "check-input"),
             ("/ui/subjects/user-value/versions/1/validate", "validate-input"), ("/ui/overview", "chart")]
    sizes = {}
    for path, testid in views:
        driver.get(server.url + path)
        visible(driver, testid)
        sizes[path] = page_bytes(driver)
    with open(os.path.join(SHOTS, "transfer.txt"), "w") as f:  # for the record: bytes per page
        f.writelines(f"{size:>7} {path}\n" for path, size in sizes.items())
    assert all(0 < size < 100_000 for size in sizes.values()), sizes
    assert console_errors(driver) == []


def test_auth_hides_data_until_a_key_and_roles_decide_what_shows(auth_server, driver):
    driver.get(auth_server.url + "/ui/subjects")
    visible(driver, "login")
    assert "secret-orders" not in driver.page_source
    shot(driver, "login")
    # A wrong key: the form again, saying so.
    visible(driver, "key-input").send_keys("not-a-key", Keys.ENTER)
    text_in(driver, "login", "refused")
    assert "secret-orders" not in driver.page_source

    key = visible(driver, "key-input")
    key.clear()
    key.send_keys(READER_KEY)
    visible(driver, "key-submit").click()
    row = visible(driver, "subject-row")
    assert row.get_attribute("data-subject") == "secret-orders"
    assert visible(driver, "whoami").text == "reader · ci-reader"
    driver.get(auth_server.url + "/ui/subjects/secret-orders")  # a new load keeps the key (session storage)
    text_in(driver, "level", "BACKWARD")
    assert not all_testid(driver, "level-edit") and not all_testid(driver, "mode-edit")
    driver.get(auth_server.url + "/ui/subjects/secret-orders/check")
    visible(driver, "check-submit")
    assert not all_testid(driver, "register-submit")

    # Forget the key, then a writer: a refused registration shows the server's message.
    driver.find_element(By.XPATH, "//button[text()='Forget key']").click()
    visible(driver, "key-input").send_keys(WRITER_KEY, Keys.ENTER)
    box = visible(driver, "check-input")
    assert visible(driver, "whoami").text == "writer · ci-writer"
    box.clear()
    box.send_keys(json.dumps(order(("id", "string", None))))
    visible(driver, "register-submit").click()
    text_in(driver, "register-result", "Schema being registered is incompatible")
    assert "Refused" in visible(driver, "register-result").text
    # Expected: the 401s before a key and of the wrong key, the 409 of the refusal.
    assert console_errors(driver, allowed=("status of 401", "status of 409")) == []
