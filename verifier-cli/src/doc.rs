//! A small ordered document model for human-readable reports: built once, printed
//! either as indented `key: value` text (in the order it was built) or as JSON.

use serde_json::{Map, Value};

/// A report node: a JSON scalar, an ordered map or a list.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    Scalar(Value),
    Map(Vec<(String, Doc)>),
    List(Vec<Doc>),
}

impl Doc {
    /// An empty map, to be filled with [`Doc::with`].
    pub fn map() -> Doc {
        Doc::Map(Vec::new())
    }

    /// This map with `key: value` appended (a no-op on a scalar or list).
    pub fn with(mut self, key: &str, value: impl Into<Doc>) -> Doc {
        if let Doc::Map(entries) = &mut self {
            entries.push((key.to_owned(), value.into()));
        }
        self
    }

    /// This map with `key: value` appended when `value` is present.
    pub fn with_opt(self, key: &str, value: Option<impl Into<Doc>>) -> Doc {
        match value {
            Some(value) => self.with(key, value),
            None => self,
        }
    }

    /// This map with all of `fields` appended.
    pub fn with_all(self, fields: Vec<(String, Doc)>) -> Doc {
        fields.into_iter().fold(self, |doc, (k, v)| doc.with(&k, v))
    }

    pub fn to_json(&self) -> Value {
        match self {
            Doc::Scalar(v) => v.clone(),
            Doc::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect::<Map<_, _>>(),
            ),
            Doc::List(items) => Value::Array(items.iter().map(Doc::to_json).collect()),
        }
    }

    /// Indented text, one `key: value` per line; multi-line strings become blocks.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        self.render_into(0, &mut out);
        let mut text = out.join("\n");
        text.push('\n');
        text
    }

    fn render_into(&self, indent: usize, out: &mut Vec<String>) {
        let pad = " ".repeat(indent);
        match self {
            Doc::Scalar(v) => out.push(format!("{pad}{}", scalar_text(v))),
            Doc::Map(entries) => {
                for (key, value) in entries {
                    match value {
                        Doc::Scalar(Value::String(s)) if s.contains('\n') => {
                            out.push(format!("{pad}{key}: |"));
                            for line in s.trim_end_matches('\n').split('\n') {
                                out.push(format!("{pad}  {line}"));
                            }
                        }
                        Doc::Scalar(v) => out.push(format!("{pad}{key}: {}", scalar_text(v))),
                        Doc::Map(m) if m.is_empty() => out.push(format!("{pad}{key}: {{}}")),
                        Doc::List(l) if l.is_empty() => out.push(format!("{pad}{key}: []")),
                        nested => {
                            out.push(format!("{pad}{key}:"));
                            nested.render_into(indent + 2, out);
                        }
                    }
                }
            }
            Doc::List(items) => {
                for item in items {
                    let start = out.len();
                    item.render_into(indent + 2, out);
                    if let Some(first) = out.get_mut(start) {
                        first.replace_range(indent..indent + 2, "- ");
                    }
                }
            }
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl From<&str> for Doc {
    fn from(s: &str) -> Doc {
        Doc::Scalar(Value::String(s.to_owned()))
    }
}
impl From<String> for Doc {
    fn from(s: String) -> Doc {
        Doc::Scalar(Value::String(s))
    }
}
impl From<u64> for Doc {
    fn from(n: u64) -> Doc {
        Doc::Scalar(Value::from(n))
    }
}
impl From<usize> for Doc {
    fn from(n: usize) -> Doc {
        Doc::Scalar(Value::from(n))
    }
}
impl From<bool> for Doc {
    fn from(b: bool) -> Doc {
        Doc::Scalar(Value::Bool(b))
    }
}
impl From<Vec<Doc>> for Doc {
    fn from(items: Vec<Doc>) -> Doc {
        Doc::List(items)
    }
}
impl From<&Value> for Doc {
    fn from(v: &Value) -> Doc {
        match v {
            Value::Object(m) => Doc::Map(m.iter().map(|(k, v)| (k.clone(), v.into())).collect()),
            Value::Array(a) => Doc::List(a.iter().map(Doc::from).collect()),
            scalar => Doc::Scalar(scalar.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_maps_lists_and_blocks_in_build_order() {
        let doc = Doc::map()
            .with("type", "note")
            .with("size", 3u64)
            .with("text", "a\nb\n")
            .with(
                "sigs",
                vec![
                    Doc::map().with("name", "x").with("ok", true),
                    Doc::from("y"),
                ],
            );
        assert_eq!(
            doc.render(),
            "type: note\nsize: 3\ntext: |\n  a\n  b\nsigs:\n  - name: x\n    ok: true\n  - y\n"
        );
        assert_eq!(doc.to_json()["sigs"][0]["ok"], Value::Bool(true));
    }
}
