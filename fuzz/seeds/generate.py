#!/usr/bin/env python3
"""Writes the checked-in seeds of the `registry` and `http` fuzz targets: python3 fuzz/seeds/generate.py

Their inputs are decoded with the `arbitrary` crate, so a seed is a sequence of operations (or requests) in its
encoding: a derived enum's variant is a little-endian u32 scaled to the variant count, an `Option` or `bool` one
byte, each element of a `Vec` preceded by a "one more" byte. The lists below mirror the targets' enums and tables
(fuzz_targets/registry.rs, fuzz_targets/http.rs), in order: change one, change the other, and check with
`cargo fuzz fmt <target> seeds/<target>/<name>` that each seed still decodes to what its comment says.
"""
import struct, os

def variant(k, n):
    # derive(Arbitrary) picks variant (u32 * n) >> 32
    v = ((k << 32) + n - 1) // n
    assert (v * n) >> 32 == k
    return struct.pack('<I', v)

def u8(x): return bytes([x])
def boolean(b): return u8(1 if b else 0)
def opt(x): return b'\x00' if x is None else b'\x01' + x
def vec(items): return b''.join(b'\x01' + i for i in items) + b'\x00'
def rest(items): return b''.join(b'\x01' + i for i in items)
def i64(x): return struct.pack('<q', x)
def u64(x): return struct.pack('<Q', x)

# ---- registry ----
OPS = ['Register','Import','Lookup','SchemaById','GetVersion','ListVersions','ListSubjects','VersionsForId',
       'DeleteVersion','DeleteSubject','SetConfig','DeleteConfig','SetMode','DeleteMode','Fail','FillDisk','Heal',
       'PowerCut','Reopen']
def op(name, *fields):
    return variant(OPS.index(name), len(OPS)) + b''.join(fields)
def reg(s, i): return op('Register', u8(s), u8(i))
def imp(s, i, id_, v): return op('Import', u8(s), u8(i), opt(None if id_ is None else u8(id_)), opt(None if v is None else u8(v)))
def lookup(s, i, d=0): return op('Lookup', u8(s), u8(i), u8(d))
def by_id(i): return op('SchemaById', u8(i))
def get(s, v=None, d=0): return op('GetVersion', u8(s), opt(None if v is None else u8(v)), u8(d))
def versions(s, d=1): return op('ListVersions', u8(s), u8(d))
def subjects(d=1): return op('ListSubjects', u8(d))
def uses(i, d=1): return op('VersionsForId', u8(i), u8(d))
def del_version(s, v, permanent): return op('DeleteVersion', u8(s), opt(None if v is None else u8(v)), boolean(permanent))
def del_subject(s, permanent): return op('DeleteSubject', u8(s), boolean(permanent))
def set_config(scope, level): return op('SetConfig', u8(scope), u8(level))
def del_config(scope): return op('DeleteConfig', u8(scope))
def set_mode(scope, mode, force): return op('SetMode', u8(scope), u8(mode), boolean(force))
def del_mode(scope): return op('DeleteMode', u8(scope))
READ, WRITE, SYNC, SETLEN = range(4)
def fail(o, after, times): return op('Fail', u8(o), u8(after), u8(times))
def fill(room): return op('FillDisk', u8(room))
HEAL, HEAL_WAIT, CUT, REOPEN = op('Heal', boolean(False)), op('Heal', boolean(True)), op('PowerCut'), op('Reopen')
GLOBAL = 3
NONE, BACKWARD, BACKWARD_T, FORWARD, FORWARD_T, FULL, FULL_T = range(7)
RW, RO, IMPORT = range(3)

def registry(caches, ops):
    return boolean(caches) + rest(ops)

seeds = {
  'registry': {
    # Register, dedup (also of a text differing in spacing only), one id across subjects, soft and permanent
    # deletes, re-registration after them.
    'versions-dedup-deletes': registry(False, [
        set_config(GLOBAL, NONE), reg(0, 0), reg(0, 1), reg(1, 0), reg(0, 4), lookup(0, 4), get(0), by_id(1),
        uses(1), del_version(0, 0, False), del_version(0, 0, True), reg(0, 0), versions(0), del_subject(1, False),
        subjects(2), del_subject(1, True), by_id(1), reg(2, 3)]),
    # Compatibility levels refuse and admit; subject levels over the global one.
    'compatibility-levels': registry(True, [
        reg(0, 0), reg(0, 2), reg(0, 1), set_config(0, FORWARD), reg(0, 2), set_config(GLOBAL, FULL_T),
        reg(1, 0), reg(1, 3), del_config(0), reg(0, 3), del_config(GLOBAL), reg(0, 5)]),
    # IMPORT mode: given ids and versions, their refusals, and the last id after which none is left.
    'import-mode': registry(False, [
        reg(0, 0), set_mode(GLOBAL, IMPORT, False), set_mode(GLOBAL, IMPORT, True), imp(1, 1, 4, 2),
        imp(1, 3, 4, None), imp(1, 3, 1, None), imp(1, 1, None, 2), imp(2, 5, 7, 5), reg(2, 6), set_mode(2, RO, False),
        reg(2, 0), del_mode(2), del_mode(GLOBAL), imp(0, 7, None, None), get(1, 2)]),
    # Writes fail until healed (and the registry serves again by itself), then a single failing sync (outcome unknown), then a power cut: what was
    # acknowledged survives, the rest is one of the two worlds.
    'write-faults-power-cut': registry(False, [
        reg(0, 0), reg(1, 1), fail(WRITE, 0, 255), reg(0, 1), get(0), HEAL_WAIT, reg(0, 1), fail(SYNC, 0, 1),
        reg(2, 5), reg(2, 5), del_version(0, None, False), CUT, get(2), versions(0)]),
    # A disk that fills up, with caches on; healed, then reopened.
    'disk-full': registry(True, [
        reg(0, 0), reg(0, 1), fill(0), reg(1, 5), reg(1, 6), set_config(1, NONE), HEAL, reg(1, 5), REOPEN, get(1),
        fill(4), reg(2, 7), reg(2, 0), CUT, subjects(1)]),
    # A finding: an import at an older version than a live one of the same schema, then a plain registration,
    # which answers the newest (the cached fast path answered the import's version).
    'import-older-version': registry(True, [
        set_mode(GLOBAL, IMPORT, True), imp(1, 1, 4, 2), imp(1, 1, None, 0), reg(1, 1), lookup(1, 1)]),
    # A finding: reads fail (the harness's own reads after the fault is armed), the fault is healed, and the next
    # operation met redb's "Previous I/O error" (a failed read was not noticed, so the database was not reopened).
    'read-fault-then-heal': registry(False, [reg(0, 0), reg(1, 1), fail(READ, 2, 1), HEAL_WAIT, get(0)]),
    # Reads failing a few times, growth failing, and a reopen with a fault armed.
    'read-faults-reopen': registry(True, [
        reg(0, 0), reg(1, 0), fail(READ, 3, 2), get(0), lookup(1, 0), by_id(1), fail(SETLEN, 0, 255), reg(2, 6),
        REOPEN, get(0, None, 1), HEAL, reg(2, 6), CUT]),
  },
}

# ---- http ----
ROUTES = ["/", "/schemas/types", "/schemas", "/schemas/ids/{}", "/schemas/ids/{}/schema", "/schemas/ids/{}/subjects",
    "/schemas/ids/{}/versions", "/subjects", "/subjects/{}", "/subjects/{}/versions", "/subjects/{}/versions/{}",
    "/subjects/{}/versions/{}/schema", "/subjects/{}/versions/{}/referencedby", "/compatibility/subjects/{}/versions/{}",
    "/compatibility/subjects/{}/versions", "/config", "/config/{}", "/mode", "/mode/{}", "/health", "/metrics",
    "/api/v1/schemas", "/api/v1/schemas/{}", "/api/v1/compatibility/check", "/api/v1/subjects/{}/versions",
    "/api/v1/validate/{}", "/api/v1/subjects/{}/versions/{}/validate"]
SEGMENTS = ["s", "orders-value", "1", "2", "latest", "-1", "0", "4294967296", "2147483648", "+1", "01", "%2F",
    "a%20b", ":.ctx:s", "%", "%ff", "..", "s%00", "%F0%9F%A6%80", ""]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "CONNECT"]
QUERY_KEYS = ["deleted", "deletedOnly", "permanent", "normalize", "verbose", "defaultToGlobal", "force",
    "subjectPrefix", "latestOnly", "offset", "limit", "format", "subject", "lookupDeletedSchema", "fetchMaxId", "deleted[]"]
QUERY_VALUES = ["true", "false", "", "TRUE", "x", "-1", "0", "10", "18446744073709551616", "serialized", "resolved", "%"]
CONTENT_TYPES = ["application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json", "application/json",
    "application/json; charset=utf-8", "APPLICATION/JSON", "application/octet-stream", "text/plain",
    "application/x-www-form-urlencoded", "", "application/json;;;", "multipart/form-data; boundary=x"]
KEYS = ["reader-key", "writer-key", "admin-key", "wrong", ""]
FIELDS = ["schema", "schemaType", "schema_type", "references", "id", "version", "compatibility", "compatibilityLevel",
    "mode", "subject", "level", "data", "items", "data_base64", "message", "name", "normalize"]
SCHEMA_TYPES = ["AVRO", "JSON", "PROTOBUF", "avro", "protobuf", "XML", ""]
LEVELS = ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE", "full", "X"]
MODES = ["READWRITE", "READONLY", "IMPORT", "READWRITE_OVERRIDE", "readonly"]

def json_(kind, *fields):
    kinds = ['Schema','SchemaType','Level','Mode','Reference','Number','Float','Text','Bool','Null','Array','Object']
    return variant(kinds.index(kind), len(kinds)) + b''.join(fields)
def J_schema(i): return json_('Schema', u8(i))
def J_type(t): return json_('SchemaType', u8(SCHEMA_TYPES.index(t)))
def J_level(l): return json_('Level', u8(LEVELS.index(l)))
def J_mode(m): return json_('Mode', u8(MODES.index(m)))
def J_ref(name, subject, version): return json_('Reference', u8(name), u8(SEGMENTS.index(subject)), i64(version))
def J_num(n): return json_('Number', i64(n))
def J_bool(b): return json_('Bool', boolean(b))
def J_array(items): return json_('Array', vec(items))
def J_object(fields): return json_('Object', vec([u8(FIELDS.index(k)) + v for k, v in fields]))

def req(method, route, segments=(), query=(), content_type=None, length='exact', auth=None, body=None, headers=()):
    out = variant(0, 2) + u8(METHODS.index(method))
    segs = list(segments) + ['s'] * (2 - len(segments))
    out += variant(0, 2) + u8(ROUTES.index(route)) + b''.join(variant(0, 3) + u8(SEGMENTS.index(s)) for s in segs) + boolean(False)
    out += vec([variant(0, 4) + u8(QUERY_KEYS.index(k)) + u8(QUERY_VALUES.index(v)) for k, v in query])
    out += opt(None if content_type is None else variant(0, 2) + u8(CONTENT_TYPES.index(content_type)))
    if length is None: out += opt(None)
    elif length == 'exact': out += opt(variant(0, 4))
    else: out += opt(variant(1, 4) + u64(length))
    if auth is None: out += opt(None)
    else:
        how, key = auth
        out += opt(variant(['ApiKey', 'Bearer', 'Basic'].index(how), 4) + u8(KEYS.index(key)))
    out += opt(None)  # request id
    out += vec([u8(n) + vec([u8(b) for b in v]) for n, v in headers])
    if body is None: out += variant(0, 4)
    elif isinstance(body, bytes): out += variant(3, 4) + vec([u8(b) for b in body])
    else: out += variant(1, 4) + vec([u8(FIELDS.index(k)) + v for k, v in body])
    return out

def http(auth, small, requests):
    return boolean(auth) + boolean(small) + rest(requests)

V1 = CONTENT_TYPES[0]
seeds['http'] = {
    # A registration, its reads every way, a lookup, and its deletes.
    'register-read-delete': http(False, False, [
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, body=[('schema', J_schema(0))]),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, body=[('schema', J_schema(0))]),
        req('GET', '/subjects/{}/versions/{}', ['s', 'latest']),
        req('GET', '/schemas/ids/{}', ['1']),
        req('GET', '/schemas/ids/{}/schema', ['1']),
        req('POST', '/subjects/{}', ['s'], content_type='application/json', body=[('schema', J_schema(0))]),
        req('DELETE', '/subjects/{}/versions/{}', ['s', '1']),
        req('DELETE', '/subjects/{}/versions/{}', ['s', '1'], query=[('permanent', 'true')]),
        req('GET', '/schemas/ids/{}', ['1']),
    ]),
    # Config and modes, good and bad values, a registration refused by READONLY and by a level.
    'config-mode': http(False, False, [
        req('PUT', '/config', content_type=V1, body=[('compatibility', J_level('FULL'))]),
        req('PUT', '/config/{}', ['s'], content_type=V1, body=[('compatibility', J_level('X'))]),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, body=[('schema', J_schema(0))]),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, body=[('schema', J_schema(2))]),
        req('PUT', '/mode', content_type=V1, body=[('mode', J_mode('READONLY'))]),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, body=[('schema', J_schema(1))]),
        req('GET', '/mode'),
        req('DELETE', '/config/{}', ['s']),
        req('PUT', '/mode', content_type=V1, body=[('mode', J_mode('IMPORT'))]),
    ]),
    # Auth on: no key, a reader's key as a Basic password, a reader writing, a writer's bearer token, a wrong key.
    'auth': http(True, False, [
        req('GET', '/subjects'),
        req('GET', '/subjects', auth=('Basic', 'reader-key')),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, auth=('ApiKey', 'reader-key'), body=[('schema', J_schema(0))]),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, auth=('Bearer', 'writer-key'), body=[('schema', J_schema(0))]),
        req('DELETE', '/subjects/{}', ['s'], auth=('ApiKey', 'writer-key')),
        req('GET', '/metrics', auth=('ApiKey', 'wrong')),
        req('GET', '/health'),
    ]),
    # Bad input: malformed JSON, a content type no client sends, declared lengths past the limit or off,
    # unknown routes and methods.
    'bad-input': http(False, True, [
        req('POST', '/subjects/{}/versions', ['s'], content_type='application/json', body=b'{not json'),
        req('POST', '/subjects/{}/versions', ['s'], content_type='text/plain', body=b'{}'),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, length=1 << 40, body=[('schema', J_schema(0))]),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, length=3, body=[('schema', J_schema(1))]),
        req('PATCH', '/subjects/{}/versions', ['s']),
        req('GET', '/subjects/{}/versions/{}', ['%ff', '2147483648']),
        req('GET', '/schemas/ids/{}', ['4294967296'], query=[('format', 'x'), ('deleted', 'x')]),
        req('PUT', '/config', content_type=V1, body=[('compatibility', J_num(3))]),
    ]),
    # The /api/v1 API: a JSON Schema registered as an object, validation of documents, versions.
    'api-v1': http(False, False, [
        req('POST', '/api/v1/schemas', content_type=V1,
            body=[('subject', J_schema(11)), ('schema', J_schema(5)), ('schema_type', J_type('JSON'))]),
        req('POST', '/api/v1/schemas', content_type=V1,
            body=[('subject', J_schema(3)), ('schema', J_schema(5)), ('schema_type', J_type('JSON'))]),
        req('POST', '/api/v1/validate/{}', ['1'], content_type=V1, body=[('data', J_object([('id', J_num(1))]))]),
        req('POST', '/api/v1/validate/{}', ['1'], content_type=V1, body=[('items', J_array([J_num(1), J_bool(True)]))]),
        req('GET', '/api/v1/subjects/{}/versions', ['s']),
        req('POST', '/api/v1/compatibility/check', content_type=V1,
            body=[('subject', J_schema(3)), ('schema', J_schema(6)), ('schema_type', J_type('JSON')), ('level', J_level('FULL'))]),
    ]),
    # A finding: a GET the server answers from memory (by id, latest) declaring a body past the limit answered 200
    # where the router answers 413.
    'declared-oversize-get': http(False, False, [
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1, body=[('schema', J_schema(0))]),
        req('GET', '/schemas/ids/{}', ['1'], length=72057594037928052),
        req('GET', '/subjects/{}/versions/{}', ['s', 'latest'], length=9999999999)]),
    # A finding: a method /metrics does not take answered a bare 405, without a JSON error.
    'put-metrics': http(False, False, [req('PUT', '/metrics'), req('DELETE', '/health')]),
    # References: a schema naming another subject's version, which then cannot be deleted.
    'references': http(False, False, [
        req('POST', '/subjects/{}/versions', ['orders-value'], content_type=V1, body=[('schema', J_schema(0))]),
        req('POST', '/subjects/{}/versions', ['s'], content_type=V1,
            body=[('schema', J_schema(9)), ('references', J_array([J_ref(1, 'orders-value', 1)]))]),
        req('GET', '/subjects/{}/versions/{}/referencedby', ['orders-value', '1']),
        req('DELETE', '/subjects/{}/versions/{}', ['orders-value', '1']),
        req('POST', '/compatibility/subjects/{}/versions/{}', ['s', 'latest'], content_type=V1,
            body=[('schema', J_schema(9)), ('references', J_array([J_ref(1, 'orders-value', 2)]))]),
    ]),
}

root = os.path.dirname(os.path.abspath(__file__))
for target, items in seeds.items():
    for name, data in items.items():
        with open(os.path.join(root, target, name), 'wb') as f:
            f.write(data)
print('ok')
