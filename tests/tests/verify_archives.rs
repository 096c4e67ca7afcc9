//! `glassbox verify --contents ARCHIVE`: a release shipped as a tarball, zip or Debian
//! package verified member by member, the archives made by the system's own tools
//! (tar, gzip, xz, zstd, zip, dpkg-deb); and hostile archives — members that would
//! land outside the unpack directory, links out, compression and member-count
//! bombs, bytes after the end — refused with a clear error, with nothing written
//! anywhere (docs/cli.md "glassbox verify", docs/threat-model.md "Archives").

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use glassbox_tests::cli::Run;
use glassbox_tests::release::{copy_tree, RELEASE_FILES};
use glassbox_tests::story::Story;

/// A story with the release built and attested, and the customer's copy of its files
/// in `installed/`.
fn released() -> Story {
    let mut story = Story::begin();
    let (_, vendor) = story.release_directory();
    copy_tree(&vendor, &story.dir.join("installed"));
    story.write_policy("policy.toml");
    story
}

fn verify(story: &Story, items: &[&str], extra: &[&str]) -> Run {
    story.verify_items(&[items, extra].concat())
}

/// The table row whose first column is `path`.
#[track_caller]
fn row<'a>(run: &'a Run, path: &str) -> &'a str {
    run.stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some(path))
        .unwrap_or_else(|| panic!("no row for {path}:\n{run}"))
}

#[track_caller]
fn sh(dir: &Path, script: &str) {
    let out = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir)
        .output()
        .expect("spawn sh");
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every path under `dir`, for proving that a verification wrote nothing.
fn listing(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path.clone());
            }
            all.push(path);
        }
    }
    all.sort();
    all
}

#[test]
fn a_release_tarball_zip_and_package_verify_member_by_member() {
    let story = released();
    let dir = &story.dir;
    sh(
        dir,
        "tar -czf release.tar.gz -C installed . \
         && tar -cJf release.tar.xz -C installed app lib share \
         && tar --zstd -cf release.tar.zst -C installed . \
         && (cd installed && zip -qr ../release.zip .)",
    );
    for archive in [
        "release.tar.gz",
        "release.tar.xz",
        "release.tar.zst",
        "release.zip",
    ] {
        // Without --contents the archive is one artifact, and no build names it.
        let whole = verify(&story, &[archive], &[]);
        whole.exits(1);
        assert!(
            whole
                .stdout
                .contains("no logged build attestation names this artifact"),
            "{whole}"
        );

        let run = verify(&story, &[archive], &["--contents"]);
        let out = run.ok();
        let line = row(&run, archive);
        assert!(line.contains(" archive "), "{line}");
        assert!(line.contains("judged by its 3 members"), "{line}");
        for file in RELEASE_FILES {
            let line = row(&run, &format!("{archive}!/{file}"));
            assert!(line.contains(" verified "), "{archive}: {line}");
            assert!(line.contains("Independent Audit Ltd"), "{line}");
        }
        assert_eq!(
            out.lines().last(),
            Some("3 verified, 0 failed, 0 not covered, 1 archive judged by its members"),
            "{run}"
        );
    }

    let doc = verify(&story, &["release.zip"], &["--contents", "--json"]).json();
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{doc}");
    assert_eq!(results[0]["status"], "archive");
    // Members come in the archive's order, which is zip's, not sorted.
    let lib = results
        .iter()
        .find(|r| r["relativePath"] == "lib/libapp.so")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(lib["path"], "release.zip!/lib/libapp.so");
    assert_eq!(lib["status"], "verified");
    assert_eq!(lib["archiveIndex"], 0);
    assert_eq!(lib["withinVerifiedArchive"], false);
    assert_eq!(doc["summary"]["archives"], 1);
}

#[test]
fn a_package_is_read_as_dpkg_installs_it_and_links_are_judged_by_their_target() {
    let story = released();
    let dir = &story.dir;
    let root = dir.join("pkg");
    copy_tree(&dir.join("installed"), &root.join("opt/app"));
    fs::create_dir_all(root.join("DEBIAN")).unwrap();
    fs::write(
        root.join("DEBIAN/control"),
        "Package: app\nVersion: 2.0\nArchitecture: all\nMaintainer: App Vendor <v@example.com>\n\
         Description: the release\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::os::unix::fs::symlink("/opt/app/app", root.join("usr/bin/app")).unwrap();
    std::os::unix::fs::symlink("../../etc/shadow", root.join("usr/bin/peek")).unwrap();
    sh(
        dir,
        "dpkg-deb --root-owner-group -Zxz --build pkg app.deb >/dev/null",
    );

    let run = verify(&story, &["app.deb"], &["--contents"]);
    run.exits(1);
    for file in RELEASE_FILES {
        let line = row(&run, &format!("app.deb!/opt/app/{file}"));
        assert!(line.contains(" verified "), "{line}");
        assert!(line.contains(&format!("attested as {file}")), "{line}");
    }
    // An absolute link in a package points into the package (it is unpacked at /).
    let link = row(&run, "app.deb!/usr/bin/app");
    assert!(
        link.contains(" verified ") && link.contains("symbolic link to /opt/app/app"),
        "{link}"
    );
    let out = row(&run, "app.deb!/usr/bin/peek");
    assert!(
        out.contains("failed") && out.contains("leads to etc/shadow, which is not a file"),
        "{out}"
    );
    // The control files are members too (maintainer scripts run as root): one no build
    // names fails the package.
    let control = row(&run, "app.deb!/DEBIAN/control");
    assert!(control.contains("not covered"), "{control}");
    assert!(
        run.stdout
            .contains("4 verified, 1 failed, 1 not covered, 1 archive judged by its members"),
        "{run}"
    );
}

#[test]
fn a_member_no_build_names_or_with_other_bytes_fails_its_row() {
    let story = released();
    let dir = &story.dir;
    fs::write(dir.join("installed/lib/extra.so"), b"slipped in").unwrap();
    fs::write(dir.join("installed/app"), b"APP\0patched").unwrap();
    sh(dir, "tar -czf release.tar.gz -C installed .");
    let run = verify(&story, &["release.tar.gz"], &["--contents"]);
    let out = run.exits(1);
    assert!(
        row(&run, "release.tar.gz!/app").contains("not covered"),
        "{run}"
    );
    assert!(
        row(&run, "release.tar.gz!/lib/extra.so").contains("not covered"),
        "{run}"
    );
    assert!(
        row(&run, "release.tar.gz!/lib/libapp.so").contains(" verified "),
        "{run}"
    );
    assert!(out.contains("2 verified, 0 failed, 2 not covered"), "{run}");
}

/// A tar stream of `(name, entry type, link target, content)`, headers written raw so
/// that names no well-behaved tool would write get in.
fn raw_tar(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, kind, link, content) in entries {
        let mut header = tar::Header::new_gnu();
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(*kind);
        header.set_mode(0o755);
        header.set_size(content.len() as u64);
        header.set_cksum();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(content);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Runs `verify --contents` on `archive` (written into a fresh directory of the
/// story) and checks it is refused with `message`, writing nothing anywhere.
#[track_caller]
fn refused(story: &Story, name: &str, archive: &[u8], message: &str) {
    let scratch = story.dir.join("hostile");
    fs::create_dir_all(&scratch).unwrap();
    fs::write(scratch.join(name), archive).unwrap();
    let before = listing(&story.dir);
    let run = story.verify_items(&["--contents", &format!("hostile/{name}")]);
    run.exits(2);
    assert!(run.stderr.contains(message), "{name}: {run}");
    assert_eq!(run.stderr.lines().count(), 1, "one line: {run}");
    assert!(run.stdout.is_empty(), "{run}");
    assert_eq!(
        listing(&story.dir),
        before,
        "{name}: verify wrote something"
    );
    assert!(!Path::new("/tmp/glassbox-escaped").exists());
    fs::remove_file(scratch.join(name)).unwrap();
}

#[test]
fn hostile_archives_are_refused_with_a_clear_error_and_nothing_written() {
    let story = released();
    // The state directory exists before the listing is taken.
    verify(&story, &["installed"], &[]).ok();
    use tar::EntryType::{Regular, Symlink};

    let climbs = raw_tar(&[("../../escaped", Regular, "", b"x")]);
    refused(
        &story,
        "climbs.tar",
        &climbs,
        "member \"../../escaped\" would be unpacked outside the directory the archive is \
         unpacked into (it climbs out with ..); refusing this archive",
    );
    let absolute = gzip(&raw_tar(&[("/tmp/glassbox-escaped", Regular, "", b"x")]));
    refused(
        &story,
        "absolute.tar.gz",
        &absolute,
        "(it is an absolute path)",
    );
    // The classic: a link to a directory outside, then a file written through it.
    let through = raw_tar(&[
        ("etc", Symlink, "/etc", b""),
        ("etc/cron.d/evil", Regular, "", b"* * * * * root sh"),
    ]);
    refused(
        &story,
        "through.tar",
        &through,
        "member \"etc/cron.d/evil\" would be unpacked outside the directory the archive is \
         unpacked into (it lies under a symbolic link of the archive)",
    );
    let mut trailing = raw_tar(&[("app", Regular, "", b"APP")]);
    trailing.extend_from_slice(&raw_tar(&[("hidden", Regular, "", b"unseen")]));
    refused(
        &story,
        "trailing.tar",
        &trailing,
        "bytes after the end of the tar archive",
    );

    // A zip member named to climb out.
    let mut zip_bytes = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut zip_bytes);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("../escaped", options).unwrap();
        zip.write_all(b"x").unwrap();
        zip.finish().unwrap();
    }
    refused(
        &story,
        "climbs.zip",
        &zip_bytes.into_inner(),
        "member \"../escaped\" would be unpacked outside",
    );

    // A compression bomb: 300 MiB of zeros in a few hundred KiB.
    let mut bomb = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut bomb);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("zeros", options).unwrap();
        let block = vec![0u8; 1 << 20];
        for _ in 0..300 {
            zip.write_all(&block).unwrap();
        }
        zip.finish().unwrap();
    }
    let bomb = bomb.into_inner();
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    refused(
        &story,
        "bomb.zip",
        &bomb,
        "unpacks to more than 268435456 bytes (a compression bomb?); if the release really \
         is that large, raise the limit with --max-unpacked BYTES",
    );

    // A member-count bomb: 100,001 empty files, 50 MB of headers gzipped to little.
    let names: Vec<String> = (0..=100_000).map(|i| format!("f{i}")).collect();
    let entries: Vec<(&str, tar::EntryType, &str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), Regular, "", &b""[..]))
        .collect();
    refused(
        &story,
        "many.tar.gz",
        &gzip(&raw_tar(&entries)),
        "more than 100000 members; refusing an archive that large",
    );

    // Damaged and mislabelled input.
    let mut truncated = gzip(&raw_tar(&[("app", Regular, "", &[7u8; 100_000])]));
    truncated.truncate(truncated.len() / 2);
    refused(&story, "truncated.tar.gz", &truncated, "truncated.tar.gz: ");
    refused(
        &story,
        "app.gz",
        &gzip(b"\x7fELF not a tar"),
        "gzip data that does not hold a tar archive; drop --contents to verify the file itself",
    );
    refused(
        &story,
        "notes.txt",
        b"plain text",
        "is not an archive glassbox reads (tar, tar.gz, tar.xz, tar.zst, zip or deb); drop \
         --contents to verify the file itself",
    );
}

#[test]
fn links_inside_a_tarball_are_judged_by_the_file_they_lead_to() {
    let story = released();
    let dir = &story.dir;
    use tar::EntryType::{Link, Regular, Symlink};
    let app = fs::read(dir.join("installed/app")).unwrap();
    let tarball = raw_tar(&[
        ("bin/app", Regular, "", &app),
        ("bin/app-hard", Link, "bin/app", b""),
        ("bin/current", Symlink, "app", b""),
        ("bin/chain", Symlink, "current", b""),
        ("bin/passwd", Symlink, "/etc/passwd", b""),
        ("bin/loop", Symlink, "loop", b""),
    ]);
    fs::write(dir.join("links.tar"), tarball).unwrap();
    let run = verify(&story, &["links.tar"], &["--contents"]);
    run.exits(1);
    for (name, how) in [
        ("bin/app-hard", "hard link to bin/app"),
        ("bin/current", "symbolic link to app"),
        ("bin/chain", "symbolic link to current"),
    ] {
        let line = row(&run, &format!("links.tar!/{name}"));
        assert!(line.contains(" verified ") && line.contains(how), "{line}");
    }
    let out = row(&run, "links.tar!/bin/passwd");
    assert!(
        out.contains("failed") && out.contains("leads out of the archive (/etc/passwd)"),
        "{out}"
    );
    let looped = row(&run, "links.tar!/bin/loop");
    assert!(looped.contains("more than 40 links in a row"), "{looped}");
}

/// The build of a release shipped as one tarball, made reproducibly (sorted names,
/// fixed times and owners): the tarball itself is the attested artifact.
const TARBALL_BUILD: &str = "#!/bin/sh\nset -eu\nmkdir -p dist\ntar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -cf dist/app.tar -C src .\n";

#[test]
fn members_of_a_verified_tarball_are_covered_by_it_unless_a_build_names_them_otherwise() {
    let mut story = Story::begin();
    let (_, vendor, _) =
        story.release_built_by(TARBALL_BUILD, "app 2.1: the release is one tarball", &[]);
    story.write_policy("policy.toml");
    let tarball = vendor.join("app.tar");
    let tarball = tarball.to_str().unwrap();

    let run = verify(&story, &[tarball], &["--contents"]);
    let out = run.ok();
    assert!(row(&run, tarball).contains(" verified "), "{run}");
    let member = row(&run, &format!("{tarball}!/greeting.txt"));
    assert!(
        member.contains(" verified ") && member.contains("inside the verified archive"),
        "{member}"
    );
    assert!(
        !out.contains("judged by its"),
        "a verified archive is no mere container: {run}"
    );
}
