//! OCI image layouts (`oci-layout`, `index.json`, `blobs/sha256/…`, as the OCI image
//! spec lays them out): the images a layout holds, each named by its manifest digest —
//! the digest a registry, `docker pull IMAGE@sha256:…` and a build attestation name.
//!
//! A manifest digest vouches for everything under it only if the blobs are the ones it
//! names, so every blob present under each image — nested indexes, manifests,
//! configs, layers — is hashed and compared with its descriptor's digest and size. A
//! blob that differs refuses the layout: a runtime loading it would run bytes that are
//! not the attested image's. A blob the layout does not hold (a platform not pulled,
//! a foreign layer) cannot be run from it and is only counted.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use glassbox_core::digest::Sha256Digest;
use indicatif::ProgressBar;
use serde::Deserialize;

use crate::hash;

/// Largest `index.json`, manifest or nested index read.
const MAX_JSON_BYTES: u64 = 4 << 20;
/// Descriptors followed in one layout.
const MAX_DESCRIPTORS: usize = 100_000;
/// Indexes nested in indexes, at most.
const MAX_DEPTH: usize = 8;
/// The annotation that names an image in a layout (`app:2.0`).
const REF_NAME: &str = "org.opencontainers.image.ref.name";

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// One image of a layout: an entry of its `index.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// The manifest (or image index) digest.
    pub digest: Sha256Digest,
    /// Its `org.opencontainers.image.ref.name`, if the layout names it.
    pub reference: Option<String>,
    /// Blobs under it that were hashed and matched their descriptors.
    pub blobs: usize,
    /// Blobs under it the layout does not hold.
    pub missing: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("{dir} is not an OCI image layout ({why}); give the directory holding oci-layout, index.json and blobs/")]
    NotALayout { dir: String, why: String },
    #[error("{file}: {why}")]
    Malformed { file: String, why: String },
    #[error(
        "{dir}: blob {digest} ({what}) has {found}: the layout is damaged or altered, \
         and a runtime loading it would not run the image its manifest names; refusing it"
    )]
    BlobMismatch {
        dir: String,
        digest: String,
        what: String,
        found: String,
    },
    #[error("{dir}: index.json names manifest {digest}, which the layout does not hold")]
    MissingManifest { dir: String, digest: String },
    #[error("{dir}: {digest}: only sha256 digests are read")]
    Algorithm { dir: String, digest: String },
    #[error("{dir}: more than {MAX_DESCRIPTORS} blobs, or indexes nested deeper than {MAX_DEPTH}; refusing it")]
    TooLarge { dir: String },
    #[error("{dir}: index.json lists no image")]
    Empty { dir: String },
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Deserialize)]
struct Layout {
    #[serde(rename = "imageLayoutVersion")]
    version: String,
}

#[derive(Debug, Clone, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// The parts of an index or a manifest that name other blobs.
#[derive(Debug, Deserialize)]
struct Document {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// Whether `dir` looks like an OCI image layout (it has an `oci-layout` file).
pub fn is_layout(dir: &Path) -> bool {
    dir.join("oci-layout").is_file()
}

/// The images of the layout at `dir`, every blob under each checked.
pub fn images(dir: &Path) -> Result<Vec<Image>, OciError> {
    let label = dir.display().to_string();
    let layout: Layout = read_json(&dir.join("oci-layout")).map_err(|e| match e {
        OciError::Read { .. } => OciError::NotALayout {
            dir: label.clone(),
            why: "it has no readable oci-layout file".to_owned(),
        },
        other => other,
    })?;
    if !layout.version.starts_with("1.") {
        return Err(OciError::NotALayout {
            dir: label,
            why: format!("imageLayoutVersion {:?}, not 1.x", layout.version),
        });
    }
    let index: Document = read_json(&dir.join("index.json"))?;
    if index.manifests.is_empty() {
        return Err(OciError::Empty { dir: label });
    }
    let mut walk = Walk {
        dir,
        label: label.clone(),
        seen: BTreeSet::new(),
        followed: 0,
    };
    let mut images = Vec::new();
    for top in &index.manifests {
        let digest = walk.digest(&top.digest)?;
        if !walk.blob(&digest).exists() {
            return Err(OciError::MissingManifest {
                dir: label,
                digest: top.digest.clone(),
            });
        }
        let (blobs, missing) = walk.check(top, 0)?;
        images.push(Image {
            digest,
            reference: top.annotations.get(REF_NAME).cloned(),
            blobs,
            missing,
        });
    }
    Ok(images)
}

struct Walk<'a> {
    dir: &'a Path,
    label: String,
    /// Blobs already checked (a layer shared by two platforms is hashed once).
    seen: BTreeSet<Sha256Digest>,
    followed: usize,
}

impl Walk<'_> {
    fn digest(&self, text: &str) -> Result<Sha256Digest, OciError> {
        match text.strip_prefix("sha256:").map(str::parse::<Sha256Digest>) {
            Some(Ok(digest)) => Ok(digest),
            _ => Err(OciError::Algorithm {
                dir: self.label.clone(),
                digest: text.to_owned(),
            }),
        }
    }

    fn blob(&self, digest: &Sha256Digest) -> PathBuf {
        self.dir.join("blobs/sha256").join(digest.hex())
    }

    /// Check the blob `descriptor` names and, for an index or manifest, the blobs it
    /// names: (blobs checked, blobs absent).
    fn check(&mut self, descriptor: &Descriptor, depth: usize) -> Result<(usize, usize), OciError> {
        self.followed += 1;
        if self.followed > MAX_DESCRIPTORS || depth > MAX_DEPTH {
            return Err(OciError::TooLarge {
                dir: self.label.clone(),
            });
        }
        let digest = self.digest(&descriptor.digest)?;
        let path = self.blob(&digest);
        let Ok(meta) = std::fs::metadata(&path) else {
            return Ok((0, 1));
        };
        if !self.seen.insert(digest) {
            return Ok((0, 0));
        }
        let what = if descriptor.media_type.is_empty() {
            "a blob".to_owned()
        } else {
            descriptor.media_type.clone()
        };
        let mismatch = |found: String| OciError::BlobMismatch {
            dir: self.label.clone(),
            digest: descriptor.digest.clone(),
            what: what.clone(),
            found,
        };
        if meta.len() != descriptor.size {
            return Err(mismatch(format!(
                "{} bytes where its descriptor says {}",
                meta.len(),
                descriptor.size
            )));
        }
        let found = hash::sha256_file(&path, &ProgressBar::hidden()).map_err(|e| {
            let hash::HashError::Read { path, source } = e;
            OciError::Read { path, source }
        })?;
        if found != digest.0 {
            return Err(mismatch(format!("digest sha256:{}", hex::encode(found))));
        }
        let mut counts = (1, 0);
        let nested = INDEX_TYPES.contains(&descriptor.media_type.as_str())
            || MANIFEST_TYPES.contains(&descriptor.media_type.as_str());
        if nested {
            let document: Document = read_json(&path)?;
            if !document.media_type.is_empty() && document.media_type != descriptor.media_type {
                return Err(OciError::Malformed {
                    file: path.display().to_string(),
                    why: format!(
                        "its mediaType is {}, its descriptor says {}",
                        document.media_type, descriptor.media_type
                    ),
                });
            }
            let children = document
                .manifests
                .iter()
                .chain(document.config.as_ref())
                .chain(&document.layers);
            for child in children {
                let (blobs, missing) = self.check(child, depth + 1)?;
                counts.0 += blobs;
                counts.1 += missing;
            }
        }
        Ok(counts)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, OciError> {
    let read = |source| OciError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(read)?
        .take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read)?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(OciError::Malformed {
            file: path.display().to_string(),
            why: format!("larger than {MAX_JSON_BYTES} bytes"),
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| OciError::Malformed {
        file: path.display().to_string(),
        why: format!("not the JSON the OCI image spec describes: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// Write `bytes` as a blob of the layout at `dir`; its descriptor's digest.
    fn put(dir: &Path, bytes: &[u8]) -> String {
        let hex = hex::encode(Sha256::digest(bytes));
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("blobs/sha256").join(&hex), bytes).unwrap();
        format!("sha256:{hex}")
    }

    /// A one-layer image; the manifest digest and the layer's path.
    fn layout(dir: &Path) -> (String, PathBuf) {
        let layer = b"layer bytes";
        let config = br#"{"architecture":"amd64","os":"linux"}"#;
        let (l, c) = (put(dir, layer), put(dir, config));
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{c}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{l}","size":{}}}]}}"#,
            MANIFEST_TYPES[0],
            config.len(),
            layer.len()
        );
        let m = put(dir, manifest.as_bytes());
        std::fs::write(
            dir.join("index.json"),
            format!(
                r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{}","digest":"{m}","size":{},"annotations":{{"{REF_NAME}":"app:2.0"}}}}]}}"#,
                MANIFEST_TYPES[0],
                manifest.len()
            ),
        )
        .unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let layer_path = dir
            .join("blobs/sha256")
            .join(l.trim_start_matches("sha256:"));
        (m, layer_path)
    }

    #[test]
    fn an_image_is_named_by_its_manifest_digest_with_every_blob_checked() {
        let dir = tempfile::tempdir().unwrap();
        let (manifest, _) = layout(dir.path());
        let images = images(dir.path()).unwrap();
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].digest.to_string(), manifest);
        assert_eq!(images[0].reference.as_deref(), Some("app:2.0"));
        assert_eq!((images[0].blobs, images[0].missing), (3, 0));
    }

    #[test]
    fn an_altered_layer_refuses_the_layout_and_a_missing_one_is_counted() {
        let dir = tempfile::tempdir().unwrap();
        let (_, layer) = layout(dir.path());
        std::fs::write(&layer, b"layer BYTES").unwrap();
        let err = images(dir.path()).unwrap_err().to_string();
        assert!(err.contains("the layout is damaged or altered"), "{err}");
        assert!(
            err.contains("application/vnd.oci.image.layer.v1.tar"),
            "{err}"
        );
        std::fs::remove_file(&layer).unwrap();
        assert_eq!(images(dir.path()).unwrap()[0].missing, 1);
    }

    #[test]
    fn a_directory_without_oci_layout_is_not_a_layout() {
        let dir = tempfile::tempdir().unwrap();
        let err = images(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not an OCI image layout"), "{err}");
    }
}
