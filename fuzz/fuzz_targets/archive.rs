//! Archives (`glassbox verify --contents`): whatever the bytes, reading them as each
//! format — tar (plain, gzip, xz, zstd), zip, Debian package — ends in members or an
//! error, never a panic, within the member and unpacked-bytes limits; and every
//! member name it returns stays inside the archive.
#![no_main]

use glassbox_archive::{read_members, Compression, Format, Limits, MemberKind};
use indicatif::ProgressBar;
use libfuzzer_sys::fuzz_target;

const FORMATS: [Format; 7] = [
    Format::Tar(Compression::None),
    Format::Tar(Compression::Gzip),
    Format::Tar(Compression::Xz),
    Format::Tar(Compression::Zstd),
    Format::Zip,
    Format::Deb,
    Format::Tar(Compression::None),
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the format when the bytes do not name one themselves, so
    // that every reader sees every input shape.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = glassbox_archive::sniff(rest).unwrap_or(FORMATS[usize::from(pick) % 7]);
    let limits = Limits {
        max_members: 1_000,
        max_unpacked: 16 << 20,
    };
    let Ok(members) = read_members(
        std::io::Cursor::new(rest),
        "fuzzed",
        format,
        limits,
        &ProgressBar::hidden(),
    ) else {
        return;
    };
    assert!(members.len() <= limits.max_members);
    for member in &members {
        let name = &member.name;
        assert!(!name.is_empty() && !name.starts_with('/'), "{name:?}");
        assert!(
            name.split('/')
                .all(|part| part != ".." && part != "." && !part.is_empty()),
            "{name:?}"
        );
        if let MemberKind::Link {
            resolved: Ok(digest),
            ..
        } = &member.kind
        {
            assert!(
                members.iter().any(|m| m.kind == MemberKind::File(*digest)),
                "a link resolved to a digest no file member has"
            );
        }
    }
});
