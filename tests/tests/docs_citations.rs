//! The docs stand alone and keep their claims true: every test the docs cite as
//! `path.rs::name` (or `…::name`, the same file as the citation before it, or
//! `path.rs::tests::name` for a unit test) exists as a function of that file, and
//! every citation of a section of docs/design.md names a section it has.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Every file under `dir` whose name ends with one of `exts`, skipping build
/// output and hidden directories.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                files(&path, exts, out);
            }
        } else if exts.iter().any(|e| name.ends_with(e)) {
            out.push(path);
        }
    }
}

/// The code spans of a Markdown text that cite a test.
fn cited_tests(text: &str) -> Vec<(String, String)> {
    let mut cited = Vec::new();
    let mut last_file: Option<String> = None;
    for span in text.split('`').skip(1).step_by(2) {
        let (file, path) = if let Some(rest) = span.strip_prefix("…::") {
            match &last_file {
                Some(f) => (f.clone(), rest),
                None => panic!("`{span}` follows no citation of a file"),
            }
        } else if let Some((file, rest)) = span.split_once(".rs::") {
            if file.contains(' ') {
                continue;
            }
            (format!("{file}.rs"), rest)
        } else {
            continue;
        };
        last_file = Some(file.clone());
        let name = path.rsplit("::").next().unwrap_or(path);
        if name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            cited.push((file, name.to_owned()));
        }
    }
    cited
}

#[test]
fn every_test_the_docs_cite_exists() {
    let root = root();
    let mut docs = Vec::new();
    files(&root.join("docs"), &[".md"], &mut docs);
    let mut missing = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for (file, name) in cited_tests(&text) {
            let source = std::fs::read_to_string(root.join(&file)).unwrap_or_default();
            checked += 1;
            if !source.contains(&format!("fn {name}(")) {
                missing.push(format!(
                    "{} cites {file}::{name}",
                    doc.strip_prefix(&root).unwrap().display()
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} citations found");
    assert!(
        missing.is_empty(),
        "cited tests that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_design_citation_names_a_section_of_the_design() {
    let root = root();
    let design = std::fs::read_to_string(root.join("docs/design.md")).unwrap();
    let sections: Vec<String> = design
        .lines()
        .filter(|l| l.starts_with("## ") || l.starts_with("### "))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|n| n.trim_end_matches('.').to_owned())
        .collect();
    let mut sources = Vec::new();
    for dir in [
        "core",
        "server",
        "verifier-cli",
        "keys",
        "edge",
        "witness",
        "bench",
        "tests",
        "docs",
    ] {
        files(&root.join(dir), &[".rs", ".md"], &mut sources);
    }
    let cite = ["docs/design.md", " §"].concat();
    let mut wrong = Vec::new();
    for file in sources.iter().filter(|f| !f.ends_with("docs/design.md")) {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(
            !text.contains(&["DESIGN", " §"].concat()),
            "{} cites a design file the repository does not have",
            file.display()
        );
        for cited in text.split(&cite).skip(1) {
            let section: String = cited
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if !sections.contains(&section) {
                wrong.push(format!("{}: §{section}", file.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "sections docs/design.md does not have:\n{}",
        wrong.join("\n")
    );
}
