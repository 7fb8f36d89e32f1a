//! The text Confluent's registry stores for a Protobuf schema: its printing of the file's element tree. That text
//! is what it answers and what its schema GUID is the hash of, so a schema here stores, answers and hashes the
//! same text.
//!
//! Source is read into the tree Confluent's parser builds: declarations in their order, types and option values
//! as written (a number as its word, a string unescaped, an aggregate as a map whose repeated keys become a list),
//! comments dropped, `default` and `json_name` taken out of a field's options. A base64 descriptor is turned into
//! the tree Confluent builds from one ([`print_descriptor`]). The tree is printed in Confluent's layout: two-space
//! indents, a blank line between the sections of a body (reserved ranges, options, fields, oneofs, groups,
//! extension ranges, extends, nested types), a body's messages before its enums, weak imports left out; with
//! `normalize`, rewritten first as Confluent's normalization does ([`print_normalized`]).
//!
//! The reader accepts the grammar of that parser, which is narrower than the compiler's; where it stops, or where
//! the printing would not compile back to the same schema (the caller checks), the text as sent is kept.

/// Confluent's printing of `source`, or `None` where its parser would not read the file.
pub(crate) fn print(source: &str) -> Option<String> {
    let file = read(source)?;
    let mut out = String::with_capacity(source.len());
    write_file(&mut out, &file);
    Some(out)
}

/// Confluent's normalized printing of `source` (its `normalize`), whose compiled form `pool` holds under
/// `package`: every type name qualified, imports sorted, fields, oneofs, enum values, ranges and options in
/// order, custom options named in full and merged, numbers written as Java's `DecimalFormat` writes them.
/// `None` where its parser would not read the file or a name does not resolve.
pub(crate) fn print_normalized(source: &str, pool: &DescriptorPool, package: &str) -> Option<String> {
    let mut file = read(source)?;
    Normalizer { pool }.file(&mut file, package)?;
    let mut out = String::with_capacity(source.len());
    write_file(&mut out, &file);
    Some(out)
}

fn read(source: &str) -> Option<File> {
    let chars: Vec<char> = source.chars().collect();
    Reader { data: &chars, pos: 0 }.file()
}

use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};

/// The largest field number; a range ending at it or above is written `to max`.
const MAX_TAG: i64 = 536_870_911;

/// Nesting past which the reader gives up (the compiler has already held the file to the configured depth).
const MAX_NESTING: usize = 512;

struct File {
    syntax: Option<String>,
    package: Option<String>,
    imports: Vec<String>,
    public_imports: Vec<String>,
    options: Vec<Opt>,
    types: Vec<TypeDecl>,
    extends: Vec<Extend>,
    services: Vec<Service>,
}

enum TypeDecl {
    Message(Message),
    Enum(EnumDecl),
}

#[derive(Default)]
struct Message {
    name: String,
    reserveds: Vec<Vec<Range>>,
    options: Vec<Opt>,
    fields: Vec<Field>,
    oneofs: Vec<OneOf>,
    groups: Vec<Group>,
    extensions: Vec<(Vec<Range>, Vec<Opt>)>,
    extends: Vec<Extend>,
    nested: Vec<TypeDecl>,
}

/// A reserved or extension range's item.
enum Range {
    Name(String),
    Tag(i64),
    Span(i64, i64),
}

struct Field {
    label: Option<&'static str>,
    ty: String,
    name: String,
    tag: i64,
    options: Vec<Opt>,
    default: Option<String>,
    json_name: Option<String>,
}

struct Group {
    label: Option<&'static str>,
    name: String,
    tag: i64,
    fields: Vec<Field>,
}

struct OneOf {
    name: String,
    options: Vec<Opt>,
    fields: Vec<Field>,
    groups: Vec<Group>,
}

struct Extend {
    name: String,
    fields: Vec<Field>,
}

struct EnumDecl {
    name: String,
    reserveds: Vec<Vec<Range>>,
    options: Vec<Opt>,
    constants: Vec<(String, i64, Vec<Opt>)>,
}

struct Service {
    name: String,
    options: Vec<Opt>,
    rpcs: Vec<Rpc>,
}

struct Rpc {
    name: String,
    request: (bool, String),
    response: (bool, String),
    options: Vec<Opt>,
}

/// An option: its name (without the parentheses of a custom one) and value.
#[derive(Clone)]
struct Opt {
    name: String,
    parenthesized: bool,
    value: OptValue,
}

#[derive(Clone)]
enum OptValue {
    /// A string, unescaped.
    Str(String),
    /// A number, boolean or enum name, as written.
    Bare(String),
    Map(Vec<(String, Value)>),
    List(Vec<Value>),
    /// `(name).sub = value`: the part after the dot.
    Nested(Box<Opt>),
}

/// A value inside an aggregate or a list.
#[derive(Clone, PartialEq)]
enum Value {
    Str(String),
    Bare(String),
    Map(Vec<(String, Value)>),
    List(Vec<Value>),
}

impl From<OptValue> for Value {
    fn from(value: OptValue) -> Value {
        match value {
            OptValue::Str(s) => Value::Str(s),
            OptValue::Bare(s) => Value::Bare(s),
            OptValue::Map(m) => Value::Map(m),
            OptValue::List(l) => Value::List(l),
            // Only a map entry's key can carry a sub-name; the caller nests it.
            OptValue::Nested(opt) => Value::Map(vec![(opt.name, opt.value.into())]),
        }
    }
}

/// The declarations a body may hold, as the parser tells them apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    File,
    Message,
    Enum,
    Rpc,
    Extend,
    Service,
}

enum Declaration {
    Type(TypeDecl),
    Service(Service),
    Option(Opt),
    Extend(Extend),
    Field(Field),
    Group(Group),
    OneOf(OneOf),
    Extensions(Vec<Range>, Vec<Opt>),
    Reserved(Vec<Range>),
    Constant(String, i64, Vec<Opt>),
    Rpc(Rpc),
    /// A file's `syntax`, `package` and imports (a weak one as `None`: Confluent's printing leaves it out).
    Syntax(String),
    Package(String),
    Import(Option<String>),
    PublicImport(String),
    /// An empty statement.
    None,
}

struct Reader<'a> {
    data: &'a [char],
    pos: usize,
}

impl Reader<'_> {
    fn file(mut self) -> Option<File> {
        let mut file = File {
            syntax: None,
            package: None,
            imports: Vec::new(),
            public_imports: Vec::new(),
            options: Vec::new(),
            types: Vec::new(),
            extends: Vec::new(),
            services: Vec::new(),
        };
        loop {
            self.skip_whitespace();
            if self.pos == self.data.len() {
                break;
            }
            match self.declaration(Context::File, 0)? {
                Declaration::Type(t) => file.types.push(t),
                Declaration::Service(s) => file.services.push(s),
                Declaration::Option(o) => file.options.push(o),
                Declaration::Extend(e) => file.extends.push(e),
                Declaration::Syntax(syntax) => file.syntax = Some(syntax),
                Declaration::Package(package) => file.package = Some(package),
                Declaration::Import(import) => file.imports.extend(import),
                Declaration::PublicImport(import) => file.public_imports.push(import),
                Declaration::None => {}
                _ => return None,
            }
        }
        Some(file)
    }

    fn declaration(&mut self, context: Context, depth: usize) -> Option<Declaration> {
        if depth > MAX_NESTING {
            return None;
        }
        if self.eat(';') {
            return Some(Declaration::None);
        }
        let label = self.word()?;
        let file = context == Context::File;
        Some(match label.as_str() {
            "package" if file => {
                let package = self.name()?.0;
                self.require(';')?;
                Declaration::Package(package)
            }
            "import" if file => {
                let import = match self.peek()? {
                    '"' | '\'' => Declaration::Import(Some(self.quoted()?)),
                    _ => match self.word()?.as_str() {
                        "weak" => {
                            self.quoted()?;
                            Declaration::Import(None)
                        }
                        "public" => Declaration::PublicImport(self.quoted()?),
                        _ => return None,
                    },
                };
                self.require(';')?;
                import
            }
            "syntax" if file => {
                self.require('=')?;
                let syntax = self.quoted()?;
                if syntax != "proto2" && syntax != "proto3" {
                    return None;
                }
                self.require(';')?;
                Declaration::Syntax(syntax)
            }
            "option" => {
                let option = self.option('=', depth)?;
                self.require(';')?;
                Declaration::Option(option)
            }
            "reserved" => Declaration::Reserved(self.ranges(true)?.0),
            "message" if matches!(context, Context::File | Context::Message) => {
                Declaration::Type(TypeDecl::Message(self.message(depth)?))
            }
            "enum" if matches!(context, Context::File | Context::Message) => {
                Declaration::Type(TypeDecl::Enum(self.enumeration(depth)?))
            }
            "service" if file => Declaration::Service(self.service(depth)?),
            "extend" if matches!(context, Context::File | Context::Message) => Declaration::Extend(self.extend(depth)?),
            "rpc" if context == Context::Service => Declaration::Rpc(self.rpc(depth)?),
            "oneof" if context == Context::Message => Declaration::OneOf(self.oneof(depth)?),
            "extensions" if context == Context::Message => {
                let (ranges, options) = self.ranges(false)?;
                Declaration::Extensions(ranges, options)
            }
            _ if matches!(context, Context::Message | Context::Extend) => self.field(label, depth)?,
            _ if context == Context::Enum => {
                self.require('=')?;
                let tag = self.int()?;
                let options = self.options(depth)?;
                self.require(';')?;
                Declaration::Constant(label, tag, options)
            }
            _ => return None,
        })
    }

    fn body(&mut self, context: Context, depth: usize, mut each: impl FnMut(Declaration) -> Option<()>) -> Option<()> {
        self.require('{')?;
        loop {
            if self.eat('}') {
                return Some(());
            }
            match self.declaration(context, depth + 1)? {
                Declaration::None => {}
                declaration => each(declaration)?,
            }
        }
    }

    fn message(&mut self, depth: usize) -> Option<Message> {
        let mut message = Message { name: self.name()?.0, ..Message::default() };
        self.body(Context::Message, depth, |declaration| {
            match declaration {
                Declaration::Field(f) => message.fields.push(f),
                Declaration::OneOf(o) => message.oneofs.push(o),
                Declaration::Group(g) => message.groups.push(g),
                Declaration::Type(t) => message.nested.push(t),
                Declaration::Extensions(r, o) => message.extensions.push((r, o)),
                Declaration::Option(o) => message.options.push(o),
                Declaration::Extend(e) => message.extends.push(e),
                Declaration::Reserved(r) => message.reserveds.push(r),
                _ => return None,
            }
            Some(())
        })?;
        Some(message)
    }

    fn enumeration(&mut self, depth: usize) -> Option<EnumDecl> {
        let mut e =
            EnumDecl { name: self.name()?.0, reserveds: Vec::new(), options: Vec::new(), constants: Vec::new() };
        self.body(Context::Enum, depth, |declaration| {
            match declaration {
                Declaration::Constant(name, tag, options) => e.constants.push((name, tag, options)),
                Declaration::Option(o) => e.options.push(o),
                Declaration::Reserved(r) => e.reserveds.push(r),
                _ => return None,
            }
            Some(())
        })?;
        Some(e)
    }

    fn extend(&mut self, depth: usize) -> Option<Extend> {
        let mut extend = Extend { name: self.name()?.0, fields: Vec::new() };
        self.body(Context::Extend, depth, |declaration| match declaration {
            Declaration::Field(f) => {
                extend.fields.push(f);
                Some(())
            }
            _ => None,
        })?;
        Some(extend)
    }

    fn service(&mut self, depth: usize) -> Option<Service> {
        let mut service = Service { name: self.name()?.0, options: Vec::new(), rpcs: Vec::new() };
        self.body(Context::Service, depth, |declaration| {
            match declaration {
                Declaration::Rpc(r) => service.rpcs.push(r),
                Declaration::Option(o) => service.options.push(o),
                _ => return None,
            }
            Some(())
        })?;
        Some(service)
    }

    fn rpc(&mut self, depth: usize) -> Option<Rpc> {
        let name = self.name()?.0;
        let request = self.rpc_type()?;
        if self.word()? != "returns" {
            return None;
        }
        let response = self.rpc_type()?;
        let mut options = Vec::new();
        if self.peek()? == '{' {
            self.body(Context::Rpc, depth, |declaration| match declaration {
                Declaration::Option(o) => {
                    options.push(o);
                    Some(())
                }
                _ => None,
            })?;
        } else {
            self.require(';')?;
        }
        Some(Rpc { name, request, response, options })
    }

    fn rpc_type(&mut self) -> Option<(bool, String)> {
        self.require('(')?;
        let word = self.word()?;
        let streamed =
            if word == "stream" { (true, self.data_type(None)?) } else { (false, self.data_type(Some(word))?) };
        self.require(')')?;
        Some(streamed)
    }

    /// A field (or group) whose first word, `word`, has been read.
    fn field(&mut self, word: String, depth: usize) -> Option<Declaration> {
        let (label, ty) = match word.as_str() {
            "required" => (Some("required"), self.data_type(None)?),
            "optional" => (Some("optional"), self.data_type(None)?),
            "repeated" => (Some("repeated"), self.data_type(None)?),
            _ => (None, self.data_type(Some(word))?),
        };
        if ty == "group" {
            return Some(Declaration::Group(self.group(label, depth)?));
        }
        Some(Declaration::Field(self.field_rest(label, ty, depth)?))
    }

    fn field_rest(&mut self, label: Option<&'static str>, ty: String, depth: usize) -> Option<Field> {
        let name = self.word()?;
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        self.require('=')?;
        let tag = self.int()?;
        let mut options = self.options(depth)?;
        // `default` and `json_name` are not options in the tree: the last of each is kept, as text.
        let mut strip = |name: &str| {
            let mut found = None;
            options.retain(|o| {
                if o.name == name {
                    found = Some(as_text(&o.value));
                    false
                } else {
                    true
                }
            });
            found
        };
        let default = strip("default");
        let json_name = strip("json_name");
        self.require(';')?;
        Some(Field { label, ty, name, tag, options, default, json_name })
    }

    fn group(&mut self, label: Option<&'static str>, depth: usize) -> Option<Group> {
        let name = self.word()?;
        self.require('=')?;
        let tag = self.int()?;
        let mut fields = Vec::new();
        self.require('{')?;
        while !self.eat('}') {
            let word = self.word()?;
            match self.field(word, depth + 1)? {
                Declaration::Field(f) => fields.push(f),
                _ => return None,
            }
        }
        Some(Group { label, name, tag, fields })
    }

    fn oneof(&mut self, depth: usize) -> Option<OneOf> {
        let mut oneof = OneOf { name: self.name()?.0, options: Vec::new(), fields: Vec::new(), groups: Vec::new() };
        self.require('{')?;
        while !self.eat('}') {
            let ty = self.data_type(None)?;
            match ty.as_str() {
                "group" => oneof.groups.push(self.group(None, depth + 1)?),
                "option" => {
                    oneof.options.push(self.option('=', depth)?);
                    self.require(';')?;
                }
                _ => oneof.fields.push(self.field_rest(None, ty, depth)?),
            }
        }
        Some(oneof)
    }

    /// `reserved` or `extensions` items up to the `;` (an extension range may end with options).
    fn ranges(&mut self, names: bool) -> Option<(Vec<Range>, Vec<Opt>)> {
        let mut values = Vec::new();
        let mut options = Vec::new();
        loop {
            match self.peek()? {
                '"' | '\'' if names => values.push(Range::Name(self.quoted()?)),
                _ => {
                    let start = self.int()?;
                    match self.peek()? {
                        ',' | ';' => values.push(Range::Tag(start)),
                        '[' if !names => values.push(Range::Tag(start)),
                        _ => {
                            if self.word()? != "to" {
                                return None;
                            }
                            let end = match self.word()?.as_str() {
                                "max" => MAX_TAG,
                                end => i64::from(end.parse::<i32>().ok()?),
                            };
                            values.push(Range::Span(start, end));
                        }
                    }
                }
            }
            if !names && self.peek()? == '[' {
                options = self.options(0)?;
                self.require(';')?;
                break;
            }
            match self.next()? {
                ';' => break,
                ',' => continue,
                _ => return None,
            }
        }
        Some((values, options))
    }

    /// `[a = 1, (b) = "x"]` after a field or constant, or nothing.
    fn options(&mut self, depth: usize) -> Option<Vec<Opt>> {
        let mut options = Vec::new();
        if !self.eat('[') {
            return Some(options);
        }
        loop {
            options.push(self.option('=', depth)?);
            if self.eat(']') {
                return Some(options);
            }
            if !self.eat(',') {
                return None;
            }
        }
    }

    /// `name = value` (or `name: value` inside an aggregate, where a map value needs no separator).
    fn option(&mut self, separator: char, depth: usize) -> Option<Opt> {
        if depth > MAX_NESTING {
            return None;
        }
        let (mut name, wrap) = self.name()?;
        let parenthesized = wrap == Some('(');
        if wrap == Some('[') {
            name = format!("[{name}]");
        }
        let mut c = self.next()?;
        let mut sub = None;
        if c == '.' {
            sub = Some(self.name()?.0);
            c = self.next()?;
        }
        if separator == ':' && c == '{' {
            self.pos -= 1;
        } else if c != separator {
            return None;
        }
        let mut value = self.value(depth + 1)?;
        if let Some(sub) = sub {
            value = OptValue::Nested(Box::new(Opt { name: sub, parenthesized: false, value }));
        }
        Some(Opt { name, parenthesized, value })
    }

    fn value(&mut self, depth: usize) -> Option<OptValue> {
        Some(match self.peek()? {
            '{' => OptValue::Map(self.map(depth)?),
            '[' => OptValue::List(self.list(depth)?),
            '"' | '\'' => OptValue::Str(self.quoted()?),
            _ => OptValue::Bare(self.word()?),
        })
    }

    /// An aggregate: entries in order, a repeated key's values gathered into a list under its first place.
    fn map(&mut self, depth: usize) -> Option<Vec<(String, Value)>> {
        self.require('{')?;
        let mut entries: Vec<(String, Value)> = Vec::new();
        loop {
            if self.eat('}') {
                return Some(entries);
            }
            let option = self.option(':', depth)?;
            let at = entries.iter().position(|(key, _)| *key == option.name);
            match option.value {
                OptValue::Nested(nested) => match at {
                    Some(at) => match &mut entries[at].1 {
                        Value::Map(inner) => upsert(inner, nested.name, nested.value.into()),
                        _ => return None,
                    },
                    None => entries.push((option.name, Value::Map(vec![(nested.name, nested.value.into())]))),
                },
                value => {
                    let value: Value = value.into();
                    match at {
                        None => entries.push((option.name, value)),
                        Some(at) => {
                            let previous = &mut entries[at].1;
                            let mut list = match std::mem::replace(previous, Value::List(Vec::new())) {
                                Value::List(list) => list,
                                other => vec![other],
                            };
                            match value {
                                Value::List(more) => list.extend(more),
                                one => list.push(one),
                            }
                            *previous = Value::List(list);
                        }
                    }
                }
            }
            self.eat(',');
        }
    }

    fn list(&mut self, depth: usize) -> Option<Vec<Value>> {
        self.require('[')?;
        let mut values = Vec::new();
        loop {
            if self.eat(']') {
                return Some(values);
            }
            values.push(self.value(depth + 1)?.into());
            if self.eat(',') {
                continue;
            }
            if self.peek()? != ']' {
                return None;
            }
        }
    }

    /// A type name, or `map<K, V>` written with one space after the comma.
    fn data_type(&mut self, first: Option<String>) -> Option<String> {
        let name = match first {
            Some(word) => word,
            None => self.word()?,
        };
        if name != "map" || self.peek()? != '<' {
            return Some(name);
        }
        self.pos += 1;
        let key = self.data_type(None)?;
        self.require(',')?;
        let value = self.data_type(None)?;
        self.require('>')?;
        Some(format!("map<{key}, {value}>"))
    }

    /// A name, with which of `(` or `[` wrapped it.
    fn name(&mut self) -> Option<(String, Option<char>)> {
        let open = self.peek()?;
        let close = match open {
            '(' => ')',
            '[' => ']',
            _ => return Some((self.word()?, None)),
        };
        self.pos += 1;
        let word = self.word()?;
        (self.next()? == close).then_some((word, Some(open)))
    }

    fn word(&mut self) -> Option<String> {
        self.skip_whitespace();
        let start = self.pos;
        while self.pos < self.data.len()
            && (self.data[self.pos].is_ascii_alphanumeric() || matches!(self.data[self.pos], '_' | '-' | '.'))
        {
            self.pos += 1;
        }
        (self.pos > start).then(|| self.data[start..self.pos].iter().collect())
    }

    /// A decimal or `0x` hexadecimal 32-bit integer.
    fn int(&mut self) -> Option<i64> {
        let word = self.word()?;
        let (digits, radix) = match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
            Some(hex) => (hex, 16),
            None => (word.as_str(), 10),
        };
        i32::from_str_radix(digits, radix).ok().map(i64::from)
    }

    /// A quoted string, unescaped, adjacent ones joined.
    fn quoted(&mut self) -> Option<String> {
        let mut quote = self.next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let mut out = String::new();
        while self.pos < self.data.len() {
            let mut c = self.data[self.pos];
            self.pos += 1;
            if c == quote {
                if matches!(self.peek(), Some('"' | '\'')) {
                    quote = self.next()?;
                    continue;
                }
                return Some(out);
            }
            if c == '\\' {
                c = *self.data.get(self.pos)?;
                self.pos += 1;
                c = match c {
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{b}',
                    'x' | 'X' => self.numeric_escape(16, 2)?,
                    '0'..='7' => {
                        self.pos -= 1;
                        self.numeric_escape(8, 3)?
                    }
                    other => other,
                };
            }
            out.push(c);
        }
        None
    }

    fn numeric_escape(&mut self, radix: u32, len: usize) -> Option<char> {
        let end = (self.pos + len).min(self.data.len());
        let mut value: Option<u32> = None;
        while self.pos < end {
            let Some(digit) = self.data[self.pos].to_digit(radix) else { break };
            value = Some(value.unwrap_or(0) * radix + digit);
            self.pos += 1;
        }
        char::from_u32(value?)
    }

    fn skip_whitespace(&mut self) {
        while self.pos < self.data.len() {
            match self.data[self.pos] {
                ' ' | '\t' | '\r' | '\n' => self.pos += 1,
                '/' if self.data.get(self.pos + 1) == Some(&'/') => {
                    while self.pos < self.data.len() && self.data[self.pos] != '\n' {
                        self.pos += 1;
                    }
                }
                '/' if self.data.get(self.pos + 1) == Some(&'*') => {
                    self.pos += 2;
                    while self.pos + 1 < self.data.len()
                        && !(self.data[self.pos] == '*' && self.data[self.pos + 1] == '/')
                    {
                        self.pos += 1;
                    }
                    self.pos = (self.pos + 2).min(self.data.len());
                }
                _ => return,
            }
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_whitespace();
        self.data.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.pos += 1;
        }
        found
    }

    fn require(&mut self, c: char) -> Option<()> {
        self.eat(c).then_some(())
    }
}

fn upsert(entries: &mut Vec<(String, Value)>, key: String, value: Value) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => entries.push((key, value)),
    }
}

/// A value as the text a `default` or `json_name` keeps.
fn as_text(value: &OptValue) -> String {
    match value {
        OptValue::Str(s) | OptValue::Bare(s) => s.clone(),
        _ => String::new(),
    }
}

fn write_file(out: &mut String, file: &File) {
    if let Some(syntax) = &file.syntax {
        out.push_str(&format!("syntax = \"{syntax}\";\n"));
    }
    if let Some(package) = &file.package {
        out.push_str(&format!("package {package};\n"));
    }
    let plain = file.imports.iter().map(|import| format!("import \"{import}\";\n"));
    let imports: Vec<String> =
        plain.chain(file.public_imports.iter().map(|import| format!("import public \"{import}\";\n"))).collect();
    section(out, &imports, false, String::clone);
    section(out, &file.options, false, option_statement);
    section(out, &in_printed_order(&file.types), false, |t| type_text(t));
    section(out, &file.extends, false, extend_text);
    section(out, &file.services, false, service_text);
}

/// Messages first, then enums, each in its order (a message's index in the wire format follows it).
fn in_printed_order(types: &[TypeDecl]) -> Vec<&TypeDecl> {
    let messages = types.iter().filter(|t| matches!(t, TypeDecl::Message(_)));
    messages.chain(types.iter().filter(|t| matches!(t, TypeDecl::Enum(_)))).collect()
}

fn type_text(t: &TypeDecl) -> String {
    match t {
        TypeDecl::Message(m) => message_text(m),
        TypeDecl::Enum(e) => enum_text(e),
    }
}

/// A section of a file or a body: a line break (the one after a body's opening brace, or a blank line after the
/// section before), then each item's text, indented in a body; nothing when there is no item.
fn section<T>(out: &mut String, items: &[T], indented: bool, text: impl Fn(&T) -> String) {
    if items.is_empty() {
        return;
    }
    out.push('\n');
    for item in items {
        if indented {
            append_indented(out, &text(item));
        } else {
            out.push_str(&text(item));
        }
    }
}

fn message_text(message: &Message) -> String {
    let mut out = format!("message {} {{", message.name);
    section(&mut out, &message.reserveds, true, |r| ranges_text("reserved", r, &[]));
    section(&mut out, &message.options, true, option_statement);
    section(&mut out, &message.fields, true, field_text);
    section(&mut out, &message.oneofs, true, oneof_text);
    section(&mut out, &message.groups, true, group_text);
    section(&mut out, &message.extensions, true, |(ranges, options)| ranges_text("extensions", ranges, options));
    section(&mut out, &message.extends, true, extend_text);
    section(&mut out, &in_printed_order(&message.nested), true, |t| type_text(t));
    out.push_str("}\n");
    out
}

fn enum_text(e: &EnumDecl) -> String {
    let mut out = format!("enum {} {{", e.name);
    section(&mut out, &e.reserveds, true, |r| ranges_text("reserved", r, &[]));
    // Options and values follow reserved ranges without a blank line.
    if e.reserveds.is_empty() && (!e.options.is_empty() || !e.constants.is_empty()) {
        out.push('\n');
    }
    for option in &e.options {
        append_indented(&mut out, &option_statement(option));
    }
    for (name, tag, options) in &e.constants {
        let mut line = format!("{name} = {tag}");
        if !options.is_empty() {
            line.push(' ');
            line.push_str(&bracketed(&options.iter().map(option_text).collect::<Vec<_>>()));
        }
        line.push_str(";\n");
        append_indented(&mut out, &line);
    }
    out.push_str("}\n");
    out
}

fn ranges_text(keyword: &str, ranges: &[Range], options: &[Opt]) -> String {
    let items: Vec<String> = ranges
        .iter()
        .map(|range| match range {
            Range::Name(name) => format!("\"{name}\""),
            Range::Tag(tag) => tag.to_string(),
            Range::Span(start, end) if *end < MAX_TAG => format!("{start} to {end}"),
            Range::Span(start, _) => format!("{start} to max"),
        })
        .collect();
    let mut out = format!("{keyword} {}", items.join(", "));
    if !options.is_empty() {
        out.push(' ');
        out.push_str(&bracketed(&options.iter().map(option_text).collect::<Vec<_>>()));
    }
    out.push_str(";\n");
    out
}

fn field_text(field: &Field) -> String {
    let mut out = String::new();
    if let Some(label) = field.label {
        out.push_str(label);
        out.push(' ');
    }
    out.push_str(&format!("{} {} = {}", field.ty, field.name, field.tag));
    let mut options: Vec<String> = field.options.iter().map(option_text).collect();
    if let Some(default) = &field.default {
        // Written by the kind of the field's type: quoted for a string, as it is for any other (bytes included).
        options.push(match field.ty.as_str() {
            "string" => format!("default = \"{}\"", escape(default)),
            _ => format!("default = {default}"),
        });
    }
    if let Some(json_name) = &field.json_name {
        options.push(format!("json_name = \"{}\"", escape(json_name)));
    }
    if !options.is_empty() {
        out.push(' ');
        out.push_str(&bracketed(&options));
    }
    out.push_str(";\n");
    out
}

fn group_text(group: &Group) -> String {
    let mut out = String::new();
    if let Some(label) = group.label {
        out.push_str(label);
        out.push(' ');
    }
    out.push_str(&format!("group {} = {} {{", group.name, group.tag));
    section(&mut out, &group.fields, true, field_text);
    out.push_str("}\n");
    out
}

fn oneof_text(oneof: &OneOf) -> String {
    let mut out = format!("oneof {} {{", oneof.name);
    section(&mut out, &oneof.options, true, option_statement);
    section(&mut out, &oneof.fields, true, field_text);
    section(&mut out, &oneof.groups, true, group_text);
    out.push_str("}\n");
    out
}

fn extend_text(extend: &Extend) -> String {
    let mut out = format!("extend {} {{", extend.name);
    section(&mut out, &extend.fields, true, field_text);
    out.push_str("}\n");
    out
}

fn service_text(service: &Service) -> String {
    let mut out = format!("service {} {{", service.name);
    section(&mut out, &service.options, true, option_statement);
    section(&mut out, &service.rpcs, true, |rpc| {
        let stream = |streamed: bool| if streamed { "stream " } else { "" };
        let (request, response) = (&rpc.request, &rpc.response);
        let mut line = format!(
            "rpc {} ({}{}) returns ({}{})",
            rpc.name,
            stream(request.0),
            request.1,
            stream(response.0),
            response.1
        );
        if !rpc.options.is_empty() {
            line.push_str(" {\n");
            for option in &rpc.options {
                append_indented(&mut line, &option_statement(option));
            }
            line.push('}');
        }
        line.push_str(";\n");
        line
    });
    out.push_str("}\n");
    out
}

fn option_statement(option: &Opt) -> String {
    format!("option {};\n", option_text(option))
}

fn option_text(option: &Opt) -> String {
    let mut out = if option.parenthesized { format!("({})", option.name) } else { option.name.clone() };
    match &option.value {
        OptValue::Str(s) => out.push_str(&format!(" = \"{}\"", escape(s))),
        OptValue::Bare(s) => out.push_str(&format!(" = {s}")),
        OptValue::Nested(nested) => {
            out.push('.');
            out.push_str(&option_text(nested));
        }
        OptValue::Map(entries) => {
            out.push_str(" = ");
            out.push_str(&map_text(entries));
        }
        OptValue::List(values) => {
            out.push_str(" = ");
            out.push_str(&bracketed(&values.iter().map(value_text).collect::<Vec<_>>()));
        }
    }
    out
}

fn map_text(entries: &[(String, Value)]) -> String {
    block('{', entries.iter().map(|(key, value)| format!("{key}: {}", value_text(value))), '}')
}

fn value_text(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("\"{}\"", escape(s)),
        Value::Bare(s) => s.clone(),
        Value::Map(entries) => map_text(entries),
        Value::List(values) => block('[', values.iter().map(value_text), ']'),
    }
}

/// `[one]`, or one item per indented line when there are several.
fn bracketed(items: &[String]) -> String {
    match items {
        [one] => format!("[{one}]"),
        _ => block('[', items.iter().cloned(), ']'),
    }
}

/// `open` and a line break, each item indented on its own lines with a comma after all but the last, `close`.
fn block(open: char, items: impl ExactSizeIterator<Item = String>, close: char) -> String {
    let mut out = format!("{open}\n");
    let last = items.len().saturating_sub(1);
    for (i, item) in items.enumerate() {
        append_indented(&mut out, &if i < last { format!("{item},") } else { item });
    }
    out.push(close);
    out
}

/// Each line of `text` indented by two spaces; an empty line inside becomes two spaces, trailing ones go.
fn append_indented(out: &mut String, text: &str) {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.len() > 1 {
        while lines.last() == Some(&"") {
            lines.pop();
        }
    }
    for line in lines {
        out.push_str("  ");
        out.push_str(line);
        out.push('\n');
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// Rewrites a file's tree as Confluent's `normalize` prints it, names resolved against the compiled pool.
struct Normalizer<'a> {
    pool: &'a DescriptorPool,
}

impl Normalizer<'_> {
    fn file(&self, file: &mut File, package: &str) -> Option<()> {
        if file.syntax.as_deref() != Some("proto3") {
            file.syntax = None;
        }
        for imports in [&mut file.imports, &mut file.public_imports] {
            imports.sort();
            imports.dedup();
        }
        let scope = package.to_string();
        file.options = self.options(std::mem::take(&mut file.options), &scope)?;
        for t in &mut file.types {
            self.type_decl(t, &scope)?;
        }
        file.extends = self.extends(std::mem::take(&mut file.extends), &scope)?;
        for service in &mut file.services {
            let full = join(&scope, &service.name);
            let descriptor = self.pool.get_service_by_name(&full)?;
            service.options = self.options(std::mem::take(&mut service.options), &full)?;
            for rpc in &mut service.rpcs {
                let method = descriptor.methods().find(|m| m.name() == rpc.name)?;
                rpc.request.1 = format!(".{}", method.input().full_name());
                rpc.response.1 = format!(".{}", method.output().full_name());
                rpc.options = self.options(std::mem::take(&mut rpc.options), &full)?;
            }
        }
        Some(())
    }

    fn type_decl(&self, t: &mut TypeDecl, scope: &str) -> Option<()> {
        match t {
            TypeDecl::Message(m) => self.message(m, scope),
            TypeDecl::Enum(e) => {
                let full = join(scope, &e.name);
                e.reserveds = split_sorted(std::mem::take(&mut e.reserveds));
                e.options = self.options(std::mem::take(&mut e.options), &full)?;
                e.constants.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
                for constant in &mut e.constants {
                    constant.2 = self.options(std::mem::take(&mut constant.2), &full)?;
                }
                Some(())
            }
        }
    }

    fn message(&self, m: &mut Message, scope: &str) -> Option<()> {
        let full = join(scope, &m.name);
        let descriptor = self.pool.get_message_by_name(&full)?;
        m.reserveds = split_sorted(std::mem::take(&mut m.reserveds));
        m.options = self.options(std::mem::take(&mut m.options), &full)?;
        for field in &mut m.fields {
            self.field(field, &descriptor, &full)?;
        }
        m.fields.sort_by_key(|f| f.tag);
        m.oneofs.retain(|o| !o.fields.is_empty());
        for oneof in &mut m.oneofs {
            oneof.options = self.options(std::mem::take(&mut oneof.options), &full)?;
            for field in &mut oneof.fields {
                self.field(field, &descriptor, &full)?;
            }
            oneof.fields.sort_by_key(|f| f.tag);
            oneof.groups.sort_by_key(|g| g.tag);
        }
        m.oneofs.sort_by_key(|o| o.fields[0].tag);
        for group in &mut m.groups {
            let inner = join(&full, &group.name);
            let group_descriptor = self.pool.get_message_by_name(&inner)?;
            for field in &mut group.fields {
                self.field(field, &group_descriptor, &inner)?;
            }
            group.fields.sort_by_key(|f| f.tag);
        }
        m.groups.sort_by_key(|g| g.tag);
        let mut extensions = Vec::new();
        for (ranges, options) in std::mem::take(&mut m.extensions) {
            let options = self.options(options, &full)?;
            for range in ranges {
                extensions.push((vec![single(range)], options.clone()));
            }
        }
        extensions.sort_by_key(|(ranges, _)| range_start(&ranges[0]));
        m.extensions = extensions;
        m.extends = self.extends(std::mem::take(&mut m.extends), &full)?;
        for nested in &mut m.nested {
            self.type_decl(nested, &full)?;
        }
        Some(())
    }

    /// A field of `message`: its type qualified, its `default` and `json_name` among its options, all in order.
    fn field(&self, field: &mut Field, message: &MessageDescriptor, scope: &str) -> Option<()> {
        let descriptor = message.get_field_by_name(&field.name)?;
        self.field_type(field, &descriptor.kind(), descriptor.is_map())?;
        self.special_options(field, scope)
    }

    /// A field's type named in full (a map's value type; a scalar as written).
    fn field_type(&self, field: &mut Field, kind: &Kind, map: bool) -> Option<()> {
        match kind {
            Kind::Message(entry) if map => {
                field.label = None;
                if let Some(value) = qualified(&entry.map_entry_value_field().kind()) {
                    let key = field.ty.strip_prefix("map<")?.split(',').next()?.trim().to_string();
                    field.ty = format!("map<{key}, {value}>");
                }
            }
            _ => {
                if let Some(name) = qualified(kind) {
                    field.ty = name;
                }
            }
        }
        Some(())
    }

    fn special_options(&self, field: &mut Field, scope: &str) -> Option<()> {
        let mut options = std::mem::take(&mut field.options);
        if let Some(default) = field.default.take() {
            let value = match field.ty.as_str() {
                "string" => OptValue::Str(default),
                ty if is_numeric_type(ty) => OptValue::Bare(format_number(&default).unwrap_or(default)),
                _ => OptValue::Bare(default),
            };
            options.push(Opt { name: "default".into(), parenthesized: false, value });
        }
        if let Some(json_name) = field.json_name.take() {
            options.push(Opt { name: "json_name".into(), parenthesized: false, value: OptValue::Str(json_name) });
        }
        field.options = self.options(options, scope)?;
        Some(())
    }

    /// Extend blocks by their qualified target, in the order each target first appears, fields by number.
    fn extends(&self, extends: Vec<Extend>, scope: &str) -> Option<Vec<Extend>> {
        let mut grouped: Vec<Extend> = Vec::new();
        for extend in extends {
            for mut field in extend.fields {
                let descriptor = self.pool.get_extension_by_name(&join(scope, &field.name))?;
                let target = format!(".{}", descriptor.containing_message().full_name());
                self.field_type(&mut field, &descriptor.kind(), false)?;
                self.special_options(&mut field, scope)?;
                match grouped.iter_mut().find(|e| e.name == target) {
                    Some(e) => e.fields.push(field),
                    None => grouped.push(Extend { name: target, fields: vec![field] }),
                }
            }
        }
        for extend in &mut grouped {
            extend.fields.sort_by_key(|f| f.tag);
        }
        Some(grouped)
    }

    /// Options named in full, a sub-field's as a map, in name order, one non-repeated custom option's
    /// occurrences merged into one.
    fn options(&self, options: Vec<Opt>, scope: &str) -> Option<Vec<Opt>> {
        let mut resolved = Vec::with_capacity(options.len());
        for mut option in options {
            if option.parenthesized
                && let Some(name) = self.extension_name(&option.name, scope)
            {
                option.name = name;
            }
            if let OptValue::Nested(nested) = option.value {
                // `(a).b.c = v` is `(a) = {b: {c: v}}`.
                let Value::Map(map) = nested
                    .name
                    .rsplit('.')
                    .fold(nested.value.into(), |inner, segment| Value::Map(vec![(segment.to_string(), inner)]))
                else {
                    return None;
                };
                option.value = OptValue::Map(map);
            }
            resolved.push(option);
        }
        resolved.sort_by(|a, b| a.name.cmp(&b.name));
        let mut merged: Vec<Opt> = Vec::with_capacity(resolved.len());
        for option in resolved {
            let single = option.parenthesized.then(|| self.pool.get_extension_by_name(&option.name)).flatten();
            match (single.filter(|e| !e.is_list()), merged.last_mut()) {
                (Some(extension), Some(last)) if last.name == option.name => {
                    let message = match extension.kind() {
                        Kind::Message(m) => Some(m),
                        _ => None,
                    };
                    let replaced = std::mem::replace(&mut last.value, OptValue::Bare(String::new()));
                    last.value = match (replaced, option.value) {
                        (OptValue::Map(a), OptValue::Map(b)) => OptValue::Map(merge_maps(message.as_ref(), a, b)),
                        (_, replacement) => replacement,
                    };
                }
                _ => merged.push(option),
            }
        }
        // Values are written in order once merged: maps by key, numbers as Java writes them.
        for option in &mut merged {
            let value = std::mem::replace(&mut option.value, OptValue::Bare(String::new()));
            option.value = match value {
                OptValue::Bare(word) if is_number_word(&word) => OptValue::Bare(format_number(&word).unwrap_or(word)),
                OptValue::Map(entries) => OptValue::Map(self.map(entries, scope)),
                OptValue::List(values) => OptValue::List(values.into_iter().map(|v| self.value(v, scope)).collect()),
                other => other,
            };
        }
        Some(merged)
    }

    /// An aggregate's entries by name, empty lists dropped, extension keys named in full.
    fn map(&self, entries: Vec<(String, Value)>, scope: &str) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if matches!(&value, Value::List(l) if l.is_empty()) {
                continue;
            }
            let key = match key.strip_prefix('[').and_then(|k| k.strip_suffix(']')) {
                Some(inner) => match self.extension_name(inner, scope) {
                    Some(full) => format!("[{full}]"),
                    None => key,
                },
                None => key,
            };
            // The first of two equal keys stays, as Java's TreeMap collector keeps it.
            if !out.iter().any(|(k, _)| *k == key) {
                out.push((key, self.value(value, scope)));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    fn value(&self, value: Value, scope: &str) -> Value {
        match value {
            Value::Map(entries) => Value::Map(self.map(entries, scope)),
            Value::List(mut values) if values.len() == 1 => self.value(values.remove(0), scope),
            Value::List(values) => Value::List(values.into_iter().map(|v| self.value(v, scope)).collect()),
            Value::Bare(word) if is_number_word(&word) => Value::Bare(format_number(&word).unwrap_or(word)),
            other => other,
        }
    }

    /// The full name (no leading dot) of the extension `name` names from `scope`, innermost scope first.
    fn extension_name(&self, name: &str, scope: &str) -> Option<String> {
        if let Some(absolute) = name.strip_prefix('.') {
            return self.pool.get_extension_by_name(absolute).map(|e| e.full_name().to_string());
        }
        let mut prefix = scope;
        loop {
            let candidate = join(prefix, name);
            if let Some(extension) = self.pool.get_extension_by_name(&candidate) {
                return Some(extension.full_name().to_string());
            }
            if prefix.is_empty() {
                return None;
            }
            prefix = prefix.rsplit_once('.').map_or("", |(outer, _)| outer);
        }
    }
}

fn join(scope: &str, name: &str) -> String {
    if scope.is_empty() { name.to_string() } else { format!("{scope}.{name}") }
}

/// `.full.Name` of a message or enum type; `None` for a scalar.
fn qualified(kind: &Kind) -> Option<String> {
    match kind {
        Kind::Message(m) => Some(format!(".{}", m.full_name())),
        Kind::Enum(e) => Some(format!(".{}", e.full_name())),
        _ => None,
    }
}

fn is_numeric_type(ty: &str) -> bool {
    matches!(
        ty,
        "bytes"
            | "double"
            | "float"
            | "fixed32"
            | "fixed64"
            | "int32"
            | "int64"
            | "sfixed32"
            | "sfixed64"
            | "sint32"
            | "sint64"
            | "uint32"
            | "uint64"
    )
}

/// Whether an option's bare word was read as a number (it starts as one does).
fn is_number_word(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_digit() || c == '-')
}

/// Reserved names and numbers one per statement, by number (names last), then by their text.
fn split_sorted(ranges: Vec<Vec<Range>>) -> Vec<Vec<Range>> {
    let mut singles: Vec<Range> = ranges.into_iter().flatten().map(single).collect();
    singles.sort_by(|a, b| range_start(a).cmp(&range_start(b)).then_with(|| range_key(a).cmp(&range_key(b))));
    singles.into_iter().map(|r| vec![r]).collect()
}

/// A range of one number as that number: how the normalized printing writes it, and how Confluent reads a
/// descriptor's.
fn single(range: Range) -> Range {
    match range {
        Range::Span(start, end) if start == end => Range::Tag(start),
        other => other,
    }
}

fn range_start(range: &Range) -> i64 {
    match range {
        Range::Tag(tag) => *tag,
        Range::Span(start, _) => *start,
        Range::Name(_) => i64::from(i32::MAX),
    }
}

/// How Java writes the item (its tie-breaker): `9..11` for a range.
fn range_key(range: &Range) -> String {
    match range {
        Range::Tag(tag) => tag.to_string(),
        Range::Span(start, end) => format!("{start}..{end}"),
        Range::Name(name) => name.clone(),
    }
}

fn merge_maps(
    message: Option<&MessageDescriptor>,
    existing: Vec<(String, Value)>,
    replacement: Vec<(String, Value)>,
) -> Vec<(String, Value)> {
    let mut merged = existing;
    for (key, value) in replacement {
        let field = message.and_then(|m| m.get_field_by_name(&key));
        match merged.iter_mut().find(|(k, _)| *k == key) {
            None => merged.push((key, value)),
            Some((_, current)) => {
                let previous = std::mem::replace(current, Value::List(Vec::new()));
                *current = merge_values(field.as_ref(), previous, value);
            }
        }
    }
    merged
}

/// Two values of one key: a singular message field's merged, a singular field's last, a repeated (or unknown)
/// field's gathered into one list without repeats.
fn merge_values(field: Option<&prost_reflect::FieldDescriptor>, a: Value, b: Value) -> Value {
    let singular = field.is_some_and(|f| !f.is_list());
    if singular
        && let (Value::Map(x), Value::Map(y)) = (&a, &b)
        && let Some(Kind::Message(m)) = field.map(|f| f.kind())
    {
        return Value::Map(merge_maps(Some(&m), x.clone(), y.clone()));
    }
    if singular {
        return b;
    }
    let mut items = Vec::new();
    for value in [a, b] {
        let more = match value {
            Value::List(list) => list,
            one => vec![one],
        };
        for item in more {
            if !items.contains(&item) {
                items.push(item);
            }
        }
    }
    Value::List(items)
}

/// A number as Java's `DecimalFormat` (no grouping, at most three decimals, half-even) writes the value Apache
/// Commons' `NumberUtils.createNumber` reads from `word`; `None` where that is not a number (`inf`, `nan`).
fn format_number(word: &str) -> Option<String> {
    let (negative, digits) = match word.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let sign = if negative { "-" } else { "" };
    let integer = |text: &str, radix: u32| -> Option<String> {
        let value = u128::from_str_radix(text, radix).ok()?;
        Some(if value == 0 { "0".to_string() } else { format!("{sign}{value}") })
    };
    if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        return integer(hex, 16);
    }
    let trimmed = digits.trim_end_matches(['l', 'L']);
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let radix = if trimmed.len() > 1 && trimmed.starts_with('0') { 8 } else { 10 };
        return integer(trimmed, radix);
    }
    let float = digits.trim_end_matches(['f', 'F', 'd', 'D']);
    if float.is_empty() || !float.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+')) {
        return None;
    }
    let value: f64 = float.parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    Some(decimal_format(if negative { -value } else { value }))
}

/// `value` with at most three decimals, rounded half to even on its shortest decimal digits, no exponent.
fn decimal_format(value: f64) -> String {
    let negative = value.is_sign_negative();
    let text = format!("{:e}", value.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
    // The digits with the decimal point after `point` of them (which may be negative or past the end).
    let point = exponent + 1;
    let keep = point + 3;
    let mut kept: Vec<u8> = if keep <= 0 { Vec::new() } else { digits.iter().copied().take(keep as usize).collect() };
    if keep >= 0 && (keep as usize) < digits.len() {
        let rest = &digits[keep as usize..];
        let half = rest[0] > 5
            || (rest[0] == 5 && (rest[1..].iter().any(|d| *d != 0) || kept.last().is_some_and(|d| d % 2 == 1)));
        if half {
            let mut i = kept.len();
            loop {
                if i == 0 {
                    kept.insert(0, 1);
                    return decimal_digits(negative, &kept, point + 1);
                }
                i -= 1;
                if kept[i] == 9 {
                    kept[i] = 0;
                } else {
                    kept[i] += 1;
                    break;
                }
            }
        }
    }
    decimal_digits(negative, &kept, point)
}

fn decimal_digits(negative: bool, digits: &[u8], point: i64) -> String {
    let digit = |i: i64| if i >= 0 && (i as usize) < digits.len() { (b'0' + digits[i as usize]) as char } else { '0' };
    let mut integer: String = (0..point.max(1)).map(|i| if point <= 0 { '0' } else { digit(i) }).collect();
    let integer_trimmed = integer.trim_start_matches('0');
    integer = if integer_trimmed.is_empty() { "0".into() } else { integer_trimmed.into() };
    let fraction: String = (point..point + 3).map(digit).collect();
    let fraction = fraction.trim_end_matches('0');
    let body = if fraction.is_empty() { integer } else { format!("{integer}.{fraction}") };
    // Java writes a negative value that rounds to zero as `-0`.
    if negative { format!("-{body}") } else { body }
}

/// Confluent's printing of a file it received as a descriptor (a base64 `FileDescriptorProto`, as its Python
/// client sends one): the descriptor turned into the tree its parser would have built (types named in full as the
/// descriptor names them, every field's `json_name`, a map's entry written as the nested message it is, options in
/// Confluent's fixed order, `confluent.*_meta` options as aggregates), then printed. `None` for a custom option
/// other than Confluent's, which its printing writes in a form this one does not reproduce.
pub(crate) fn print_descriptor(file: &prost_reflect::FileDescriptor) -> Option<String> {
    let proto = file.file_descriptor_proto();
    let proto3 = proto.syntax() == "proto3";
    let mut tree = File {
        syntax: matches!(proto.syntax(), "proto2" | "proto3").then(|| proto.syntax().to_string()),
        package: Some(proto.package().to_string()).filter(|p| !p.is_empty()),
        imports: Vec::new(),
        public_imports: Vec::new(),
        options: file_options(proto.options.as_ref()),
        types: Vec::new(),
        extends: extends_of(file.extensions(), proto3)?,
        services: Vec::new(),
    };
    for (i, dependency) in proto.dependency.iter().enumerate() {
        let i = i as i32;
        if proto.public_dependency.contains(&i) {
            tree.public_imports.push(dependency.clone());
        } else if !proto.weak_dependency.contains(&i) {
            tree.imports.push(dependency.clone());
        }
    }
    tree.options.extend(meta(&file.options(), "confluent.file_meta")?);
    for message in file.messages() {
        tree.types.push(TypeDecl::Message(message_of(&message, proto3)?));
    }
    for e in file.enums() {
        tree.types.push(TypeDecl::Enum(enum_of(&e)?));
    }
    for service in file.services() {
        let sp = service.service_descriptor_proto();
        let mut options = Vec::new();
        if let Some(o) = &sp.options {
            push_bool(&mut options, "deprecated", o.deprecated);
        }
        options.extend(meta(&service.options(), "")?);
        let mut rpcs = Vec::new();
        for method in service.methods() {
            let mp = method.method_descriptor_proto();
            let mut method_options = Vec::new();
            if let Some(o) = &mp.options {
                push_bool(&mut method_options, "deprecated", o.deprecated);
                let level = o.idempotency_level.map(|l| match l {
                    1 => "NO_SIDE_EFFECTS",
                    2 => "IDEMPOTENT",
                    _ => "IDEMPOTENCY_UNKNOWN",
                });
                push_bare(&mut method_options, "idempotency_level", level);
            }
            method_options.extend(meta(&method.options(), "")?);
            rpcs.push(Rpc {
                name: mp.name().to_string(),
                request: (mp.client_streaming(), mp.input_type().to_string()),
                response: (mp.server_streaming(), mp.output_type().to_string()),
                options: method_options,
            });
        }
        tree.services.push(Service { name: sp.name().to_string(), options, rpcs });
    }
    let mut out = String::new();
    write_file(&mut out, &tree);
    Some(out)
}

fn push_bool(options: &mut Vec<Opt>, name: &str, value: Option<bool>) {
    if let Some(value) = value {
        options.push(Opt { name: name.to_string(), parenthesized: false, value: OptValue::Bare(value.to_string()) });
    }
}

fn push_bare(options: &mut Vec<Opt>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        options.push(Opt { name: name.to_string(), parenthesized: false, value: OptValue::Bare(value.to_string()) });
    }
}

fn push_str(options: &mut Vec<Opt>, name: &str, value: &Option<String>) {
    if let Some(value) = value {
        options.push(Opt { name: name.to_string(), parenthesized: false, value: OptValue::Str(value.clone()) });
    }
}

/// A file's standard options in the order Confluent writes them.
fn file_options(options: Option<&prost_types::FileOptions>) -> Vec<Opt> {
    let mut out = Vec::new();
    let Some(o) = options else { return out };
    push_str(&mut out, "java_package", &o.java_package);
    push_str(&mut out, "java_outer_classname", &o.java_outer_classname);
    push_bool(&mut out, "java_multiple_files", o.java_multiple_files);
    #[allow(deprecated)]
    push_bool(&mut out, "java_generate_equals_and_hash", o.java_generate_equals_and_hash);
    push_bool(&mut out, "java_string_check_utf8", o.java_string_check_utf8);
    let mode = o.optimize_for.map(|m| match m {
        2 => "CODE_SIZE",
        3 => "LITE_RUNTIME",
        _ => "SPEED",
    });
    push_bare(&mut out, "optimize_for", mode);
    push_str(&mut out, "go_package", &o.go_package);
    push_bool(&mut out, "cc_generic_services", o.cc_generic_services);
    push_bool(&mut out, "java_generic_services", o.java_generic_services);
    push_bool(&mut out, "py_generic_services", o.py_generic_services);
    push_bool(&mut out, "deprecated", o.deprecated);
    push_bool(&mut out, "cc_enable_arenas", o.cc_enable_arenas);
    push_str(&mut out, "objc_class_prefix", &o.objc_class_prefix);
    push_str(&mut out, "csharp_namespace", &o.csharp_namespace);
    push_str(&mut out, "swift_prefix", &o.swift_prefix);
    push_str(&mut out, "php_class_prefix", &o.php_class_prefix);
    push_str(&mut out, "php_namespace", &o.php_namespace);
    push_str(&mut out, "php_metadata_namespace", &o.php_metadata_namespace);
    push_str(&mut out, "ruby_package", &o.ruby_package);
    out
}

/// The `name` extension of `options` (Confluent's `Meta`: doc, params, tags, rules) as Confluent writes it, an
/// aggregate of what is set; `None` (give up) for any custom option but Confluent's own.
fn meta(options: &prost_reflect::DynamicMessage, name: &str) -> Option<Option<Opt>> {
    use prost_reflect::Value as V;
    if options.unknown_fields().next().is_some() {
        return None;
    }
    let mut found = None;
    for (extension, value) in options.extensions() {
        if extension.full_name() == name {
            found = Some(value.clone());
        } else if !extension.full_name().starts_with("confluent.") {
            return None;
        }
    }
    let Some(V::Message(meta)) = found else { return Some(None) };
    let text = |message: &prost_reflect::DynamicMessage, field: &str| match message.get_field_by_name(field).as_deref()
    {
        Some(V::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    let mut entries = Vec::new();
    if let Some(doc) = text(&meta, "doc") {
        entries.push(("doc".to_string(), Value::Str(doc)));
    }
    if let Some(V::Map(params)) = meta.get_field_by_name("params").as_deref() {
        let mut pairs: Vec<(String, String)> = params
            .iter()
            .filter_map(|(k, v)| match (k, v) {
                (prost_reflect::MapKey::String(k), V::String(v)) => Some((k.clone(), v.clone())),
                _ => None,
            })
            .collect();
        pairs.sort();
        let params: Vec<Value> = pairs
            .into_iter()
            .map(|(key, value)| {
                let (key, value) =
                    (("key".to_string(), Value::Str(key.clone())), ("value".to_string(), Value::Str(value)));
                // For decimals' precision and scale Confluent writes the value first.
                if matches!(key.1, Value::Str(ref k) if k == "precision" || k == "scale") {
                    Value::Map(vec![value, key])
                } else {
                    Value::Map(vec![key, value])
                }
            })
            .collect();
        if !params.is_empty() {
            entries.push(("params".to_string(), Value::List(params)));
        }
    }
    if let Some(V::List(tags)) = meta.get_field_by_name("tags").as_deref() {
        let tags: Vec<Value> = tags.iter().filter_map(|t| t.as_str().map(|t| Value::Str(t.to_string()))).collect();
        if !tags.is_empty() {
            entries.push(("tags".to_string(), Value::List(tags)));
        }
    }
    if let Some(V::List(rules)) = meta.get_field_by_name("rules").as_deref() {
        let rules: Vec<Value> = rules
            .iter()
            .filter_map(|rule| rule.as_message())
            .map(|rule| {
                ["name", "doc", "expr", "sql"]
                    .into_iter()
                    .filter_map(|f| text(rule, f).map(|t| (f.to_string(), Value::Str(t))))
                    .collect::<Vec<_>>()
            })
            .filter(|entries| !entries.is_empty())
            .map(Value::Map)
            .collect();
        if !rules.is_empty() {
            entries.push(("rules".to_string(), Value::List(rules)));
        }
    }
    Some((!entries.is_empty()).then(|| Opt {
        name: name.to_string(),
        parenthesized: true,
        value: OptValue::Map(entries),
    }))
}

fn message_of(message: &MessageDescriptor, proto3: bool) -> Option<Message> {
    let proto = message.descriptor_proto();
    let mut out = Message { name: proto.name().to_string(), ..Message::default() };
    let mut oneofs: Vec<OneOf> = proto
        .oneof_decl
        .iter()
        .map(|o| OneOf { name: o.name().to_string(), options: Vec::new(), fields: Vec::new(), groups: Vec::new() })
        .collect();
    // In declaration order (the descriptor's lists; a `MessageDescriptor` lists its fields by number).
    for fp in &proto.field {
        let field = message.get_field_by_name(fp.name())?;
        match fp.oneof_index.filter(|_| !fp.proto3_optional()) {
            Some(i) => oneofs.get_mut(i as usize)?.fields.push(field_of(fp, &field.options(), proto3, true)?),
            None => out.fields.push(field_of(fp, &field.options(), proto3, false)?),
        }
    }
    out.oneofs = oneofs.into_iter().filter(|o| !o.fields.is_empty()).collect();
    for nested in message.child_messages() {
        out.nested.push(TypeDecl::Message(message_of(&nested, proto3)?));
    }
    for e in message.child_enums() {
        out.nested.push(TypeDecl::Enum(enum_of(&e)?));
    }
    for range in &proto.reserved_range {
        let (start, end) = (i64::from(range.start()), i64::from(range.end()) - 1);
        out.reserveds.push(vec![single(Range::Span(start, end))]);
    }
    for name in &proto.reserved_name {
        out.reserveds.push(vec![Range::Name(name.clone())]);
    }
    for range in &proto.extension_range {
        if range.options.is_some() {
            return None;
        }
        let (start, end) = (i64::from(range.start()), i64::from(range.end()) - 1);
        out.extensions.push((vec![single(Range::Span(start, end))], Vec::new()));
    }
    if let Some(o) = &proto.options {
        if o.message_set_wire_format.is_some() {
            return None;
        }
        push_bool(&mut out.options, "no_standard_descriptor_accessor", o.no_standard_descriptor_accessor);
        push_bool(&mut out.options, "deprecated", o.deprecated);
        push_bool(&mut out.options, "map_entry", o.map_entry);
    }
    out.options.extend(meta(&message.options(), "confluent.message_meta")?);
    out.extends = extends_of(message.child_extensions(), proto3)?;
    Some(out)
}

fn field_of(
    fp: &prost_types::FieldDescriptorProto,
    options: &prost_reflect::DynamicMessage,
    proto3: bool,
    in_oneof: bool,
) -> Option<Field> {
    use prost_types::field_descriptor_proto::{Label, Type};
    let label = if in_oneof {
        None
    } else if fp.proto3_optional() {
        Some("optional")
    } else {
        match fp.label() {
            Label::Repeated => Some("repeated"),
            Label::Required if !proto3 => Some("required"),
            Label::Optional if !proto3 => Some("optional"),
            _ => None,
        }
    };
    let ty = match fp.r#type() {
        _ if fp.type_name.is_some() => fp.type_name().to_string(),
        Type::Group => return None,
        other => other.as_str_name().trim_start_matches("TYPE_").to_ascii_lowercase(),
    };
    let mut field_options = Vec::new();
    if let Some(o) = &fp.options {
        if o.lazy.is_some() || o.weak.is_some() {
            return None;
        }
        let ctype = o.ctype.map(|c| match c {
            1 => "CORD",
            2 => "STRING_PIECE",
            _ => "STRING",
        });
        push_bare(&mut field_options, "ctype", ctype);
        push_bool(&mut field_options, "packed", o.packed);
        let jstype = o.jstype.map(|j| match j {
            1 => "JS_STRING",
            2 => "JS_NUMBER",
            _ => "JS_NORMAL",
        });
        push_bare(&mut field_options, "jstype", jstype);
        push_bool(&mut field_options, "deprecated", o.deprecated);
    }
    field_options.extend(meta(options, "confluent.field_meta")?);
    Some(Field {
        label,
        ty,
        name: fp.name().to_string(),
        tag: i64::from(fp.number()),
        options: field_options,
        default: fp.default_value.clone().filter(|_| !proto3),
        json_name: fp.json_name.clone(),
    })
}

fn enum_of(e: &prost_reflect::EnumDescriptor) -> Option<EnumDecl> {
    let proto = e.enum_descriptor_proto();
    let mut out =
        EnumDecl { name: proto.name().to_string(), reserveds: Vec::new(), options: Vec::new(), constants: Vec::new() };
    // In declaration order (an `EnumDescriptor` lists its values by number).
    for vp in &proto.value {
        let value = e.get_value_by_name(vp.name())?;
        let mut options = Vec::new();
        if let Some(o) = &vp.options {
            push_bool(&mut options, "deprecated", o.deprecated);
        }
        options.extend(meta(&value.options(), "confluent.enum_value_meta")?);
        out.constants.push((vp.name().to_string(), i64::from(vp.number()), options));
    }
    for range in &proto.reserved_range {
        let (start, end) = (i64::from(range.start()), i64::from(range.end()));
        out.reserveds.push(vec![single(Range::Span(start, end))]);
    }
    for name in &proto.reserved_name {
        out.reserveds.push(vec![Range::Name(name.clone())]);
    }
    if let Some(o) = &proto.options {
        push_bool(&mut out.options, "allow_alias", o.allow_alias);
        push_bool(&mut out.options, "deprecated", o.deprecated);
    }
    out.options.extend(meta(&e.options(), "confluent.enum_meta")?);
    Some(out)
}

/// Extension fields grouped by the message they extend (named in full, as the descriptor does), in the order each
/// first appears.
fn extends_of(
    extensions: impl Iterator<Item = prost_reflect::ExtensionDescriptor>,
    proto3: bool,
) -> Option<Vec<Extend>> {
    let mut out: Vec<Extend> = Vec::new();
    for extension in extensions {
        let fp = extension.field_descriptor_proto();
        let field = field_of(fp, &extension.options(), proto3, false)?;
        match out.iter_mut().find(|e| e.name == fp.extendee()) {
            Some(e) => e.fields.push(field),
            None => out.push(Extend { name: fp.extendee().to_string(), fields: vec![field] }),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_as_decimal_format_writes_them() {
        let cases = [
            ("1", "1"),
            ("-5", "-5"),
            ("0x10", "16"),
            ("010", "8"),
            ("1.50", "1.5"),
            ("1.0", "1"),
            ("1e3", "1000"),
            ("-1.25", "-1.25"),
            ("0.0005", "0"),
            ("0.0015", "0.002"),
            ("1.23456", "1.235"),
            ("-0.0001", "-0"),
            ("-0", "0"),
            ("9.9996", "10"),
            ("123.456e7", "1234560000"),
            ("18446744073709551615", "18446744073709551615"),
        ];
        for (word, written) in cases {
            assert_eq!(super::format_number(word).as_deref(), Some(written), "{word}");
        }
        for word in ["inf", "-inf", "nan", "abc"] {
            assert_eq!(super::format_number(word), None, "{word}");
        }
    }
}
