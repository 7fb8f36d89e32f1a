//! Renders a `FileDescriptorProto` as `.proto` source, for schemas that arrived as base64 descriptors.
//!
//! The output compiles back to the same descriptor (source info aside), so both have one identity.

use std::fmt::Write;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto, ServiceDescriptorProto,
};

/// Nesting past which rendering stops; the descriptor decoder already bounds real inputs well below it.
const MAX_DEPTH: usize = 100;

/// `.proto` source for `file`.
pub fn render(file: &FileDescriptorProto) -> String {
    let mut out = String::with_capacity(1024);
    let syntax = file.syntax.as_deref().filter(|s| !s.is_empty()).unwrap_or("proto2");
    let proto3 = syntax == "proto3";
    if syntax == "editions" {
        out.push_str("edition = \"2023\";\n");
    } else {
        let _ = writeln!(out, "syntax = \"{syntax}\";");
    }
    if let Some(package) = file.package.as_deref().filter(|p| !p.is_empty()) {
        let _ = writeln!(out, "package {package};");
    }
    for (i, dependency) in file.dependency.iter().enumerate() {
        let i = i as i32;
        let modifier = if file.public_dependency.contains(&i) {
            "public "
        } else if file.weak_dependency.contains(&i) {
            "weak "
        } else {
            ""
        };
        let _ = writeln!(out, "import {modifier}{};", quote(dependency));
    }
    if let Some(options) = &file.options {
        let mut option = |name: &str, value: String| {
            let _ = writeln!(out, "option {name} = {value};");
        };
        let strings = [
            ("java_package", &options.java_package),
            ("java_outer_classname", &options.java_outer_classname),
            ("go_package", &options.go_package),
            ("objc_class_prefix", &options.objc_class_prefix),
            ("csharp_namespace", &options.csharp_namespace),
            ("swift_prefix", &options.swift_prefix),
            ("php_class_prefix", &options.php_class_prefix),
            ("php_namespace", &options.php_namespace),
            ("php_metadata_namespace", &options.php_metadata_namespace),
            ("ruby_package", &options.ruby_package),
        ];
        for (name, value) in strings {
            if let Some(value) = value {
                option(name, quote(value));
            }
        }
        let flags = [
            ("java_multiple_files", options.java_multiple_files),
            ("java_string_check_utf8", options.java_string_check_utf8),
            ("cc_generic_services", options.cc_generic_services),
            ("java_generic_services", options.java_generic_services),
            ("py_generic_services", options.py_generic_services),
            ("deprecated", options.deprecated),
            ("cc_enable_arenas", options.cc_enable_arenas),
        ];
        for (name, value) in flags {
            if let Some(value) = value {
                option(name, value.to_string());
            }
        }
        if let Some(mode) = options.optimize_for {
            let mode = match mode {
                2 => "CODE_SIZE",
                3 => "LITE_RUNTIME",
                _ => "SPEED",
            };
            option("optimize_for", mode.to_string());
        }
    }
    for message in &file.message_type {
        out.push('\n');
        render_message(&mut out, message, proto3, 0);
    }
    for e in &file.enum_type {
        out.push('\n');
        render_enum(&mut out, e, 0);
    }
    render_extensions(&mut out, &file.extension, proto3, 0);
    for service in &file.service {
        out.push('\n');
        render_service(&mut out, service);
    }
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn render_message(out: &mut String, message: &DescriptorProto, proto3: bool, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    indent(out, depth);
    let _ = writeln!(out, "message {} {{", message.name());
    let inner = depth + 1;
    if message.options.as_ref().and_then(|o| o.deprecated) == Some(true) {
        indent(out, inner);
        out.push_str("option deprecated = true;\n");
    }
    for nested in message.nested_type.iter().filter(|n| !is_map_entry(n)) {
        render_message(out, nested, proto3, inner);
    }
    for e in &message.enum_type {
        render_enum(out, e, inner);
    }
    // Fields in declaration order; a real oneof is written where its first field stands.
    let mut written_oneofs = Vec::new();
    for field in &message.field {
        match real_oneof(field) {
            Some(index) => {
                if written_oneofs.contains(&index) {
                    continue;
                }
                written_oneofs.push(index);
                let name = message.oneof_decl.get(index as usize).map(|o| o.name()).unwrap_or("oneof");
                indent(out, inner);
                let _ = writeln!(out, "oneof {name} {{");
                for member in message.field.iter().filter(|f| real_oneof(f) == Some(index)) {
                    render_field(out, member, message, proto3, inner + 1, true);
                }
                indent(out, inner);
                out.push_str("}\n");
            }
            None => render_field(out, field, message, proto3, inner, false),
        }
    }
    for range in &message.extension_range {
        indent(out, inner);
        let (start, end) = (range.start(), range.end() - 1);
        if end >= 536_870_911 {
            let _ = writeln!(out, "extensions {start} to max;");
        } else if start == end {
            let _ = writeln!(out, "extensions {start};");
        } else {
            let _ = writeln!(out, "extensions {start} to {end};");
        }
    }
    render_extensions(out, &message.extension, proto3, inner);
    let ranges: Vec<String> = message
        .reserved_range
        .iter()
        .map(|r| match (r.start(), r.end() - 1) {
            (start, end) if start == end => start.to_string(),
            (start, end) if end >= 536_870_911 => format!("{start} to max"),
            (start, end) => format!("{start} to {end}"),
        })
        .collect();
    if !ranges.is_empty() {
        indent(out, inner);
        let _ = writeln!(out, "reserved {};", ranges.join(", "));
    }
    if !message.reserved_name.is_empty() {
        indent(out, inner);
        let names: Vec<String> = message.reserved_name.iter().map(|n| quote(n)).collect();
        let _ = writeln!(out, "reserved {};", names.join(", "));
    }
    indent(out, depth);
    out.push_str("}\n");
}

fn real_oneof(field: &FieldDescriptorProto) -> Option<i32> {
    if field.proto3_optional() { None } else { field.oneof_index }
}

fn is_map_entry(message: &DescriptorProto) -> bool {
    message.options.as_ref().and_then(|o| o.map_entry) == Some(true)
}

fn render_field(
    out: &mut String,
    field: &FieldDescriptorProto,
    parent: &DescriptorProto,
    proto3: bool,
    depth: usize,
    in_oneof: bool,
) {
    indent(out, depth);
    let map_entry = (field.r#type() == Type::Message && field.label() == Label::Repeated)
        .then(|| map_entry_for(field, parent))
        .flatten();
    if let Some(entry) = map_entry {
        let key = entry.field.iter().find(|f| f.number() == 1);
        let value = entry.field.iter().find(|f| f.number() == 2);
        let (Some(key), Some(value)) = (key, value) else { return };
        let _ = write!(out, "map<{}, {}> {} = {}", type_name(key), type_name(value), field.name(), field.number());
    } else {
        let label = match field.label() {
            Label::Repeated => "repeated ",
            Label::Required => "required ",
            Label::Optional if in_oneof => "",
            Label::Optional if field.proto3_optional() => "optional ",
            Label::Optional if proto3 => "",
            Label::Optional => "optional ",
        };
        let _ = write!(out, "{label}{} {} = {}", type_name(field), field.name(), field.number());
    }
    let mut options = Vec::new();
    if let Some(default) = &field.default_value {
        let value = match field.r#type() {
            Type::String => quote(default),
            Type::Bytes => format!("\"{default}\""),
            _ => default.clone(),
        };
        options.push(format!("default = {value}"));
    }
    if let Some(json_name) = &field.json_name
        && *json_name != default_json_name(field.name())
    {
        options.push(format!("json_name = {}", quote(json_name)));
    }
    if let Some(field_options) = &field.options {
        if let Some(packed) = field_options.packed {
            options.push(format!("packed = {packed}"));
        }
        if field_options.deprecated == Some(true) {
            options.push("deprecated = true".into());
        }
    }
    if !options.is_empty() {
        let _ = write!(out, " [{}]", options.join(", "));
    }
    out.push_str(";\n");
}

/// The map entry type a repeated message field points at, if it is one of `parent`'s nested entries.
fn map_entry_for<'a>(field: &FieldDescriptorProto, parent: &'a DescriptorProto) -> Option<&'a DescriptorProto> {
    let type_name = field.type_name();
    let short = type_name.rsplit('.').next()?;
    parent.nested_type.iter().find(|n| n.name() == short && is_map_entry(n))
}

fn type_name(field: &FieldDescriptorProto) -> String {
    let scalar = match field.r#type() {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
        Type::Message | Type::Enum | Type::Group => return field.type_name().to_string(),
    };
    scalar.to_string()
}

fn render_enum(out: &mut String, e: &EnumDescriptorProto, depth: usize) {
    indent(out, depth);
    let _ = writeln!(out, "enum {} {{", e.name());
    let inner = depth + 1;
    if let Some(options) = &e.options {
        if options.allow_alias == Some(true) {
            indent(out, inner);
            out.push_str("option allow_alias = true;\n");
        }
        if options.deprecated == Some(true) {
            indent(out, inner);
            out.push_str("option deprecated = true;\n");
        }
    }
    for value in &e.value {
        indent(out, inner);
        let deprecated = value.options.as_ref().and_then(|o| o.deprecated) == Some(true);
        let suffix = if deprecated { " [deprecated = true]" } else { "" };
        let _ = writeln!(out, "{} = {}{suffix};", value.name(), value.number());
    }
    let ranges: Vec<String> = e
        .reserved_range
        .iter()
        .map(|r| if r.start() == r.end() { r.start().to_string() } else { format!("{} to {}", r.start(), r.end()) })
        .collect();
    if !ranges.is_empty() {
        indent(out, inner);
        let _ = writeln!(out, "reserved {};", ranges.join(", "));
    }
    if !e.reserved_name.is_empty() {
        indent(out, inner);
        let names: Vec<String> = e.reserved_name.iter().map(|n| quote(n)).collect();
        let _ = writeln!(out, "reserved {};", names.join(", "));
    }
    indent(out, depth);
    out.push_str("}\n");
}

fn render_extensions(out: &mut String, extensions: &[FieldDescriptorProto], proto3: bool, depth: usize) {
    let mut extendees: Vec<&str> = Vec::new();
    for extension in extensions {
        if !extendees.contains(&extension.extendee()) {
            extendees.push(extension.extendee());
        }
    }
    let empty = DescriptorProto::default();
    for extendee in extendees {
        indent(out, depth);
        let _ = writeln!(out, "extend {extendee} {{");
        for extension in extensions.iter().filter(|e| e.extendee() == extendee) {
            render_field(out, extension, &empty, proto3, depth + 1, false);
        }
        indent(out, depth);
        out.push_str("}\n");
    }
}

fn render_service(out: &mut String, service: &ServiceDescriptorProto) {
    let _ = writeln!(out, "service {} {{", service.name());
    for method in &service.method {
        let stream = |yes: bool| if yes { "stream " } else { "" };
        let _ = writeln!(
            out,
            "  rpc {}({}{}) returns ({}{});",
            method.name(),
            stream(method.client_streaming()),
            method.input_type(),
            stream(method.server_streaming()),
            method.output_type()
        );
    }
    out.push_str("}\n");
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// protoc's default JSON name: underscores removed, the letter after each one upper-cased.
pub(crate) fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}
