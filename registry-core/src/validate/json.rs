//! JSON Schema data validation: the schema's own compiled `jsonschema` validator (its draft, its references
//! resolvable), every error with its instance path.

use std::sync::Arc;

use serde_json::Value;

use super::Errors;
use crate::format::json::JsonSchema;

#[derive(Clone)]
pub(crate) struct JsonValidator {
    validator: Arc<jsonschema::Validator>,
    references_size: usize,
}

impl JsonValidator {
    /// Compiles the schema's validator: same draft, same reference registry as when it was checked.
    pub(crate) fn compile(schema: &JsonSchema) -> Result<Self, super::ValidateError> {
        let references_size = schema.references().iter().map(|(name, doc)| name.len() + value_size(doc)).sum();
        let validator = schema.compile_validator().map_err(|e| super::ValidateError::Invalid(e.to_string()))?;
        Ok(Self { validator: Arc::new(validator), references_size })
    }

    pub(crate) fn references_size(&self) -> usize {
        self.references_size
    }

    pub(crate) fn validate(&self, data: &Value, out: &mut Errors) {
        // Most documents are valid: the check that stops at the first failure and builds no error is the cheap
        // way to say so; the errors are gathered only for a document that has some.
        if self.validator.is_valid(data) {
            return;
        }
        for error in self.validator.iter_errors(data) {
            if out.full() {
                break;
            }
            out.push(error.instance_path().as_str(), error.to_string());
        }
    }
}

/// Roughly the size of a JSON document's text, without writing it out.
fn value_size(value: &Value) -> usize {
    let mut size = 0usize;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        size = size.saturating_add(match value {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len() + 2,
            Value::Array(items) => {
                stack.extend(items.iter());
                2 + items.len()
            }
            Value::Object(map) => {
                stack.extend(map.values());
                2 + map.keys().map(|k| k.len() + 4).sum::<usize>()
            }
        });
    }
    size
}
