//! dirHash (docs/design.md §2) known answers and the inputs it must refuse.

use glassbox_core::dirhash::{dir_hash, DirHashError};
use sha2::{Digest, Sha256};

fn file(path: &str, contents: &[u8]) -> (String, [u8; 32]) {
    (path.to_owned(), Sha256::digest(contents).into())
}

/// The fixed tree: `B.txt` = "upper", `a.txt` = "hello\n", `b/c.txt` = "world\n",
/// `empty` = "", `with space.txt` = "x".
fn fixed_tree() -> Vec<(String, [u8; 32])> {
    vec![
        file("with space.txt", b"x"),
        file("a.txt", b"hello\n"),
        file("b/c.txt", b"world\n"),
        file("empty", b""),
        file("B.txt", b"upper"),
    ]
}

/// Produced by writing the fixed tree to a fresh directory and running, inside it,
/// `find . -type f | cut -c3- | LC_ALL=C sort | xargs -r -d '\n' sha256sum | sha256sum`
/// (GNU coreutils), as docs/design.md §2 specifies.
const FIXED_TREE_DIRHASH: &str = "95221ede299969f78a5fa9136d23f05b32dc9ae78184f9080a6412b25dce04e8";

#[test]
fn matches_the_shell_pipeline_on_a_fixed_tree() {
    assert_eq!(dir_hash(fixed_tree()).unwrap(), FIXED_TREE_DIRHASH);
}

#[test]
fn input_order_does_not_matter() {
    let mut files = fixed_tree();
    files.reverse();
    assert_eq!(dir_hash(files).unwrap(), FIXED_TREE_DIRHASH);
}

#[test]
fn empty_tree_is_sha256_of_nothing() {
    assert_eq!(
        dir_hash(Vec::new()).unwrap(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn sorts_by_bytes_not_by_locale() {
    // Uppercase sorts before lowercase in byte order; the line for "B.txt" comes first.
    let one = dir_hash(vec![file("B.txt", b"upper")]).unwrap();
    let expected_line = format!("{}  B.txt\n", hex::encode(Sha256::digest(b"upper")));
    assert_eq!(one, hex::encode(Sha256::digest(expected_line.as_bytes())));
}

#[test]
fn changed_file_content_changes_the_hash() {
    let mut files = fixed_tree();
    files[1] = file("a.txt", b"hello!\n");
    assert_ne!(dir_hash(files).unwrap(), FIXED_TREE_DIRHASH);
}

#[test]
fn renamed_file_changes_the_hash() {
    let mut files = fixed_tree();
    files[1].0 = "a2.txt".to_owned();
    assert_ne!(dir_hash(files).unwrap(), FIXED_TREE_DIRHASH);
}

#[test]
fn newline_in_path_is_rejected() {
    let mut files = fixed_tree();
    files.push(file("evil\nname", b""));
    assert_eq!(
        dir_hash(files),
        Err(DirHashError::NewlineInPath {
            path: "evil\nname".to_owned()
        })
    );
}

#[test]
fn empty_path_is_rejected() {
    assert_eq!(dir_hash(vec![file("", b"")]), Err(DirHashError::EmptyPath));
}

#[test]
fn duplicate_path_is_rejected() {
    let mut files = fixed_tree();
    files.push(file("a.txt", b"other"));
    assert_eq!(
        dir_hash(files),
        Err(DirHashError::DuplicatePath {
            path: "a.txt".to_owned()
        })
    );
}
