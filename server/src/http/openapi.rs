//! The route table: every HTTP route of the server with its OpenAPI 3.1
//! description. [`router`] and [`document`] are both built from [`endpoints`],
//! so a route cannot be served without being documented; the handler is
//! attached through the documented method, so their methods cannot disagree
//! either (tests/openapi_routes.rs checks both against the live router).

use std::collections::BTreeMap;

use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Json;
use serde_json::{json, Value};

use crate::http::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
        }
    }
    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
        }
    }
}

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// One parameter: name, place, required, JSON Schema type, meaning.
pub type Param = (&'static str, In, bool, &'static str, &'static str);

/// One response: status, meaning, media type, schema (a component name, or
/// `None` for text/HTML/binary bodies).
pub type Resp = (u16, &'static str, &'static str, Option<&'static str>);

/// One route: a path in axum/OpenAPI template syntax, a method, its handler
/// and its description.
pub struct Endpoint {
    pub path: &'static str,
    pub method: Method,
    pub tag: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    pub responses: &'static [Resp],
    /// Builds the handler for the given method filter (always `method`'s).
    pub route: fn(MethodFilter) -> MethodRouter<AppState>,
}

const JSON: &str = "application/json";
const HTML: &str = "text/html";
const TEXT: &str = "text/plain";
const BAD: Resp = (400, "Malformed or unknown parameter", JSON, Some("Error"));
const NOT_FOUND: Resp = (404, "Not found", JSON, Some("Error"));
const TOO_LARGE: Resp = (
    422,
    "`answer_too_large`: the answer would pass a response cap that has no cursor",
    JSON,
    Some("Error"),
);
const PAGE_400: Resp = (400, "Malformed path or parameter (HTML page)", HTML, None);
const PAGE_404: Resp = (404, "Unknown digest, key or index (HTML page)", HTML, None);

const FILTERS: [Param; 9] = [
    (
        "artifact",
        In::Query,
        false,
        "string",
        "SHA-256 of a built artifact, `sha256:<hex>` or bare hex",
    ),
    (
        "commit",
        In::Query,
        false,
        "string",
        "git commit ID of a source (40 or 64 hex)",
    ),
    (
        "dirhash",
        In::Query,
        false,
        "string",
        "dirHash of a source (64 hex)",
    ),
    (
        "repository",
        In::Query,
        false,
        "string",
        "repository URL; a trailing / and .git do not matter",
    ),
    (
        "signer",
        In::Query,
        false,
        "string",
        "key ID of any signature, or of the key a key event is about (64 hex)",
    ),
    (
        "organisation",
        In::Query,
        false,
        "string",
        "organisation name, exactly as registered: every key registered under it",
    ),
    (
        "kind",
        In::Query,
        false,
        "string",
        "source-submission, source-review, build or key-event",
    ),
    (
        "since",
        In::Query,
        false,
        "string",
        "integrated at or after (RFC 3339)",
    ),
    (
        "until",
        In::Query,
        false,
        "string",
        "integrated at or before (RFC 3339)",
    ),
];

const SEARCH_PARAMS: [Param; 11] = [
    FILTERS[0],
    FILTERS[1],
    FILTERS[2],
    FILTERS[3],
    FILTERS[4],
    FILTERS[5],
    FILTERS[6],
    FILTERS[7],
    FILTERS[8],
    (
        "cursor",
        In::Query,
        false,
        "string",
        "opaque, from nextCursor",
    ),
    ("limit", In::Query, false, "integer", "1–1000, default 100"),
];

const EXPORT_PARAMS: [Param; 10] = [
    FILTERS[0],
    FILTERS[1],
    FILTERS[2],
    FILTERS[3],
    FILTERS[4],
    FILTERS[5],
    FILTERS[6],
    FILTERS[7],
    FILTERS[8],
    (
        "format",
        In::Query,
        false,
        "string",
        "jsonl (default) or csv",
    ),
];

const PAGE_FILTERS: [Param; 11] = [
    FILTERS[0],
    FILTERS[1],
    FILTERS[2],
    FILTERS[3],
    FILTERS[4],
    FILTERS[5],
    FILTERS[6],
    (
        "since",
        In::Query,
        false,
        "string",
        "a date (whole UTC day) or RFC 3339",
    ),
    (
        "until",
        In::Query,
        false,
        "string",
        "a date (whole UTC day) or RFC 3339",
    ),
    (
        "cursor",
        In::Query,
        false,
        "string",
        "opaque, from the next-page link",
    ),
    ("limit", In::Query, false, "integer", "1–1000, default 25"),
];

/// Every route the server answers, in the order docs/api.md lists them.
pub fn endpoints() -> Vec<Endpoint> {
    use crate::http::routes::*;
    use crate::http::web;
    vec![
        Endpoint {
            path: "/api/v1/entries", method: Method::Post, tag: "log",
            summary: "Submit a DSSE envelope; answers with its receipt once durably logged",
            params: &[],
            responses: &[
                (201, "Newly logged", JSON, Some("Receipt")),
                (200, "The statement is already logged, with every signer of this envelope: the first copy's receipt", JSON, Some("Receipt")),
                (400, "Malformed envelope or invalid statement", JSON, Some("Error")),
                (403, "Unknown, revoked or unauthorised key, or bad signature", JSON, Some("Error")),
                (409, "Key event contradicts the registry, or the statement is already logged without a signer this envelope adds", JSON, Some("Error")),
                (413, "Body too large", JSON, Some("Error")),
                (429, "Rate limited", JSON, Some("Error")),
                (503, "Overloaded, commit failed, timeout or shutting down", JSON, Some("Error")),
            ],
            route: |m| on(m, submit::submit),
        },
        Endpoint {
            path: "/api/v1/entries", method: Method::Get, tag: "log",
            summary: "Search entries by artifact, source, signer, kind and time; paginated",
            params: &SEARCH_PARAMS,
            responses: &[(200, "One page of results in index order", JSON, Some("SearchPage")), BAD],
            route: |m| on(m, search::search),
        },
        Endpoint {
            path: "/api/v1/entries/{index}", method: Method::Get, tag: "log",
            summary: "One entry as a receipt against the latest checkpoint",
            params: &[("index", In::Path, true, "integer", "log index")],
            responses: &[(200, "The receipt", JSON, Some("Receipt")), BAD, NOT_FOUND],
            route: |m| on(m, entries::get_entry),
        },
        Endpoint {
            path: "/api/v1/bundle", method: Method::Get, tag: "log",
            summary: "Everything needed to verify an artifact offline: its builds, and the submissions, reviews and builds of their sources, in log order",
            params: &[("artifact", In::Query, true, "string", "SHA-256 of the artifact"), ("release", In::Query, false, "boolean", "Also prove the other subjects of the artifact's builds (a release bundle)")],
            responses: &[(200, "A version 2 bundle (core::bundle::Bundle) with the index proofs that it is complete", JSON, Some("Bundle")), BAD, NOT_FOUND, TOO_LARGE],
            route: |m| on(m, bundle::bundle),
        },
        Endpoint {
            path: "/api/v1/index", method: Method::Get, tag: "log",
            summary: "Every entry filed under an index key, proven complete: the lookup proof against the log's index commitment, the commitment's inclusion proof and the checkpoint it ends",
            params: &[("key", In::Query, true, "string", "artifact:<sha256 hex>, source:<dirHash hex>, signer:<key ID> or registry")],
            responses: &[(200, "The proven list (core::api::IndexAnswer)", JSON, Some("IndexAnswer")), BAD, NOT_FOUND, TOO_LARGE],
            route: |m| on(m, index::lookup),
        },
        Endpoint {
            path: "/api/v1/index/list", method: Method::Get, tag: "log",
            summary: "The rest of a key's list too long for one lookup answer (its `nextAfter`), a page at a time, as of one checkpoint; unproven by itself: chained after the lookup's first page, the whole list matches the lookup's proof",
            params: &[
                ("key", In::Query, true, "string", "the index key, as in /api/v1/index"),
                ("size", In::Query, true, "integer", "the checkpoint size of the lookup answer"),
                ("after", In::Query, true, "integer", "the last log index already listed (the previous page's nextAfter)"),
            ],
            responses: &[(200, "One page (core::api::IndexPage)", JSON, Some("IndexPage")), BAD],
            route: |m| on(m, index::list),
        },
        Endpoint {
            path: "/api/v1/proof/inclusion", method: Method::Get, tag: "log",
            summary: "RFC 9162 inclusion proof of entry `index` in the tree of `size`",
            params: &[
                ("index", In::Query, true, "integer", "leaf index, below size"),
                ("size", In::Query, true, "integer", "tree size, at most the latest"),
            ],
            responses: &[(200, "The proof", JSON, Some("InclusionProof")), BAD],
            route: |m| on(m, proofs::inclusion),
        },
        Endpoint {
            path: "/api/v1/proof/consistency", method: Method::Get, tag: "log",
            summary: "RFC 9162 consistency proof between two tree sizes",
            params: &[
                ("from", In::Query, true, "integer", "older size, at least 1"),
                ("to", In::Query, true, "integer", "newer size, at most the latest"),
            ],
            responses: &[(200, "The proof", JSON, Some("ConsistencyProof")), BAD],
            route: |m| on(m, proofs::consistency),
        },
        Endpoint {
            path: "/api/v1/checkpoints", method: Method::Get, tag: "log",
            summary: "History of signed checkpoints, oldest first",
            params: &[
                ("since", In::Query, false, "integer", "smallest size to list, default 0"),
                ("limit", In::Query, false, "integer", "1–1000, default 100"),
            ],
            responses: &[(200, "One page of checkpoints", JSON, Some("CheckpointHistory")), BAD],
            route: |m| on(m, checkpoints::history),
        },
        Endpoint {
            path: "/api/v1/keys", method: Method::Get, tag: "registry",
            summary: "The participant registry with each key's history, by registration, a page at a time",
            params: &[
                ("after", In::Query, false, "integer", "list keys registered after this log index (a page's nextAfter)"),
                ("limit", In::Query, false, "integer", "1-1000 keys, default 1000; a page also stops before 4 MiB"),
            ],
            responses: &[(200, "One page of keys, by registration", JSON, Some("KeyList")), BAD],
            route: |m| on(m, keys::list),
        },
        Endpoint {
            path: "/api/v1/keys/{id}", method: Method::Get, tag: "registry",
            summary: "One participant key with its history",
            params: &[("id", In::Path, true, "string", "key ID (64 hex, any case)")],
            responses: &[(200, "The key", JSON, Some("Key")), BAD, NOT_FOUND],
            route: |m| on(m, keys::get),
        },
        Endpoint {
            path: "/api/v1/export", method: Method::Get, tag: "log",
            summary: "Every matching entry in index order, streamed as JSON Lines or CSV",
            params: &EXPORT_PARAMS,
            responses: &[
                (200, "One ExportRow per line (jsonl) or per CSV record", "application/x-ndjson", Some("ExportRow")),
                BAD,
                (503, "`busy`: every export slot is taken; retry after Retry-After seconds", JSON, Some("Error")),
            ],
            route: |m| on(m, export::export),
        },
        Endpoint {
            path: "/api/v1/openapi.json", method: Method::Get, tag: "operations",
            summary: "This OpenAPI 3.1 document",
            params: &[],
            responses: &[(200, "The document", JSON, None)],
            route: |m| on(m, openapi_json),
        },
        Endpoint {
            path: "/checkpoint", method: Method::Get, tag: "tiles",
            summary: "C2SP tlog-tiles: the latest signed checkpoint note",
            params: &[],
            responses: &[(200, "Signed note", TEXT, None), NOT_FOUND],
            route: |m| on(m, checkpoints::latest),
        },
        Endpoint {
            path: "/tile/{path}", method: Method::Get, tag: "tiles",
            summary: "C2SP tlog-tiles: hash tiles `<L>/<N>[.p/<W>]` and entry bundles `entries/<N>[.p/<W>]`",
            params: &[("path", In::Path, true, "string", "tile path below /tile/ (may contain slashes)")],
            responses: &[(200, "Tile bytes", "application/octet-stream", None), NOT_FOUND],
            route: |m| on(m, tiles::tile),
        },
        Endpoint {
            path: "/healthz", method: Method::Get, tag: "operations",
            summary: "Liveness", params: &[],
            responses: &[(200, "ok", TEXT, None)],
            route: |m| on(m, health::healthz),
        },
        Endpoint {
            path: "/metrics", method: Method::Get, tag: "operations",
            summary: "Prometheus metrics", params: &[],
            responses: &[(200, "Prometheus text format", TEXT, None)],
            route: |m| on(m, health::metrics),
        },
        Endpoint {
            path: "/", method: Method::Get, tag: "web",
            summary: "Home page: log identity, size, newest checkpoint, witnesses, activity, latest entries",
            params: &[],
            responses: &[(200, "HTML page", HTML, None)],
            route: |m| on(m, web::home::home),
        },
        Endpoint {
            path: "/search", method: Method::Get, tag: "web",
            summary: "Search form and paginated results",
            params: &PAGE_FILTERS,
            responses: &[(200, "HTML page", HTML, None), PAGE_400],
            route: |m| on(m, web::search::search),
        },
        Endpoint {
            path: "/artifact/{digest}", method: Method::Get, tag: "web",
            summary: "An artifact's builds, their sources, the reviews of those sources, and the verify command",
            params: &[("digest", In::Path, true, "string", "sha256:<hex>")],
            responses: &[(200, "HTML page", HTML, None), PAGE_400, PAGE_404],
            route: |m| on(m, web::artifact::artifact),
        },
        Endpoint {
            path: "/source/{id}", method: Method::Get, tag: "web",
            summary: "A source's submissions, reviews and builds",
            params: &[("id", In::Path, true, "string", "git commit ID or dirHash")],
            responses: &[(200, "HTML page", HTML, None), PAGE_400, PAGE_404],
            route: |m| on(m, web::source::source),
        },
        Endpoint {
            path: "/sources/unreviewed", method: Method::Get, tag: "web",
            summary: "Submitted sources that no reviewer has approved",
            params: &[],
            responses: &[(200, "HTML page", HTML, None)],
            route: |m| on(m, web::source::unreviewed),
        },
        Endpoint {
            path: "/keys", method: Method::Get, tag: "web",
            summary: "Every participant key: name, organisation, roles, registration, revocation, entries",
            params: &[
                ("organisation", In::Query, false, "string", "only this organisation's keys (any case)"),
                ("after", In::Query, false, "integer", "keys registered after this log index (next page)"),
            ],
            responses: &[(200, "HTML page", HTML, None), PAGE_400],
            route: |m| on(m, web::key::participants),
        },
        Endpoint {
            path: "/key/{id}", method: Method::Get, tag: "web",
            summary: "A key's registration, roles, revocation and signed entries",
            params: &[
                ("id", In::Path, true, "string", "key ID (64 hex)"),
                ("cursor", In::Query, false, "string", "opaque, from the next-page link"),
            ],
            responses: &[(200, "HTML page", HTML, None), PAGE_400, PAGE_404],
            route: |m| on(m, web::key::key),
        },
        Endpoint {
            path: "/entry/{index}", method: Method::Get, tag: "web",
            summary: "One entry: decoded statement, raw envelope, inclusion proof",
            params: &[("index", In::Path, true, "integer", "log index")],
            responses: &[(200, "HTML page", HTML, None), PAGE_400, PAGE_404],
            route: |m| on(m, web::entry::entry),
        },
        Endpoint {
            path: "/entry/{index}/tlog-proof", method: Method::Get, tag: "web",
            summary: "The entry's C2SP tlog-proof file (download)",
            params: &[("index", In::Path, true, "integer", "log index")],
            responses: &[(200, "tlog-proof text", TEXT, None), PAGE_400, PAGE_404],
            route: |m| on(m, web::entry::tlog_proof),
        },
        Endpoint {
            path: "/checkpoints", method: Method::Get, tag: "web",
            summary: "History of signed checkpoints with consistency-proof links",
            params: &[("since", In::Query, false, "integer", "smallest size to list")],
            responses: &[(200, "HTML page", HTML, None)],
            route: |m| on(m, web::checkpoints::checkpoints),
        },
    ]
}

/// The path as axum matches it: `/tile/{path}` captures the rest of the URL.
fn axum_path(path: &str) -> &str {
    if path == "/tile/{path}" {
        "/tile/{*path}"
    } else {
        path
    }
}

/// The router of every endpoint (no fallback, no middleware, no state yet).
pub fn router() -> axum::Router<AppState> {
    let mut by_path: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    for e in endpoints() {
        let mr = (e.route)(e.method.filter());
        let path = axum_path(e.path);
        let merged = match by_path.remove(path) {
            Some(existing) => existing.merge(mr),
            None => mr,
        };
        by_path.insert(path, merged);
    }
    by_path
        .into_iter()
        .fold(axum::Router::new(), |r, (path, mr)| r.route(path, mr))
}

fn param(p: &Param) -> Value {
    let (name, place, required, ty, description) = *p;
    json!({
        "name": name,
        "in": match place { In::Path => "path", In::Query => "query" },
        "required": required,
        "description": description,
        "schema": {"type": ty},
    })
}

fn response(r: &Resp) -> Value {
    let (_, description, media, schema) = *r;
    let schema = match schema {
        Some(name) => json!({"$ref": format!("#/components/schemas/{name}")}),
        None => json!({"type": "string"}),
    };
    json!({"description": description, "content": {media: {"schema": schema}}})
}

/// The OpenAPI 3.1 document of [`endpoints`].
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for e in endpoints() {
        let item = paths.entry(e.path.to_string()).or_insert_with(|| json!({}));
        let responses: serde_json::Map<String, Value> = e
            .responses
            .iter()
            .map(|r| (r.0.to_string(), response(r)))
            .collect();
        let mut op = json!({
            "operationId": format!("{}{}", e.method.as_str(), e.path.replace(['/', '{', '}', '.', '-'], "_")),
            "tags": [e.tag],
            "summary": e.summary,
            "parameters": e.params.iter().map(param).collect::<Vec<_>>(),
            "responses": responses,
        });
        if e.method == Method::Post {
            op["requestBody"] = json!({"required": true, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Envelope"}}}});
        }
        item[e.method.as_str()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Glassbox transparency log",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Append-only log of source submissions, reviews, builds and key events (docs/api.md has the prose).",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": [
            {"name": "log", "description": "Submission, search, proofs, export"},
            {"name": "registry", "description": "Participant keys"},
            {"name": "tiles", "description": "C2SP tlog-tiles read API"},
            {"name": "web", "description": "HTML pages"},
            {"name": "operations", "description": "Health, metrics, this document"},
        ],
        "paths": paths,
        "components": {"schemas": schemas()},
    })
}

fn schemas() -> Value {
    let hex = json!({"type": "string", "pattern": "^[0-9a-f]{64}$"});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    // Error, SearchHit, SearchPage, InclusionProof, ConsistencyProof and
    // CheckpointHistory describe the types of `glassbox_core::api` the handlers send
    // (ErrorBody, SearchHit, SearchPage, InclusionProof, ConsistencyProof,
    // CheckpointPage). The component names are part of the published document, so
    // they keep their names where the Rust types differ.
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
        "Envelope": {"type": "object", "required": ["payload", "payloadType", "signatures"], "properties": {
            "payload": {"type": "string", "contentEncoding": "base64"},
            "payloadType": {"const": "application/vnd.in-toto+json"},
            "signatures": {"type": "array", "items": {"type": "object", "required": ["keyid", "sig"], "properties": {
                "keyid": hex, "sig": {"type": "string", "contentEncoding": "base64"}}}}}},
        "Receipt": {"type": "object", "required": ["index", "entry", "tlogProof"], "properties": {
            "index": {"type": "integer", "minimum": 0},
            "entry": {"$ref": "#/components/schemas/Envelope"},
            "tlogProof": {"type": "string", "description": "C2SP tlog-proof@v1 text"}}},
        "SearchHit": {"type": "object", "required": ["index", "kind", "integratedTime", "signers", "entry"], "properties": {
            "index": {"type": "integer"}, "kind": {"type": "string"},
            "integratedTime": {"type": "string", "format": "date-time"},
            "signers": strings, "entry": {"$ref": "#/components/schemas/Envelope"}}},
        "SearchPage": {"type": "object", "required": ["entries"], "properties": {
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/SearchHit"}},
            "nextCursor": {"type": "string"}}},
        "Bundle": {"type": "object", "required": ["mediaType", "artifact", "checkpoint", "entries", "keyEvents"], "properties": {
            "mediaType": {"enum": ["application/vnd.glassbox.bundle.v1+json", "application/vnd.glassbox.bundle.v2+json"]},
            "artifact": {"type": "string"}, "checkpoint": {"type": "string"},
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/Receipt"}},
            "keyEvents": {"type": "array", "items": {"$ref": "#/components/schemas/Receipt"}},
            "index": {"type": "object", "required": ["commitment", "lookups"], "properties": {
                "commitment": {"$ref": "#/components/schemas/Receipt"},
                "lookups": {"type": "array", "items": {"$ref": "#/components/schemas/IndexLookup"}}}}}},
        "IndexLookup": {"type": "object", "required": ["key", "indices", "proof"], "properties": {
            "key": {"type": "string"},
            "indices": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "proof": {"type": "string", "contentEncoding": "base64", "description": "docs/formats/index.md, binary form"}}},
        "IndexAnswer": {"type": "object", "required": ["checkpoint", "commitment", "lookup"], "properties": {
            "checkpoint": {"type": "string"},
            "commitment": {"$ref": "#/components/schemas/Receipt"},
            "lookup": {"$ref": "#/components/schemas/IndexLookup"},
            "nextAfter": {"type": "integer", "description": "set when the list goes on: GET /api/v1/index/list?after=<this>"}}},
        "IndexPage": {"type": "object", "required": ["key", "size", "indices"], "properties": {
            "key": {"type": "string"},
            "size": {"type": "integer"},
            "indices": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "nextAfter": {"type": "integer"}}},
        "InclusionProof": {"type": "object", "required": ["index", "size", "leafHash", "root", "hashes"], "properties": {
            "index": {"type": "integer"}, "size": {"type": "integer"}, "leafHash": {"type": "string"},
            "root": {"type": "string"}, "hashes": strings}},
        "ConsistencyProof": {"type": "object", "required": ["from", "to", "fromRoot", "toRoot", "hashes"], "properties": {
            "from": {"type": "integer"}, "to": {"type": "integer"}, "fromRoot": {"type": "string"},
            "toRoot": {"type": "string"}, "hashes": strings}},
        "CheckpointHistory": {"type": "object", "required": ["checkpoints"], "properties": {
            "checkpoints": {"type": "array", "items": {"type": "object", "properties": {
                "size": {"type": "integer"}, "createdAt": {"type": "string", "format": "date-time"},
                "checkpoint": {"type": "string"}}}},
            "nextSince": {"type": "integer"}}},
        "Key": {"type": "object", "required": ["keyId", "roles", "events"], "properties": {
            "keyId": hex, "publicKey": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]},
            "organisation": {"type": ["string", "null"]}, "roles": strings,
            "registeredAt": {"type": ["integer", "null"]}, "revokedAt": {"type": ["integer", "null"]},
            "events": {"type": "array", "items": {"type": "object"}}}},
        "KeyList": {"type": "object", "required": ["keys"], "properties": {
            "keys": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}},
            "nextAfter": {"type": "integer", "description": "set when more keys follow: the next page's after"}}},
        "ExportRow": {"type": "object", "required": ["index", "integratedTime", "kind", "signers", "subjects",
                "artifacts", "repositories", "commits", "dirHashes", "leafHash", "statement", "entry"], "properties": {
            "index": {"type": "integer"}, "integratedTime": {"type": "string", "format": "date-time"},
            "kind": {"type": "string"}, "signers": strings,
            "subjects": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "digest": {"type": "object", "additionalProperties": {"type": "string"}}}}},
            "artifacts": strings, "repositories": strings, "commits": strings, "dirHashes": strings,
            "leafHash": hex,
            "statement": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/StatementFields"}]},
            "entry": {"$ref": "#/components/schemas/Envelope"}}},
        "StatementFields": {"type": "object", "required": ["kind", "sources"],
            "description": "the entry's statement, decoded; members a kind does not have are absent", "properties": {
            "kind": {"type": "string"}, "product": {"type": "string"}, "version": {"type": "string"},
            "verdict": {"type": "string"},
            "scope": {"oneOf": [{"const": "full"}, strings]},
            "findings": {"type": "string"}, "builder": {"type": "string"},
            "keyId": hex, "action": {"type": "string"}, "organisation": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "object", "required": ["repository", "dirHash"], "properties": {
                "repository": {"type": "string"}, "commit": {"type": "string"}, "dirHash": hex}}}}},
    })
}

async fn openapi_json() -> Json<Value> {
    Json(document())
}
