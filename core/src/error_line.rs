//! One line for an error and its causes, as the programs print it.
//!
//! Errors of this workspace follow one rule — a type's message describes its own
//! layer and returns the cause from `source()`, never both — and the chain is joined
//! here. Some messages (a type from elsewhere, or a wrapper such as the server's
//! "refusing to start: {key error}") do write their cause in: a cause the line
//! already ends with is left out, so every cause is named once.

/// `err` and its causes joined by `: `, each once, on one line (line breaks inside a
/// message become spaces).
pub fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(cause) = next {
        let text = cause
            .to_string()
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.last().is_some_and(|last| last.ends_with(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::causes;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|l| l as _)
        }
    }

    #[test]
    fn each_cause_is_named_once_on_one_line() {
        let io = Layer("No such file or directory (os error 2)", None);
        let key = Layer("cannot read key k.pem", Some(Box::new(io)));
        assert_eq!(
            causes(&key),
            "cannot read key k.pem: No such file or directory (os error 2)"
        );
        // A wrapper that wrote its cause in does not get it twice.
        let io = Layer("permission denied", None);
        let inner = Layer("cannot open db: permission denied", Some(Box::new(io)));
        let outer = Layer("refusing to start", Some(Box::new(inner)));
        assert_eq!(
            causes(&outer),
            "refusing to start: cannot open db: permission denied"
        );
        let multi = Layer("first line\n  second line\n", None);
        assert_eq!(causes(&multi), "first line second line");
    }
}
