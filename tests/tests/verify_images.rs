//! Container images: an OCI image layout built reproducibly by vendor and rebuilder,
//! attested by its manifest digest (`attest build --artifact DIR --oci`), verified
//! from the customer's copy of the layout (`verify DIR --oci`) and by digest alone
//! (`verify --digest`); a layout whose blobs were altered, or whose index.json names
//! an image nobody built, fails (docs/cli.md "Container images").

use std::fs;
use std::path::Path;

use glassbox_tests::cli::Run;
use glassbox_tests::release::copy_tree;
use glassbox_tests::story::Story;

/// An image build in plain sh: one layer holding the sources, packed with sorted
/// names, fixed times and owners and no gzip timestamp, so that two builders get the
/// same bytes, then the config, manifest, index.json and oci-layout of an OCI image
/// layout in `dist/`.
const IMAGE_BUILD: &str = r#"#!/bin/sh
set -eu
mkdir -p dist/blobs/sha256
put() { d=$(sha256sum "$1" | cut -c1-64); cp "$1" "dist/blobs/sha256/$d"; echo "$d"; }
size() { wc -c < "$1" | tr -d ' '; }
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C src -cf layer.tar .
gzip -n -9 < layer.tar > layer.tar.gz
diff_id=$(sha256sum layer.tar | cut -c1-64)
layer=$(put layer.tar.gz)
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/greeting.txt"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff_id" > config.json
config=$(put config.json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' "$config" "$(size config.json)" "$layer" "$(size layer.tar.gz)" > manifest.json
manifest=$(put manifest.json)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"2.0"}}]}' "$manifest" "$(size manifest.json)" > dist/index.json
printf '{"imageLayoutVersion":"1.0.0"}' > dist/oci-layout
"#;

/// The image built and attested by vendor and rebuilder; the customer's copy of the
/// layout in `image/` and the manifest digest.
fn released() -> (Story, String) {
    let mut story = Story::begin();
    let (_, vendor, rebuilder) =
        story.release_built_by(IMAGE_BUILD, "app 2.0 as a container image", &["--oci"]);
    assert_eq!(
        fs::read(vendor.join("index.json")).unwrap(),
        fs::read(rebuilder.join("index.json")).unwrap(),
        "the image build is not reproducible"
    );
    story.write_policy("policy.toml");
    copy_tree(&vendor, &story.dir.join("image"));
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(vendor.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    (story, digest)
}

fn verify(story: &Story, args: &[&str]) -> Run {
    story.verify_items(args)
}

/// The blob file of `digest` in the customer's layout.
fn blob(story: &Story, digest: &str) -> std::path::PathBuf {
    story
        .dir
        .join("image/blobs/sha256")
        .join(digest.trim_start_matches("sha256:"))
}

#[test]
fn an_image_layout_verifies_by_its_manifest_digest_and_the_digest_alone_does_too() {
    let (story, digest) = released();
    let run = verify(&story, &["image", "--oci"]);
    let out = run.ok();
    let line = out
        .lines()
        .find(|l| l.starts_with("oci:image:2.0 "))
        .unwrap_or_else(|| panic!("{run}"));
    assert!(line.contains(" verified "), "{line}");
    assert!(line.contains(&digest["sha256:".len()..][..12]), "{line}");
    assert!(line.contains("Reproducible Rebuilds e.V."), "{line}");
    assert_eq!(
        out.lines().last(),
        Some("1 verified, 0 failed, 0 not covered")
    );

    // What a registry or `docker inspect` shows is enough, without the layout.
    let by_digest = verify(&story, &["--digest", &digest]);
    assert!(by_digest.ok().contains(" verified "), "{by_digest}");

    // The build attestation names the image by its ref name.
    let doc = verify(&story, &["image", "--oci", "--json"]).json();
    assert_eq!(doc["results"][0]["attestedAs"][0], "2.0", "{doc}");
    assert_eq!(doc["results"][0]["path"], "oci:image:2.0");

    // Without --oci the layout is a directory of blobs, and the command says so.
    let files = verify(&story, &["image"]);
    files.exits(1);
    assert!(
        files.stderr.contains("is an OCI image layout") && files.stderr.contains("add --oci"),
        "{files}"
    );
}

#[test]
fn an_altered_layer_refuses_the_layout() {
    let (story, digest) = released();
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(blob(&story, &digest)).unwrap()).unwrap();
    let layer = blob(&story, manifest["layers"][0]["digest"].as_str().unwrap());
    let mut bytes = fs::read(&layer).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&layer, bytes).unwrap();
    let run = verify(&story, &["image", "--oci"]);
    run.exits(2);
    assert!(
        run.stderr
            .contains("application/vnd.oci.image.layer.v1.tar+gzip")
            && run.stderr.contains("the layout is damaged or altered"),
        "{run}"
    );
}

#[test]
fn an_image_added_to_the_index_that_nobody_built_is_not_covered() {
    let (story, digest) = released();
    // A second manifest: the same config and layer, one more annotation.
    let original = fs::read(blob(&story, &digest)).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&original).unwrap();
    manifest["annotations"] = serde_json::json!({ "injected": "yes" });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let hex = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    fs::write(story.dir.join("image/blobs/sha256").join(&hex), &bytes).unwrap();
    let index_path = story.dir.join("image/index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    let injected = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{hex}"),
        "size": bytes.len(),
        "annotations": { "org.opencontainers.image.ref.name": "latest" },
    });
    index["manifests"].as_array_mut().unwrap().push(injected);
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();

    let run = verify(&story, &["image", "--oci"]);
    let out = run.exits(1);
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{run}"))
            .to_owned()
    };
    assert!(row("oci:image:2.0 ").contains(" verified "), "{run}");
    assert!(row("oci:image:latest ").contains("not covered"), "{run}");
    assert!(Path::new(&index_path).exists());
}
