// The schema registry's web console: a single-page app over the registry's REST APIs (Confluent's and /api/v1),
// served at /ui by registry-http/src/console.rs. Each view has its own URL under /ui (History API) and every link is
// a real <a href>. Everything shown comes from the APIs, asked with the key the person entered (kept in this tab's
// sessionStorage only). Data reaches the DOM through createElement and text nodes only, never innerHTML, and no
// inline script or style is needed: the page's content policy forbids both.
//
// Map: helpers (DOM, API) -> shell (header, errors, login, router, keyboard) -> formatting (JSON and Protobuf
// pretty-printed and highlighted, with each path's lines) -> one render function per view -> start.

const KEY_STORE = 'schema-registry-console-key';
const PAGE_SIZE = 50;
const SCRAPE_MS = 5000;
const LEVELS = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'];
const MODES = ['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT'];
const FORMATS = [['', 'any format'], ['avro', 'Avro'], ['json', 'JSON Schema'], ['protobuf', 'Protobuf']];

// ---- DOM helpers ----------------------------------------------------------------------------------------------

/** An element. Props are attributes, except `testid` (data-testid), `on*` (listeners) and `value`/`checked`
 *  (properties); false or null props and children are left out; strings become text nodes, never HTML. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value == null || value === false || name === 'value' || name === 'checked') continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name === 'testid' ? 'data-testid' : name, value === true ? '' : String(value));
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  if (props.value != null) el.value = props.value; // after the options, for a <select>
  if (props.checked) el.checked = true;
  return el;
}

/** An SVG element (the overview's charts). */
function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  el.append(...children);
  return el;
}

const enc = encodeURIComponent;

/** A reference's subject as the registry resolves it: in the referrer's context (`:.ctx:` of `:.ctx:name`) unless
 *  it names one of its own. */
function inContextOf(referrer, subject) {
  const context = /^:\.[^:]*:/.exec(referrer)?.[0];
  return context && !subject.startsWith(':.') ? context + subject : subject;
}
const link = (href, text, props = {}) => h('a', { href, ...props }, text);
const badge = (text, kind = '') => h('span', { class: `badge ${kind}` }, text);
const section = (title, ...children) => h('section', {}, h('h2', {}, title), ...children);
const num = (value) => h('td', { class: 'num' }, value);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const table = (heads, rows) => h('table', {}, h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))),
  h('tbody', {}, rows));

/** `path?query`, with the query's empty values left out. */
function withQuery(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v != null && v !== '' && v !== false) params.set(k, String(v));
  return params.size ? `${path}?${params}` : path;
}

/** The console's own URLs. */
const ui = {
  subjects: (query = {}) => withQuery('/ui/subjects', query),
  subject: (s, query = {}) => withQuery(`/ui/subjects/${enc(s)}`, query),
  version: (s, v) => `/ui/subjects/${enc(s)}/versions/${enc(v)}`,
  validate: (s, v) => `/ui/subjects/${enc(s)}/versions/${enc(v)}/validate`,
  diff: (s, from, to) => withQuery(`/ui/subjects/${enc(s)}/diff`, { from, to }),
  check: (s) => `/ui/subjects/${enc(s)}/check`,
  overview: () => '/ui/overview',
};

/** A value as a list shows it: strings as they are, the rest as JSON, cut at `max` characters. */
function brief(value, max = 90) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

// ---- The API --------------------------------------------------------------------------------------------------

/** An error answer: its HTTP status and the server's message. */
class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls the registry with the key and the header that keeps the browser's login dialog away: JSON (or text) in
 *  and out; an error answer throws ApiError with the server's `message`. */
async function api(path, { method = 'GET', body, text = false } = {}) {
  const headers = { 'X-Requested-With': 'schema-registry-console' };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers['X-API-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, `The registry did not answer (${e.message})`);
  }
  const raw = await response.text();
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = JSON.parse(raw).message || message;
    } catch { /* not JSON: the status line */ }
    throw new ApiError(response.status, message);
  }
  return text ? raw : raw ? JSON.parse(raw) : null;
}

const confluentSubject = (s) => `/subjects/${enc(s)}`;
const v1Subject = (s) => `/api/v1/subjects/${enc(s)}`;
const isAuthError = (e) => e.status === 401 || e.status === 403;

// ---- The shell: header, errors, login, router, keyboard -------------------------------------------------------

/** The page's parts, the view being drawn (`view`, a <main> not yet shown perhaps) and the caller (`me`). */
const shell = { header: null, banner: null, main: null, view: null, whoami: null, forget: null, me: null, pendingG: 0,
  focusSearch: false };

/** Who the caller is (GET /api/v1/whoami), asked once per key. */
async function caller() {
  shell.me ??= await api('/api/v1/whoami');
  showCaller();
}

const canWrite = () => ['writer', 'admin'].includes(shell.me?.role);
const isAdmin = () => shell.me?.role === 'admin';

function renderHeader() {
  shell.whoami = h('span', { testid: 'whoami', class: 'muted' });
  shell.forget = h('button', { type: 'button', class: 'quiet', hidden: true, onclick: forgetKey }, 'Forget key');
  shell.header = h('header', { class: 'top' },
    link(ui.subjects(), 'schema-registry', { class: 'brand' }),
    h('nav', { 'aria-label': 'views' },
      link(ui.subjects(), 'Subjects', { 'data-nav': 'subjects' }), link(ui.overview(), 'Overview', { 'data-nav': 'overview' })),
    h('span', { class: 'spacer' }), shell.whoami, shell.forget);
  return shell.header;
}

/** The caller in the header: role and key name, or "auth off". */
function showCaller() {
  const [me, key] = [shell.me, sessionStorage.getItem(KEY_STORE)];
  shell.whoami.textContent = !me ? (key ? 'key refused' : 'no key') : !me.auth ? 'auth off'
    : `${me.role}${me.name ? ` · ${me.name}` : ''}`;
  shell.forget.hidden = !key;
}

function forgetKey() {
  sessionStorage.removeItem(KEY_STORE);
  shell.me = null;
  route();
}

/** The error banner, with the server's message (cleared by the next view). */
function showError(message) {
  const banner = h('div', { class: 'banner', role: 'alert', testid: 'error' }, h('span', {}, message),
    h('button', { type: 'button', class: 'quiet', 'aria-label': 'dismiss', onclick: () => banner.remove() }, '×'));
  shell.banner.replaceChildren(banner);
}

/** An error on the page: 401 asks for a key, 403 says the role may not, the rest show the message. */
function handleError(error, main = shell.view) {
  if (main !== shell.view) return; // a view left behind
  if (!(error instanceof ApiError)) {
    console.warn(error);
    showError(`Something went wrong in the console: ${error.message}`);
  } else if (error.status === 401) {
    shell.me = null;
    showCaller();
    renderLogin(main, error.message);
  } else if (error.status === 403) {
    showError(`Not allowed: your key's role (${shell.me?.role ?? 'none'}) may not do this. ${error.message}`);
  } else {
    showError(error.message);
  }
}

/** The login form, in place of the view: the key goes to sessionStorage, then the view loads again. */
function renderLogin(main, message) {
  const refused = Boolean(sessionStorage.getItem(KEY_STORE));
  const input = h('input', { type: 'password', id: 'key', testid: 'key-input', required: true,
    autocomplete: 'current-password', placeholder: 'API key' });
  const submit = (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORE, input.value.trim());
    shell.me = null;
    route();
  };
  main.replaceChildren(h('form', { class: 'login card', testid: 'login', onsubmit: submit },
    h('h1', {}, 'API key needed'),
    h('p', {}, refused ? `The key was refused: ${message}` : 'This registry has auth on: enter an API key to continue.'),
    h('label', { for: 'key' }, 'Key'), input, h('button', { type: 'submit', testid: 'key-submit' }, 'Continue'),
    h('p', { class: 'muted' }, 'The key stays in this tab (session storage) and is sent as X-API-Key.')));
  document.title = 'API key · schema-registry';
  setTimeout(() => input.focus()); // once the view is on the page
}

/** The views: path pattern, render function, header entry. */
const ROUTES = [
  [/^\/ui\/subjects\/?$/, renderSubjects, 'subjects'],
  [/^\/ui\/subjects\/([^/]+)\/?$/, renderSubject, 'subjects'],
  [/^\/ui\/subjects\/([^/]+)\/versions\/([^/]+)\/?$/, renderVersion, 'subjects'],
  [/^\/ui\/subjects\/([^/]+)\/versions\/([^/]+)\/validate\/?$/, renderValidate, 'subjects'],
  [/^\/ui\/subjects\/([^/]+)\/diff\/?$/, renderDiff, 'subjects'],
  [/^\/ui\/subjects\/([^/]+)\/check\/?$/, renderCheck, 'subjects'],
  [/^\/ui\/overview\/?$/, renderOverview, 'overview'],
];

/** Draws the view the URL names into a fresh <main>, which replaces the page's once drawn (or after 250 ms, saying
 *  it is loading); a view left behind draws into a <main> never shown. */
async function route() {
  if (/^\/ui\/?$/.test(location.pathname)) history.replaceState(null, '', ui.subjects());
  const match = ROUTES.map(([re, render, nav]) => [re.exec(location.pathname), render, nav]).find(([m]) => m);
  const main = h('main', { id: 'main' });
  shell.view = main;
  shell.banner.replaceChildren();
  const show = () => {
    if (shell.view !== main || main.isConnected) return;
    shell.main.replaceWith(main);
    shell.main = main;
  };
  const slow = setTimeout(() => {
    if (!main.childElementCount) main.append(h('p', { class: 'muted' }, 'Loading…'));
    show();
  }, 250);
  for (const a of shell.header.querySelectorAll('nav a')) {
    if (a.dataset.nav === match?.[2]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    await caller();
    if (!match) throw new ApiError(404, `No view at ${location.pathname}`);
    await match[1](main, match[0].slice(1).map(decodeURIComponent), new URLSearchParams(location.search));
  } catch (error) {
    handleError(error, main);
    if (!main.childElementCount) main.append(h('p', {}, 'Nothing to show. ', link(ui.subjects(), 'To the subjects')));
  } finally {
    clearTimeout(slow);
    show();
  }
}

function navigate(url) {
  history.pushState(null, '', url);
  window.scrollTo(0, 0);
  route();
}

/** Same-origin /ui links navigate in place; modified clicks (new tab or window) are the browser's. */
function onClick(event) {
  const a = event.target.closest('a[href]');
  if (!a || event.defaultPrevented || event.button !== 0 || a.target) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/ui')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

/** `/` focuses the search, `g s` shows the subjects, `g o` the overview; Ctrl+Enter submits a textarea's form. */
function onKey(event) {
  const target = event.target;
  if (target.tagName === 'TEXTAREA' && event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    target.form?.requestSubmit();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || target.closest('input, textarea, select')) return;
  const afterG = shell.pendingG && Date.now() - shell.pendingG < 1500;
  shell.pendingG = event.key === 'g' ? Date.now() : 0;
  if (event.key === '/') {
    event.preventDefault();
    const search = document.querySelector('[data-testid="search-input"]');
    if (search) search.focus();
    else {
      shell.focusSearch = true;
      navigate(ui.subjects());
    }
  } else if (afterG && (event.key === 's' || event.key === 'o')) {
    navigate(event.key === 's' ? ui.subjects() : ui.overview());
  }
}

// ---- Formatting: a schema as lines of [class, text] tokens, and the lines each path spans -----------------------

const pointerSegment = (key) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

/** Pretty-prints JSON text, keeping its key order and number literals. Answers `{lines, at}`: `at` maps each
 *  value's JSON pointer to its [first, last] line (0-based; a member starts on its key's line); null if not JSON. */
function formatJson(text) {
  const token = /\s*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\]:,]))/y;
  const [lines, at, stack] = [[[]], new Map(), []];
  const emit = (cls, t) => lines.at(-1).push([cls, t]);
  const newline = () => {
    lines.push([]);
    if (stack.length) emit('', '  '.repeat(stack.length));
  };
  const line = () => lines.length - 1;
  const firstChild = (top) => {
    if (top.empty) newline();
    top.empty = false;
  };
  let m;
  while (token.lastIndex < text.length && (m = token.exec(text))) {
    const [, string, number, literal, punct] = m;
    const top = stack.at(-1);
    if (string && top && !top.array && top.expectKey) {
      firstChild(top);
      [top.key, top.expectKey] = [JSON.parse(string), false];
      emit('k', string);
      continue;
    }
    if (top?.array && (!punct || punct === '{' || punct === '[')) firstChild(top);
    const pointer = !top ? '' : `${top.pointer}/${top.array ? top.index : pointerSegment(top.key)}`;
    if (!punct) {
      at.set(pointer, [line(), line()]);
      // A diff names a string in an array (a `required` name) by the string, too.
      if (string && top?.array) at.set(`${top.pointer}/${pointerSegment(JSON.parse(string))}`, [line(), line()]);
      emit(string ? 's' : number ? 'n' : 'b', m[1] ?? m[2] ?? m[3]);
    } else if (punct === '{' || punct === '[') {
      emit('', punct);
      stack.push({ array: punct === '[', pointer, start: line(), index: 0, expectKey: true, empty: true });
    } else if (punct === '}' || punct === ']') {
      const open = stack.pop();
      if (!open || open.array !== (punct === ']')) return null;
      if (!open.empty) newline();
      emit('', punct);
      at.set(open.pointer, [open.start, line()]);
    } else if (punct === ':') {
      emit('', ': ');
    } else if (top) {
      emit('', ',');
      if (top.array) top.index++;
      else top.expectKey = true;
      newline();
    } else return null;
  }
  return stack.length || text.slice(token.lastIndex).trim() ? null : { lines, at };
}

const PROTO_KEYWORDS = new Set(('syntax edition package import public weak option message enum service rpc returns ' +
  'stream oneof map repeated optional required reserved extensions extend to max group true false').split(' '));
const PROTO_SCALARS = new Set(('double float int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 ' +
  'sfixed64 bool string bytes').split(' '));

/** Highlights Protobuf text (keywords, types, field numbers, strings, comments); `at` maps each message, enum,
 *  field and enum value's full name (`package.Message.field`) to its lines. */
function formatProto(text) {
  const re = /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')|(-?\b\d+\b)|([A-Za-z_][\w.]*)|(\s+|.)/g;
  const tokens = [];
  let line = 0;
  for (const [t, comment, string, number, ident] of text.matchAll(re)) {
    const cls = comment ? 'c' : string ? 's' : number ? 'n' : !ident ? '' : PROTO_KEYWORDS.has(t) ? 'kw'
      : PROTO_SCALARS.has(t) ? 't' : '';
    tokens.push({ t, cls, line, ident: Boolean(ident), code: !comment && t.trim() !== '' });
    line += t.split('\n').length - 1;
  }
  const code = tokens.filter((tok) => tok.code);
  code.forEach((tok, i) => { // a type: an identifier before a field name and `=`
    if (tok.ident && !tok.cls && code[i + 1]?.ident && code[i + 2]?.t === '=') tok.cls = 't';
  });
  const lines = [[]];
  for (const tok of tokens) {
    tok.t.split('\n').forEach((part, i) => {
      if (i > 0) lines.push([]);
      if (part) lines.at(-1).push([tok.cls, part]);
    });
  }
  return { lines, at: protoNames(code) };
}

/** Full name -> [first, last] line of each declaration among Protobuf code tokens. */
function protoNames(code) {
  const [at, scopes] = [new Map(), []]; // scopes: {name, kind, start}; a oneof's name is no part of full names
  let pkg = '';
  const prefix = () => [pkg, ...scopes.filter((s) => s.name && s.kind !== 'oneof').map((s) => s.name)].filter(Boolean);
  for (let i = 0; i < code.length; i++) {
    const tok = code[i];
    if (tok.t === 'package' && code[i + 1]) pkg = code[i + 1].t;
    else if (['message', 'enum', 'oneof', 'service', 'extend'].includes(tok.t) && code[i + 2]?.t === '{') {
      scopes.push({ name: code[i + 1].t, kind: tok.t, start: tok.line });
      i += 2;
    } else if (tok.t === '{') scopes.push({ start: tok.line });
    else if (tok.t === '}') {
      const scope = scopes.pop();
      if (scope?.name) at.set([...prefix(), scope.name].join('.'), [scope.start, tok.line]);
    } else if (tok.ident && code[i + 1]?.t === '=' && code[i + 2]?.cls === 'n' && scopes.length) {
      const names = prefix();
      if (scopes.at(-1).kind === 'enum') at.set([...names.slice(0, -1), tok.t].join('.'), [tok.line, tok.line]);
      at.set([...names, tok.t].join('.'), [tok.line, tok.line]);
    }
  }
  return at;
}

/** A schema formatted for its format: `{lines, at, proto}` (plain lines when it does not parse). */
function formatSchema(text, schemaType) {
  const proto = String(schemaType).toLowerCase() === 'protobuf';
  const formatted = proto ? formatProto(text.trimEnd()) : formatJson(text);
  return { proto, ...(formatted ?? { lines: text.split('\n').map((l) => [['', l]]), at: new Map() }) };
}

/** The lines a path names: its own, else those of the nearest element holding it. */
function linesOf(formatted, path) {
  let p = String(path ?? '').replace(/^#?\/?$|^#/, '');
  const sep = formatted.proto ? '.' : '/';
  while (!formatted.at.has(p)) {
    const cut = p.lastIndexOf(sep);
    if (cut < 0) return formatted.at.get('') ?? [0, 0];
    p = p.slice(0, cut);
  }
  return formatted.at.get(p);
}

/** A JSON pointer into `from` carried into `to`, array elements matched as the diff matches them: by `name`
 *  (Avro fields, symbols) or by value (strings), else by position. */
function carryPointer(path, from, to) {
  const out = [];
  for (const raw of path.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    let next = key;
    if (Array.isArray(from) && Array.isArray(to)) {
      const nameOf = (x) => (x && typeof x === 'object' ? x.name : x);
      const found = to.findIndex((x) => nameOf(x) === nameOf(from[key]));
      if (nameOf(from[key]) !== undefined && found >= 0) next = String(found);
    }
    out.push(pointerSegment(next));
    [from, to] = [from?.[key], to?.[next]];
    if (to === undefined) break;
  }
  return out.map((s) => `/${s}`).join('');
}

/** A formatted schema as a <pre>, a block per line, numbered by CSS from `data-n`. */
function codeBlock(formatted, props = {}) {
  return h('pre', { class: 'code', tabindex: 0, ...props }, formatted.lines.map((tokens, i) =>
    h('span', { class: 'line', 'data-n': i + 1 }, tokens.map(([cls, t]) => (cls ? h('span', { class: cls }, t) : t)))));
}

const plainText = (formatted) => formatted.lines.map((tokens) => tokens.map(([, t]) => t).join('')).join('\n');

// ---- Views: render(main, path params, query) ------------------------------------------------------------------

/** /ui/subjects?q=&mode=prefix|text&format=&deleted=&page=: a page of 50 subjects by name prefix
 *  (GET /api/v1/subjects) or by text (GET /api/v1/search). */
async function renderSubjects(main, _params, query) {
  const state = { q: query.get('q') ?? '', mode: query.get('mode') === 'text' ? 'text' : '', format: query.get('format') ?? '',
    deleted: query.get('deleted') === 'true' ? 'true' : '', page: Math.max(1, Number.parseInt(query.get('page'), 10) || 1) };
  const [offset, text] = [(state.page - 1) * PAGE_SIZE, state.mode === 'text' && state.q.trim() !== ''];
  const answer = text
    ? await api(withQuery('/api/v1/search', { q: state.q, schema_type: state.format, offset, limit: PAGE_SIZE }))
    : await api(withQuery('/api/v1/subjects',
      { prefix: state.q, schema_type: state.format, deleted: state.deleted, offset, limit: PAGE_SIZE }));
  const rows = text ? answer.results.map(searchRow) : answer.subjects.map(subjectRow);
  main.replaceChildren(
    h('h1', {}, 'Subjects'),
    subjectsForm(state),
    h('p', { class: 'muted', testid: 'subject-count' }, plural(answer.total, text ? 'result' : 'subject'),
      text ? ` for “${state.q}”` : state.q ? ` starting with “${state.q}”` : ''),
    !rows.length ? h('p', { class: 'muted' }, 'Nothing here.') : text
      ? table(['Subject', 'Version', 'Format', 'Score', 'Matched'], rows)
      : table(['Subject', 'Format', 'Versions', 'Latest', 'State'], rows),
    pager(state, answer.total));
  document.title = 'Subjects · schema-registry';
  if (shell.focusSearch) setTimeout(() => main.querySelector('[data-testid="search-input"]').focus());
  shell.focusSearch = false;
}

/** The search form; submitting it (or changing a choice) loads its URL. */
function subjectsForm(state) {
  const form = h('form', { class: 'toolbar', role: 'search' },
    h('input', { type: 'search', name: 'q', value: state.q, testid: 'search-input', 'aria-label': 'search subjects',
      placeholder: 'Search subjects (press /)', autocomplete: 'off' }),
    h('select', { name: 'mode', 'aria-label': 'search by', value: state.mode },
      h('option', { value: '' }, 'name prefix'), h('option', { value: 'text' }, 'text: names, fields, docs')),
    h('select', { name: 'format', testid: 'format-filter', 'aria-label': 'format', value: state.format },
      FORMATS.map(([value, label]) => h('option', { value }, label))),
    h('label', {}, h('input', { type: 'checkbox', name: 'deleted', value: 'true', checked: state.deleted,
      disabled: state.mode === 'text' }), ' deleted too'),
    h('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate(ui.subjects(Object.fromEntries(new FormData(form))));
  });
  form.addEventListener('change', (event) => event.target.type !== 'search' && form.requestSubmit());
  return form;
}

function subjectRow(s) {
  return h('tr', { testid: 'subject-row', 'data-subject': s.subject },
    h('td', {}, link(ui.subject(s.subject, { deleted: s.deleted }), s.subject), s.deleted && badge('deleted', 'warn')),
    h('td', {}, s.schema_type), num(s.versions),
    h('td', {}, link(ui.version(s.subject, s.latest.version), `v${s.latest.version}`), ` ${s.latest.semver}`),
    h('td', {}, s.latest.state));
}

function searchRow(r) {
  return h('tr', { testid: 'subject-row', 'data-subject': r.subject },
    h('td', {}, link(ui.subject(r.subject), r.subject)), h('td', {}, link(ui.version(r.subject, r.version), `v${r.version}`)),
    h('td', {}, r.schema_type), num(r.score),
    h('td', {}, r.matches.map((m) => h('span', { class: 'match' }, badge(m.kind), m.text, m.path && h('code', {}, ` ${m.path}`)))));
}

/** Previous and next page links. */
function pager(state, total) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const to = (page, label, props) => (page >= 1 && page <= pages
    ? link(ui.subjects({ ...state, page: page > 1 && page }), label, props) : h('span', { class: 'muted' }, label));
  return h('nav', { class: 'pager', 'aria-label': 'pages' }, to(state.page - 1, '← Previous', { testid: 'page-prev' }),
    `page ${state.page} of ${pages}`, to(state.page + 1, 'Next →', { testid: 'page-next' }));
}

/** The breadcrumb and title of a subject's views. */
const heading = (subject, title, ...crumbs) => [
  h('p', { class: 'crumbs' }, link(ui.subjects(), 'Subjects'), ' / ', link(ui.subject(subject), subject), crumbs.map((c) => [' / ', c])),
  h('h1', { testid: 'subject-title' }, subject, title && h('span', { class: 'muted' }, ` ${title}`))];

/** /ui/subjects/{subject}: versions (GET /api/v1/subjects/{s}/versions), level and mode (GET /config/{s},
 *  /mode/{s}; PUT when the role may), links to each version, the diff and the check. */
async function renderSubject(main, [subject], query) {
  const showDeleted = query.get('deleted') === 'true';
  const [versions, config, mode] = await Promise.all([api(`${v1Subject(subject)}/versions`),
    api(`/config/${enc(subject)}?defaultToGlobal=true`), api(`/mode/${enc(subject)}?defaultToGlobal=true`)]);
  const live = versions.filter((v) => !v.deleted);
  const [latest, previous, deleted] = [live.at(-1), live.at(-2), versions.length - live.length];
  const schema = latest && await api(`${confluentSubject(subject)}/versions/${latest.version}`);
  const put = (path, body) => api(`${path}/${enc(subject)}`, { method: 'PUT', body });
  main.replaceChildren(
    ...heading(subject),
    h('div', { class: 'settings' },
      setting('Compatibility level', 'level', config.compatibilityLevel, LEVELS, canWrite(), (v) => put('/config', { compatibility: v })),
      setting('Mode', 'mode', mode.mode, MODES, isAdmin(), (v) => put('/mode', { mode: v }))),
    h('p', { class: 'actions' },
      latest && link(ui.version(subject, latest.version), 'Latest version'),
      previous && link(ui.diff(subject, previous.version, latest.version), `Diff v${previous.version} → v${latest.version}`),
      link(ui.check(subject), 'Check a schema'),
      deleted > 0 && link(ui.subject(subject, { deleted: !showDeleted }),
        showDeleted ? 'Hide deleted versions' : `Show deleted versions (${deleted})`)),
    section('Versions', table(['Version', 'Semver', 'Id', 'State', 'Registered', ''], (showDeleted ? versions : live).toReversed().map((v) => {
      const before = live.filter((x) => x.version < v.version).at(-1);
      return h('tr', { testid: 'version-row', 'data-version': v.version, class: v.deleted && 'deleted' },
        h('td', {}, link(ui.version(subject, v.version), `v${v.version}`)), h('td', {}, v.semver), num(v.id),
        h('td', {}, v.state, v.deleted && badge('deleted', 'warn')),
        h('td', { testid: 'registered', title: v.registered ?? 'registered before registrations were timed' },
          v.registered ? when(v.registered) : '—'),
        h('td', { class: 'actions' }, !v.deleted && link(ui.validate(subject, v.version), 'validate'),
          before && link(ui.diff(subject, before.version, v.version), `diff from v${before.version}`)));
    }))),
    schema && section([`Latest schema, v${latest.version} `, badge((schema.schemaType ?? 'AVRO').toLowerCase())],
      codeBlock(formatSchema(schema.schema, schema.schemaType ?? 'AVRO'), { 'aria-label': 'latest schema' })));
  document.title = `${subject} · schema-registry`;
}

/** An RFC 3339 time as this browser's local date and time, to the minute. */
function when(rfc3339) {
  const time = new Date(rfc3339);
  return Number.isNaN(time.getTime()) ? rfc3339 : time.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A level or mode, and a picker to change it when the role may. */
function setting(label, testid, value, choices, editable, save) {
  const [shown, note] = [h('strong', { testid }, value), h('span', { class: 'muted', role: 'status' })];
  const select = editable && h('select', { testid: `${testid}-edit`, 'aria-label': label, value },
    choices.map((c) => h('option', { value: c }, c)));
  const submit = async (event) => {
    event.preventDefault();
    try {
      await save(select.value);
      [shown.textContent, note.textContent] = [select.value, 'saved'];
    } catch (error) {
      handleError(error);
    }
  };
  return h('div', { class: 'setting' }, h('span', { class: 'muted' }, label), shown,
    editable && h('form', { class: 'inline', onsubmit: submit }, select, h('button', { type: 'submit' }, 'Save'), note));
}

/** /ui/subjects/{subject}/versions/{version}: the schema highlighted (GET /subjects/{s}/versions/{v}), its
 *  references as links, and who references it (GET .../referencedby, then GET /schemas/ids/{id}/versions). */
async function renderVersion(main, [subject, version]) {
  const path = `${confluentSubject(subject)}/versions/${enc(version)}`;
  // A referrer's id is numbered in its context, this subject's: `?subject=:.ctx:` names the context (a subject
  // there would have to hold the id itself). An id gone meanwhile is left out rather than failing the page.
  const context = /^:\.[^:]*:/.exec(subject)?.[0];
  const uses = (id) => api(`/schemas/ids/${id}/versions${context ? `?subject=${enc(context)}` : ''}`).catch(() => []);
  const [found, versions, referrers] = await Promise.all([api(`${path}?deleted=true`), api(`${v1Subject(subject)}/versions`),
    api(`${path}/referencedby`).then((ids) => Promise.all(ids.slice(0, 50).map(uses))).then((lists) => lists.flat())]);
  const type = found.schemaType ?? 'AVRO';
  const v = versions.find((x) => x.version === found.version) ?? {};
  const before = versions.filter((x) => x.version < found.version && !x.deleted).at(-1);
  const versionLink = (r, props) => link(ui.version(r.subject, r.version), `${r.subject} v${r.version}`, props);
  main.replaceChildren(
    ...heading(subject, `v${found.version}`, `v${found.version}`),
    h('p', { class: 'muted' }, badge(type.toLowerCase()), ` semver ${v.semver} · id ${found.id} · ${v.state}`,
      v.deleted && badge('deleted', 'warn')),
    h('p', { class: 'actions' },
      !v.deleted && link(ui.validate(subject, found.version), 'Validate data'),
      before && link(ui.diff(subject, before.version, found.version), `Diff from v${before.version}`),
      link(ui.check(subject), 'Check a new schema')),
    codeBlock(formatSchema(found.schema, type), { testid: 'schema-text', 'aria-label': 'schema' }),
    section('References', found.references?.length
      ? h('ul', {}, found.references.map((r) => h('li', {},
        versionLink({ ...r, subject: inContextOf(subject, r.subject) }, { testid: 'reference-link' }), ' as ', h('code', {}, r.name))))
      : h('p', { class: 'muted' }, 'None.')),
    section('Referenced by', h('ul', { testid: 'referenced-by' }, referrers.map((r) => h('li', {}, versionLink(r))),
      !referrers.length && h('li', { class: 'muted' }, 'No schema references this version.'))));
  document.title = `${subject} v${found.version} · schema-registry`;
}

/** /ui/subjects/{subject}/diff?from=A&to=B: the two versions side by side (GET /subjects/{s}/versions/{v}), every
 *  difference and violation on its lines (POST /api/v1/compatibility/diff), and version pickers. */
async function renderDiff(main, [subject], query) {
  const versions = await api(`${v1Subject(subject)}/versions`);
  const live = versions.filter((v) => !v.deleted);
  // A version as a link may name it: a number, `latest`, or a semantic version (the newest that has it).
  const number = (given) => {
    if (/^\d+$/.test(given)) return Number(given);
    const found = given === 'latest' ? live.at(-1) : versions.filter((v) => v.semver === given).at(-1);
    if (!found) throw new ApiError(404, `Subject '${subject}' has no version ${given}.`);
    return found.version;
  };
  const to = number(query.get('to') ?? String(live.at(-1)?.version ?? 1));
  const from = number(query.get('from') ?? String(live.filter((v) => v.version < to).at(-1)?.version ?? to));
  const read = (v) => api(`${confluentSubject(subject)}/versions/${v}?deleted=true`);
  const [left, right, diff] = await Promise.all([read(from), read(to),
    api('/api/v1/compatibility/diff', { method: 'POST', body: { subject, from, to } })]);
  const side = (version, found) => {
    const formatted = formatSchema(found.schema, found.schemaType ?? 'AVRO');
    let value; // the schema as a JSON value, to carry paths from one side to the other
    try {
      value = formatted.proto ? undefined : JSON.parse(found.schema);
    } catch { /* not JSON: paths stay as they are */ }
    return { version, formatted, value, pre: codeBlock(formatted) };
  };
  const sides = { left: side(from, left), right: side(to, right) };
  const findings = diff.differences.flatMap((d) => placeDifference(d, sides));
  const [violations, differences] = [findings.filter((f) => f.violation), findings.filter((f) => f.difference)];
  const pane = (name, v) => {
    const summary = versions.find((x) => x.version === v);
    sides[name].pre.setAttribute('data-testid', `diff-${name}`);
    return h('div', { class: 'pane' }, h('h3', {}, `v${v}`, summary && ` · ${summary.semver} · id ${summary.id}`), sides[name].pre);
  };
  main.replaceChildren(
    ...heading(subject, `v${from} → v${to}`, 'diff'),
    diffPickers(subject, versions, from, to),
    h('p', { class: 'muted' }, `${plural(differences.length, 'difference')}, ${plural(violations.length, 'violation')} · semver bump `,
      badge(diff.bump, diff.bump === 'major' && 'bad')),
    h('div', { class: 'panes' }, pane('left', from), pane('right', to)),
    violations.length > 0 && section('Compatibility violations', h('ul', { class: 'findings' }, violations.map(findingItem))),
    section('Differences', differences.length ? h('ul', { class: 'findings' }, differences.map(findingItem))
      : h('p', { class: 'muted' }, 'The two versions are the same schema.')));
  document.title = `${subject} v${from} → v${to} · schema-registry`;
}

function diffPickers(subject, versions, from, to) {
  const picker = (name, value) => h('label', {}, `${name} `, h('select', { name, value },
    versions.map((v) => h('option', { value: v.version }, `v${v.version} (${v.semver})${v.deleted ? ' deleted' : ''}`))));
  const form = h('form', { class: 'toolbar', onsubmit: (event) => {
    event.preventDefault();
    navigate(ui.diff(subject, form.elements.from.value, form.elements.to.value));
  } }, picker('from', from), picker('to', to), h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('change', () => form.requestSubmit());
  return form;
}

/** What a diff reports added; a difference with no old value and another kind is a violation that no structural
 *  difference holds, its message as `new`. */
const ADDED_KINDS = /^(ATTRIBUTE|BRANCH|DEFAULT|DEFINITION|DOC|FIELD|KEYWORD|MESSAGE|NAME|PROPERTY|REQUIRED|SYMBOL)_ADDED$/;

/** Marks a difference's lines on each side it has (the new side's path carried to the old one) and answers the
 *  findings to list: the difference, then a violation per direction it breaks, placed in the schema that reads
 *  (the new one for backward, the old one for forward) when the difference is there. */
function placeDifference(d, sides) {
  const lone = d.old == null && typeof d.new === 'string' && !ADDED_KINDS.test(d.kind);
  const paths = {};
  if (lone) paths[d.breaks_backward ? 'right' : 'left'] = d.path;
  if (!lone && d.new != null) paths.right = d.path;
  if (!lone && d.old != null) {
    const carry = d.new != null && sides.left.value !== undefined && sides.right.value !== undefined;
    paths.left = carry ? carryPointer(d.path, sides.right.value, sides.left.value) : d.path;
  }
  const lines = {};
  for (const [side, path] of Object.entries(paths)) {
    lines[side] = linesOf(sides[side].formatted, path);
    markLines(side, sides, lines[side], lone ? 'bad' : d.old == null ? 'add' : d.new == null ? 'del' : 'chg');
  }
  const findings = lone ? [] : [{ d, lines, difference: true }];
  for (const [direction, breaks, reader, writer] of [['backward', d.breaks_backward, 'right', 'left'],
    ['forward', d.breaks_forward, 'left', 'right']]) {
    if (!breaks) continue;
    const side = lines[reader] ? reader : writer;
    markLines(side, sides, lines[side], 'bad');
    const [r, w] = [sides[reader].version, sides[writer].version];
    const change = d.old != null && d.new != null ? `${brief(d.old, 40)} → ${brief(d.new, 40)}` : brief(d.new ?? d.old, 60);
    const message = lone ? d.new : `v${r} cannot read data written with v${w}: ${d.kind} at ${d.path || '/'} (${change})`;
    findings.push({ d, lines, violation: { side, range: lines[side], direction, message } });
  }
  return findings;
}

function markLines(side, sides, [first, last], mark) {
  for (let n = first; n <= last; n++) sides[side].pre.children[n]?.classList.add(mark);
}

/** A finding in a list: what and where, with buttons that bring its lines into view. */
function findingItem({ d, lines, violation }) {
  const goto = (side, [first]) => h('button', { type: 'button', class: 'linkish', onclick: () => {
    const line = document.querySelector(`[data-testid="diff-${side}"]`).children[first];
    document.querySelectorAll('.flash').forEach((el) => el.classList.remove('flash'));
    line.scrollIntoView({ block: 'center' });
    line.classList.add('flash');
  } }, `${side === 'left' ? 'old' : 'new'} line ${first + 1}`);
  if (violation) {
    const { side, range, direction, message } = violation;
    return h('li', { testid: 'violation', 'data-side': side, 'data-line': range[0] + 1, class: 'bad' },
      badge(direction, 'bad'), ` ${message}`, goto(side, range));
  }
  return h('li', {}, badge(d.kind), h('code', {}, d.path || '/'), ' ',
    d.old != null && h('span', { class: 'old' }, brief(d.old)), d.old != null && d.new != null && ' → ',
    d.new != null && h('span', { class: 'new' }, brief(d.new)),
    d.breaks_backward && badge('breaks backward', 'bad'), d.breaks_forward && badge('breaks forward', 'bad'),
    Object.entries(lines).map(([side, range]) => goto(side, range)));
}

/** /ui/subjects/{subject}/check: a pasted schema checked at the subject's level (POST /api/v1/compatibility/check)
 *  and, when the role allows, registered (POST /subjects/{s}/versions). */
async function renderCheck(main, [subject]) {
  const [latest, config] = await Promise.all([
    api(`${confluentSubject(subject)}/versions/latest`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
    api(`/config/${enc(subject)}?defaultToGlobal=true`)]);
  const type = (latest?.schemaType ?? 'AVRO').toLowerCase();
  const input = h('textarea', { testid: 'check-input', rows: 14, spellcheck: 'false', required: true, 'aria-label': 'schema',
    value: latest ? plainText(formatSchema(latest.schema, type)) : '' });
  const format = h('select', { 'aria-label': 'format', value: type }, FORMATS.slice(1).map(([value, label]) => h('option', { value }, label)));
  const refs = h('textarea', { rows: 3, spellcheck: 'false', 'aria-label': 'references', value: JSON.stringify(latest?.references ?? []) });
  const verdict = h('div', { testid: 'check-verdict', role: 'status', class: 'result' });
  const registered = h('div', { testid: 'register-result', role: 'status', class: 'result' });
  /** Runs a call, showing its outcome in `el` (a refusal as the server's message; 401 and 403 as any view). */
  const attempt = async (el, call, show) => {
    el.replaceChildren(h('span', { class: 'muted' }, 'Asking the registry…'));
    try {
      show(await call(JSON.parse(refs.value || '[]')));
    } catch (error) {
      if (isAuthError(error)) return handleError(error);
      el.replaceChildren(h('p', { class: 'bad' }, error instanceof SyntaxError ? 'References are not JSON: ' : 'Refused: ', error.message));
    }
  };
  const check = (event) => {
    event.preventDefault();
    attempt(verdict, (references) => api('/api/v1/compatibility/check', { method: 'POST',
      body: { subject, schema: input.value, schema_type: format.value, references } }), (answer) => showVerdict(verdict, answer));
  };
  const register = () => attempt(registered, (references) => api(`${confluentSubject(subject)}/versions`, { method: 'POST',
    body: { schema: input.value, schemaType: format.value.toUpperCase(), references } }), (answer) => registered.replaceChildren(
    h('p', { class: 'good' }, 'Registered: ', link(ui.version(subject, answer.version), `version ${answer.version}`), ` (id ${answer.id}).`)));
  main.replaceChildren(
    ...heading(subject, 'check a schema', 'check'),
    h('p', {}, 'Checked at the subject’s level, ', h('strong', {}, config.compatibilityLevel),
      latest ? `, against its versions (latest v${latest.version}).` : '. The subject has no live version yet.'),
    h('form', { class: 'stack', onsubmit: check }, h('label', {}, 'Format ', format), input,
      h('details', {}, h('summary', {}, 'References (JSON: [{"name", "subject", "version"}])'), refs),
      h('p', { class: 'actions' }, h('button', { type: 'submit', testid: 'check-submit' }, 'Check compatibility'),
        canWrite() && h('button', { type: 'button', testid: 'register-submit', onclick: register }, 'Register'),
        h('span', { class: 'muted' }, 'Ctrl+Enter checks'))),
    verdict, registered);
  document.title = `Check · ${subject} · schema-registry`;
}

function showVerdict(el, { compatible, level, violations }) {
  el.replaceChildren(
    h('p', { class: compatible ? 'good' : 'bad' }, compatible ? `Compatible at ${level}.`
      : `Incompatible at ${level}: ${plural(violations.length, 'violation')}.`),
    h('ul', { class: 'findings' }, violations.map((v) => h('li', { class: 'bad' }, badge(v.direction, 'bad'),
      `against v${v.version}: `, badge(v.kind), h('code', {}, v.path || '/'), ` ${v.message}`))));
}

/** /ui/subjects/{subject}/versions/{version}/validate: a pasted JSON document validated against the version
 *  (POST /api/v1/subjects/{s}/versions/{v}/validate): valid, or each error at its path. */
async function renderValidate(main, [subject, version]) {
  const found = await api(`${v1Subject(subject)}/versions/${enc(version)}`);
  const input = h('textarea', { id: 'document', testid: 'validate-input', rows: 12, spellcheck: 'false', required: true,
    placeholder: '{"id": 1}' });
  const message = found.schema_type === 'protobuf' && h('input', { 'aria-label': 'message', placeholder: 'message (full name, optional)' });
  const result = h('div', { testid: 'validate-result', role: 'status', class: 'result' });
  const validate = async (event) => {
    event.preventDefault();
    try {
      const body = { data: JSON.parse(input.value), ...(message && message.value.trim() && { message: message.value.trim() }) };
      showValidation(result, await api(`${v1Subject(subject)}/versions/${found.version}/validate`, { method: 'POST', body }));
    } catch (error) {
      if (isAuthError(error)) return handleError(error);
      result.replaceChildren(h('p', { class: 'bad' }, error instanceof SyntaxError ? 'Not JSON: ' : 'Could not validate: ', error.message));
    }
  };
  const text = typeof found.schema === 'string' ? found.schema : JSON.stringify(found.schema);
  main.replaceChildren(
    ...heading(subject, `v${found.version} validate`, link(ui.version(subject, found.version), `v${found.version}`), 'validate'),
    h('form', { class: 'stack', onsubmit: validate },
      h('label', { for: 'document' }, `A JSON document to validate against v${found.version} (${found.schema_type}):`), input, message,
      h('p', { class: 'actions' }, h('button', { type: 'submit', testid: 'validate-submit' }, 'Validate'),
        h('span', { class: 'muted' }, 'Ctrl+Enter validates'))),
    result,
    h('details', {}, h('summary', {}, 'The schema'), codeBlock(formatSchema(text, found.schema_type))));
  document.title = `Validate · ${subject} v${found.version} · schema-registry`;
}

function showValidation(el, { valid, errors }) {
  el.replaceChildren(h('p', { class: valid ? 'good' : 'bad' }, valid ? 'Valid.' : `Invalid: ${plural(errors.length, 'error')}.`),
    h('ul', { class: 'findings' }, errors.map((e) => h('li', { testid: 'validation-error', 'data-path': e.path },
      h('code', {}, e.path || '/'), ` ${e.message}`))));
}

/** /ui/overview: counts, cache hit ratios, and request rates and latencies per route, from GET /metrics scraped
 *  every 5 s while the view is open (rates and latencies from the difference of successive scrapes). */
async function renderOverview(main) {
  const [scrapes, body, stamp] = [[], h('div', {}), h('p', { class: 'muted', role: 'status' })];
  main.replaceChildren(h('h1', {}, 'Overview'), stamp, body);
  document.title = 'Overview · schema-registry';
  const scrape = async () => {
    if (main !== shell.view) return clearInterval(timer);
    if (document.hidden && scrapes.length) return;
    try {
      scrapes.push({ t: performance.now() / 1000, ...summarize(await api('/metrics', { text: true })) });
      if (scrapes.length > 61) scrapes.shift();
      body.replaceChildren(...overviewContent(scrapes));
      stamp.textContent = `Updated ${new Date().toLocaleTimeString()}, every ${SCRAPE_MS / 1000} s while open; rates over the last interval.`;
    } catch (error) {
      handleError(error, main);
      // No key, a role without /metrics, or no /metrics at all (an application that serves none): asking again
      // every 5 s would only repeat the banner.
      if ([401, 403, 404].includes(error.status)) clearInterval(timer);
    }
  };
  const timer = setInterval(scrape, SCRAPE_MS);
  await scrape();
}

/** One scrape's numbers from the Prometheus text: counts, hits and misses per cache, requests and the latency
 *  histogram per route. */
function summarize(text) {
  const s = { subjects: 0, schemas: 0, caches: {}, routes: {} };
  for (const [, name, rawLabels, rawValue] of text.matchAll(/^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/gm)) {
    const labels = Object.fromEntries([...(rawLabels ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]));
    const value = Number(rawValue);
    if (name === 'registry_subjects' || name === 'registry_schemas') s[name.slice(9)] = value;
    else if (/^registry_cache_(hits|misses)_total$/.test(name)) {
      (s.caches[labels.cache] ??= { hits: 0, misses: 0 })[name.includes('hits') ? 'hits' : 'misses'] += value;
    } else if (name.startsWith('http_request')) {
      const r = (s.routes[`${labels.method} ${labels.route}`] ??= { count: 0, sum: 0, n: 0, buckets: new Map() });
      if (name === 'http_requests_total') r.count += value;
      else if (name.endsWith('_sum')) r.sum += value;
      else if (name.endsWith('_count')) r.n += value;
      else if (name.endsWith('_bucket')) r.buckets.set(Number(labels.le), (r.buckets.get(Number(labels.le)) ?? 0) + value);
    }
  }
  return s;
}

/** A route between two scrapes: requests a second, mean and 95th percentile latency in ms (null without requests). */
function interval(a, b, key) {
  const [x, y] = [a.routes[key] ?? { count: 0, sum: 0, n: 0, buckets: new Map() }, b.routes[key]];
  if (!y) return { rate: null, mean: null, p95: null };
  const [dn, rate] = [y.n - x.n, (y.count - x.count) / Math.max(b.t - a.t, 0.001)];
  if (dn <= 0) return { rate, mean: null, p95: null };
  const le = [...y.buckets.keys()].sort((p, q) => p - q).find((l) => y.buckets.get(l) - (x.buckets.get(l) ?? 0) >= 0.95 * dn);
  return { rate, mean: ((y.sum - x.sum) / dn) * 1000, p95: le === undefined ? null : le * 1000 };
}

const ratio = (hits, misses) => (hits + misses > 0 ? hits / (hits + misses) : null);
const fmt = (n) => (n == null ? '–' : Number.isFinite(n) ? n.toFixed(2) : '>max');

function overviewContent(scrapes) {
  const last = scrapes.at(-1);
  const pairs = scrapes.slice(1).map((b, i) => [scrapes[i], b]);
  const count = (label, value) => h('div', {}, h('dt', {}, label), h('dd', {}, value));
  const cacheRow = ([name, c]) => {
    const r = ratio(c.hits, c.misses);
    const delta = (a, b, k) => (b.caches[name]?.[k] ?? 0) - (a.caches[name]?.[k] ?? 0);
    return h('tr', { testid: 'cache-ratio', 'data-cache': name }, h('td', {}, name), num(r == null ? '–' : `${(r * 100).toFixed(1)}%`),
      h('td', {}, r != null && h('meter', { min: 0, max: 1, value: r, 'aria-label': `${name} hit ratio` })), num(c.hits), num(c.misses),
      h('td', {}, sparkline(pairs.map(([a, b]) => ratio(delta(a, b, 'hits'), delta(a, b, 'misses'))), `${name} hit ratio`, 1)));
  };
  const routeRow = ([key, r]) => {
    const series = pairs.map(([a, b]) => interval(a, b, key));
    const now = series.at(-1) ?? { rate: null, mean: r.n ? (r.sum / r.n) * 1000 : null, p95: null };
    return h('tr', { 'data-route': key }, h('td', {}, h('code', {}, key)), num(r.count), num(fmt(now.rate)),
      h('td', {}, sparkline(series.map((x) => x.rate), `${key} requests per second`)), num(fmt(now.mean)), num(fmt(now.p95)),
      h('td', {}, sparkline(series.map((x) => x.mean), `${key} mean latency, ms`)));
  };
  return [
    h('dl', { class: 'counts', testid: 'overview-counts' }, count('Subjects', last.subjects), count('Schemas', last.schemas),
      count('Requests', Object.values(last.routes).reduce((sum, r) => sum + r.count, 0))),
    section('Cache hit ratios', table(['Cache', 'Hit ratio', '', 'Hits', 'Misses', 'Per interval'],
      Object.entries(last.caches).sort(([a], [b]) => a.localeCompare(b)).map(cacheRow))),
    section('Requests by route', !pairs.length && h('p', { class: 'muted' }, 'Rates and latencies come with the next scrape.'),
      table(['Route', 'Total', 'req/s', 'Rate', 'mean ms', 'p95 ms', 'Mean latency'],
        Object.entries(last.routes).filter(([, r]) => r.count > 0).sort(([, a], [, b]) => b.count - a.count).map(routeRow))),
  ];
}

/** A small line chart of the last 60 values (the newest at the right, null a gap), scaled to `max` or the largest. */
function sparkline(values, label, max = Math.max(0, ...values.filter((v) => v != null))) {
  const [w, ht, step] = [120, 24, 120 / 59];
  let [d, pen, end] = ['', 'M', null];
  values.slice(-60).forEach((v, i, all) => {
    if (v == null) {
      pen = 'M';
      return;
    }
    end = [w - (all.length - 1 - i) * step, ht - 2 - (max > 0 ? (v / max) * (ht - 4) : 0)];
    d += `${pen}${end[0].toFixed(1)} ${end[1].toFixed(1)}`;
    pen = 'L';
  });
  const last = values.at(-1);
  return svg('svg', { class: 'chart', 'data-testid': 'chart', viewBox: `0 0 ${w} ${ht}`, width: w, height: ht, role: 'img', 'aria-label': label },
    svg('title', {}, `${label}: ${last == null ? 'no data yet' : fmt(last)} (max ${fmt(max)})`),
    svg('line', { x1: 0, y1: ht - 1, x2: w, y2: ht - 1, class: 'axis' }), svg('path', { d, class: 'series' }),
    ...(end && last != null ? [svg('circle', { cx: end[0], cy: end[1], r: 2, class: 'dot' })] : []));
}

// ---- Start ----------------------------------------------------------------------------------------------------

shell.banner = h('div', { class: 'banners' });
shell.main = h('main', { id: 'main' });
document.getElementById('app').replaceChildren(renderHeader(), shell.banner, shell.main);
document.addEventListener('click', onClick);
document.addEventListener('keydown', onKey);
window.addEventListener('popstate', route);
route();
