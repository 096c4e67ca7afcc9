//! Build attestations: SLSA provenance v1 (`https://slsa.dev/provenance/v1`) with the
//! Glassbox build type [`BUILD_TYPE_COMMAND_V1`] (docs/design.md §3).
//!
//! The statement says: these artifacts (subjects, by SHA-256) came out of running
//! `externalParameters.command` in `workingDirectory` of the source named by
//! `resolvedDependencies[0]`, and the file at `outputPath` is the artifact. That is
//! enough for anyone to re-run the build (`glassbox rebuild`). To get the same bytes,
//! a recipe may also record the environment: `buildPath` (where the checkout sat) and
//! `buildDependencies` (Debian packages at versions) in `externalParameters`, and the
//! tools that ran ([`ToolIdentity`]) in `internalParameters.toolchain`
//! (docs/formats/attestations.md, "The recorded build environment").
//!
//! ```json
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": "app-linux-amd64", "digest": {"sha256": "<64 hex>"}}],
//!  "predicateType": "https://slsa.dev/provenance/v1",
//!  "predicate": {
//!    "buildDefinition": {
//!      "buildType": "https://glassbox.dev/build/command/v1",
//!      "externalParameters": {"command": "make release", "workingDirectory": ".",
//!                             "outputPath": "target/app", "toolchain": "rust:1.89",
//!                             "environment": {"SOURCE_DATE_EPOCH": "0"}, "timeoutSeconds": 3600},
//!      "resolvedDependencies": [{"uri": "https://git.example/acme/app",
//!                                "digest": {"gitCommit": "…", "gitTree": "…", "dirHash": "…"}}]},
//!    "runDetails": {"builder": {"id": "https://rebuilder.example/worker-1"},
//!                   "metadata": {"invocationId": "42", "startedOn": "…", "finishedOn": "…"}}}}
//! ```
//!
//! Extensibility. SLSA's own parsing rules say consumers ignore unrecognised fields;
//! Glassbox rejects them (see the parent module) and accepts extension only where SLSA
//! defines an open member: `internalParameters` (any JSON object), `builder.version`
//! (string map), `builder.builderDependencies` and `byproducts` (ResourceDescriptors,
//! whose `annotations` are any JSON object). `externalParameters` and
//! `resolvedDependencies` are defined by the build type — which SLSA delegates to the
//! build type's author — and are strict.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::fields::{
    check_label, check_relative_path, check_text, check_timestamp, check_url, invalid,
};
use super::source::SourceDigest;
use super::time::rfc3339_to_unix;
use super::{StatementError, Subject, UntypedPredicate};
use crate::digest::Sha256Digest;

/// The Glassbox build type: run one command in a source checkout, take one output file.
pub const BUILD_TYPE_COMMAND_V1: &str = "https://glassbox.dev/build/command/v1";

/// SLSA provenance v1 predicate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProvenancePredicate {
    /// What was built and from what.
    pub build_definition: BuildDefinition,
    /// Who built it and when.
    pub run_details: RunDetails,
}

/// SLSA `buildDefinition`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuildDefinition {
    /// Must be [`BUILD_TYPE_COMMAND_V1`].
    pub build_type: String,
    /// The recipe.
    pub external_parameters: BuildRecipe,
    /// Builder-internal parameters; any JSON object (SLSA leaves it open).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_parameters: Option<Map<String, Value>>,
    /// Exactly one entry: the source.
    pub resolved_dependencies: Vec<SourceDependency>,
}

/// `externalParameters` of [`BUILD_TYPE_COMMAND_V1`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuildRecipe {
    /// Shell command run by `sh -c` in `working_directory`.
    pub command: String,
    /// Relative to the source root; `.` when absent.
    #[serde(default = "dot")]
    pub working_directory: String,
    /// The produced artifact, relative to the source root, without `..`.
    pub output_path: String,
    /// Toolchain or container image (ideally pinned by digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<String>,
    /// Environment variables set for the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<BTreeMap<String, String>>,
    /// Wall-clock limit for the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Absolute path the checkout sat at during the build. Compilers write it into
    /// debug information and `__FILE__`, so a rebuilder places its checkout there too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_path: Option<String>,
    /// Debian packages the build needs, at the versions it was built with (what
    /// Debian's `.buildinfo` calls the installed build dependencies). A rebuilder
    /// refuses to build without exactly these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_dependencies: Option<Vec<PackagePin>>,
}

/// A Debian package at one version, as `dpkg-query -W` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagePin {
    /// Binary package name, e.g. `help2man`.
    pub package: String,
    /// Installed version, e.g. `1.49.3`.
    pub version: String,
}

/// The `internalParameters` member holding [`ToolIdentity`] records.
pub const TOOLCHAIN_PARAMETER: &str = "toolchain";

/// One tool of the toolchain a build ran with, as the builder found it: recorded in
/// `internalParameters.toolchain`, so a rebuilder whose compiler differs learns that
/// before it compares any bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolIdentity {
    /// The name the build calls it by, e.g. `cc`.
    pub name: String,
    /// The file it resolved to on the build's PATH, symbolic links followed.
    pub path: String,
    /// SHA-256 of that file, lowercase hex.
    pub sha256: String,
    /// First line of its `--version` output (empty when it has none).
    pub version: String,
}

fn dot() -> String {
    ".".to_owned()
}

/// A `resolvedDependencies` entry naming the source tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceDependency {
    /// Repository URL.
    pub uri: String,
    /// Source identity.
    pub digest: SourceDigest,
}

/// SLSA `runDetails`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RunDetails {
    /// The builder.
    pub builder: Builder,
    /// Optional timing and invocation ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadata>,
    /// Other outputs (logs, SBOMs…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byproducts: Option<Vec<ResourceDescriptor>>,
}

/// SLSA `runDetails.builder`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Builder {
    /// Identifies the builder (SLSA recommends a URI).
    pub id: String,
    /// Component versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<BTreeMap<String, String>>,
    /// The builder's own dependencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builder_dependencies: Option<Vec<ResourceDescriptor>>,
}

/// SLSA `runDetails.metadata`.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuildMetadata {
    /// Builder's ID for this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// RFC 3339 start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<String>,
    /// RFC 3339 end time, not before `started_on`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<String>,
}

/// An in-toto ResourceDescriptor (for byproducts and builder dependencies).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResourceDescriptor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub digest: Option<BTreeMap<String, String>>,
    /// Base64 of the content itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub download_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub media_type: Option<String>,
    /// Open extension point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Map<String, Value>>,
}

/// A built artifact: subject `{"name", "digest": {"sha256"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArtifactSubject {
    /// Artifact (file) name.
    pub name: String,
    /// SHA-256 of its bytes.
    pub sha256: Sha256Digest,
}

/// A validated build attestation.
#[derive(Clone, Debug, PartialEq)]
pub struct Build {
    /// The artifacts, at least one, distinct names.
    pub subjects: Vec<ArtifactSubject>,
    /// The provenance.
    pub predicate: ProvenancePredicate,
}

impl ProvenancePredicate {
    /// The provenance of a [`BUILD_TYPE_COMMAND_V1`] build of `source` (from
    /// `repository`) by `builder_id`, without metadata; validated by [`Build::new`].
    pub fn new(
        recipe: BuildRecipe,
        repository: &str,
        source: SourceDigest,
        builder_id: &str,
    ) -> ProvenancePredicate {
        ProvenancePredicate {
            build_definition: BuildDefinition {
                build_type: BUILD_TYPE_COMMAND_V1.to_owned(),
                external_parameters: recipe,
                internal_parameters: None,
                resolved_dependencies: vec![SourceDependency {
                    uri: repository.to_owned(),
                    digest: source,
                }],
            },
            run_details: RunDetails {
                builder: Builder {
                    id: builder_id.to_owned(),
                    version: None,
                    builder_dependencies: None,
                },
                metadata: None,
                byproducts: None,
            },
        }
    }
}

impl BuildRecipe {
    /// A recipe with only the required members (working directory `.`).
    pub fn new(command: impl Into<String>, output_path: impl Into<String>) -> BuildRecipe {
        BuildRecipe {
            command: command.into(),
            working_directory: dot(),
            output_path: output_path.into(),
            toolchain: None,
            environment: None,
            timeout_seconds: None,
            build_path: None,
            build_dependencies: None,
        }
    }
}

impl Build {
    /// Builds and validates a build attestation (what `glassbox attest build` calls).
    pub fn new(
        subjects: Vec<ArtifactSubject>,
        predicate: ProvenancePredicate,
    ) -> Result<Build, StatementError> {
        let build = Build {
            subjects,
            predicate,
        };
        build.validate()?;
        Ok(build)
    }

    /// The source the artifacts were built from (`resolvedDependencies[0]`).
    pub fn source(&self) -> Option<&SourceDependency> {
        self.predicate
            .build_definition
            .resolved_dependencies
            .first()
    }

    /// The build recipe.
    pub fn recipe(&self) -> &BuildRecipe {
        &self.predicate.build_definition.external_parameters
    }

    /// The toolchain the builder recorded (`internalParameters.toolchain`); empty when
    /// it recorded none. [`Build::validate`] has checked its shape.
    pub fn toolchain(&self) -> Vec<ToolIdentity> {
        self.predicate
            .build_definition
            .internal_parameters
            .as_ref()
            .and_then(|p| p.get(TOOLCHAIN_PARAMETER))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    /// The builder ID.
    pub fn builder_id(&self) -> &str {
        &self.predicate.run_details.builder.id
    }

    /// Checks every rule of the kind.
    pub fn validate(&self) -> Result<(), StatementError> {
        if self.subjects.is_empty() {
            return Err(invalid("subject", "expected at least one artifact"));
        }
        // A set, not a scan of the names before: a release names thousands of files.
        let mut names = HashSet::with_capacity(self.subjects.len());
        for (i, s) in self.subjects.iter().enumerate() {
            check_label(&format!("subject[{i}].name"), &s.name)?;
            if !names.insert(s.name.as_str()) {
                return Err(invalid(
                    format!("subject[{i}].name"),
                    format!("duplicate artifact name {:?}", s.name),
                ));
            }
        }
        let def = &self.predicate.build_definition;
        let path = "predicate.buildDefinition";
        if def.build_type != BUILD_TYPE_COMMAND_V1 {
            return Err(invalid(
                format!("{path}.buildType"),
                format!(
                    "expected {BUILD_TYPE_COMMAND_V1}, found {:?}",
                    def.build_type
                ),
            ));
        }
        validate_recipe(&def.external_parameters)?;
        if let Some(toolchain) = def
            .internal_parameters
            .as_ref()
            .and_then(|p| p.get(TOOLCHAIN_PARAMETER))
        {
            validate_toolchain(toolchain)?;
        }
        let [dep] = def.resolved_dependencies.as_slice() else {
            return Err(invalid(
                format!("{path}.resolvedDependencies"),
                format!(
                    "expected exactly one entry (the source), found {}",
                    def.resolved_dependencies.len()
                ),
            ));
        };
        check_url(&format!("{path}.resolvedDependencies[0].uri"), &dep.uri)?;
        dep.digest
            .validate(&format!("{path}.resolvedDependencies[0].digest"))?;
        validate_run_details(&self.predicate.run_details)
    }

    pub(crate) fn parse(
        subjects: &[Subject],
        predicate: &(impl UntypedPredicate + ?Sized),
    ) -> Result<Build, StatementError> {
        let mut artifacts = Vec::with_capacity(subjects.len());
        for (i, s) in subjects.iter().enumerate() {
            // Named only on an error: a release has thousands of subjects.
            let path = |field: &str| format!("subject[{i}].digest.{field}");
            if let Some(other) = s.digest.keys().find(|k| *k != "sha256") {
                return Err(invalid(
                    path(other),
                    "unexpected digest; an artifact is named by sha256 only",
                ));
            }
            let hex = s
                .digest
                .get("sha256")
                .ok_or_else(|| invalid(path("sha256"), "required"))?;
            if super::fields::check_hex("", hex, &[64]).is_err() {
                super::fields::check_hex(&path("sha256"), hex, &[64])?;
            }
            let sha256 = hex
                .parse()
                .map_err(|e| invalid(path("sha256"), format!("{e}")))?;
            artifacts.push(ArtifactSubject {
                name: s.name.clone(),
                sha256,
            });
        }
        Build::new(artifacts, predicate.typed()?)
    }

    pub(crate) fn subjects(&self) -> Vec<Subject> {
        self.subjects
            .iter()
            .map(|s| Subject {
                name: s.name.clone(),
                digest: BTreeMap::from([("sha256".to_owned(), s.sha256.hex())]),
            })
            .collect()
    }
}

fn validate_recipe(r: &BuildRecipe) -> Result<(), StatementError> {
    let path = "predicate.buildDefinition.externalParameters";
    check_text(&format!("{path}.command"), &r.command)?;
    check_relative_path(&format!("{path}.workingDirectory"), &r.working_directory)?;
    check_relative_path(&format!("{path}.outputPath"), &r.output_path)?;
    if let Some(t) = &r.toolchain {
        check_label(&format!("{path}.toolchain"), t)?;
    }
    for (name, value) in r.environment.iter().flatten() {
        let at = format!("{path}.environment.{name}");
        if name.is_empty() || name.contains('=') || name.chars().any(char::is_control) {
            return Err(invalid(
                at,
                "a variable name must be non-empty, without '=' or control characters",
            ));
        }
        if value.contains('\0') {
            return Err(invalid(at, "a value must not contain NUL"));
        }
    }
    if let Some(build_path) = &r.build_path {
        check_build_path(&format!("{path}.buildPath"), build_path)?;
    }
    for (i, pin) in r.build_dependencies.iter().flatten().enumerate() {
        let at = format!("{path}.buildDependencies[{i}]");
        check_package_name(&format!("{at}.package"), &pin.package)?;
        check_label(&format!("{at}.version"), &pin.version)?;
        if pin.version.contains(char::is_whitespace) {
            return Err(invalid(format!("{at}.version"), "must not contain spaces"));
        }
        if r.build_dependencies
            .iter()
            .flatten()
            .take(i)
            .any(|p| p.package == pin.package)
        {
            return Err(invalid(
                format!("{at}.package"),
                format!("{:?} is listed twice", pin.package),
            ));
        }
    }
    if r.timeout_seconds == Some(0) {
        return Err(invalid(
            format!("{path}.timeoutSeconds"),
            "must be positive",
        ));
    }
    Ok(())
}

/// An absolute, normalised path below `/`: no `.` or `..` components, no empty ones,
/// no trailing slash, nothing a shell or the kernel would read differently.
fn check_build_path(path: &str, value: &str) -> Result<(), StatementError> {
    let Some(rest) = value.strip_prefix('/') else {
        return Err(invalid(path, format!("must be absolute, found {value:?}")));
    };
    if rest.is_empty()
        || rest
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err(invalid(
            path,
            format!("must be a normalised absolute path below /, found {value:?}"),
        ));
    }
    if value.chars().any(|c| c.is_control() || c == '\\') {
        return Err(invalid(
            path,
            "must not contain backslashes or control characters",
        ));
    }
    Ok(())
}

/// A Debian package name (Debian Policy §5.6.1): lowercase letters, digits, `+`, `-`
/// and `.`, at least two characters, starting with a letter or digit; an
/// architecture qualifier (`:amd64`) is allowed.
fn check_package_name(path: &str, value: &str) -> Result<(), StatementError> {
    let (name, arch) = match value.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (value, None),
    };
    let name_ok = name.len() >= 2
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')
        });
    let arch_ok = arch.is_none_or(|a| {
        !a.is_empty()
            && a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    if name_ok && arch_ok {
        Ok(())
    } else {
        Err(invalid(
            path,
            format!("expected a Debian package name, found {value:?}"),
        ))
    }
}

fn validate_toolchain(value: &Value) -> Result<(), StatementError> {
    let path = "predicate.buildDefinition.internalParameters.toolchain";
    let tools: Vec<ToolIdentity> = serde_json::from_value(value.clone()).map_err(|e| {
        invalid(
            path,
            format!("expected a list of {{name, path, sha256, version}}: {e}"),
        )
    })?;
    for (i, tool) in tools.iter().enumerate() {
        let at = format!("{path}[{i}]");
        check_label(&format!("{at}.name"), &tool.name)?;
        check_build_path(&format!("{at}.path"), &tool.path)?;
        super::fields::check_hex(&format!("{at}.sha256"), &tool.sha256, &[64])?;
        if tool.version.chars().any(char::is_control) {
            return Err(invalid(
                format!("{at}.version"),
                "must not contain control characters",
            ));
        }
        if tools[..i].iter().any(|t| t.name == tool.name) {
            return Err(invalid(
                format!("{at}.name"),
                format!("{:?} is listed twice", tool.name),
            ));
        }
    }
    Ok(())
}

fn validate_run_details(run: &RunDetails) -> Result<(), StatementError> {
    let path = "predicate.runDetails";
    check_label(&format!("{path}.builder.id"), &run.builder.id)?;
    for (i, d) in run
        .builder
        .builder_dependencies
        .iter()
        .flatten()
        .enumerate()
    {
        validate_descriptor(&format!("{path}.builder.builderDependencies[{i}]"), d)?;
    }
    for (i, d) in run.byproducts.iter().flatten().enumerate() {
        validate_descriptor(&format!("{path}.byproducts[{i}]"), d)?;
    }
    if let Some(m) = &run.metadata {
        if let Some(id) = &m.invocation_id {
            check_label(&format!("{path}.metadata.invocationId"), id)?;
        }
        if let Some(t) = &m.started_on {
            check_timestamp(&format!("{path}.metadata.startedOn"), t)?;
        }
        if let Some(t) = &m.finished_on {
            check_timestamp(&format!("{path}.metadata.finishedOn"), t)?;
        }
        if let (Some(start), Some(end)) = (&m.started_on, &m.finished_on) {
            if rfc3339_to_unix(end) < rfc3339_to_unix(start) {
                return Err(invalid(
                    format!("{path}.metadata.finishedOn"),
                    "must not be before startedOn",
                ));
            }
        }
    }
    Ok(())
}

/// in-toto ResourceDescriptor: at least one of `uri`, `digest`, `content`.
fn validate_descriptor(path: &str, d: &ResourceDescriptor) -> Result<(), StatementError> {
    if d.uri.is_none() && d.digest.is_none() && d.content.is_none() {
        return Err(invalid(path, "needs at least one of uri, digest, content"));
    }
    Ok(())
}
