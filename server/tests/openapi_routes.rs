//! The OpenAPI document and the router come from one route table; these tests
//! hold the live router to the document: every documented operation is
//! served, every other method on a documented path is 405, and no route is
//! added to the router outside the table.

mod support;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use glassbox_server::http::openapi::{endpoints, In};
use support::*;

fn sample_uri(path: &str) -> String {
    path.replace("{index}", "0")
        .replace("{id}", &"ab".repeat(32))
        .replace("{digest}", &format!("sha256:{}", "ab".repeat(32)))
        .replace("{path}", "0/000")
}

/// Whether the answer came from the router's fallback (no route matched).
fn is_fallback(status: StatusCode, body: &[u8]) -> bool {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    status == StatusCode::NOT_FOUND && v["error"]["message"] == "no such route"
}

#[tokio::test]
async fn document_is_openapi_3_1_and_lists_exactly_the_route_table() {
    let log = TestLog::memory().await;
    let (status, doc) = log.get_json("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    let table: BTreeSet<(String, String)> = endpoints()
        .iter()
        .map(|e| (e.path.to_string(), e.method.as_str().to_string()))
        .collect();
    assert_eq!(documented, table);
    for e in endpoints() {
        // Every template variable is a documented path parameter and vice versa.
        let vars: BTreeSet<&str> = e
            .path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        let params: BTreeSet<&str> = e
            .params
            .iter()
            .filter(|p| p.1 == In::Path)
            .map(|p| p.0)
            .collect();
        assert_eq!(vars, params, "{}", e.path);
        // Every schema reference resolves.
        for r in e.responses {
            if let Some(name) = r.3 {
                assert!(doc["components"]["schemas"][name].is_object(), "{name}");
            }
        }
    }
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_no_other_method_is() {
    let log = TestLog::memory().await;
    let paths: BTreeSet<&str> = endpoints().iter().map(|e| e.path).collect();
    for path in paths {
        let uri = sample_uri(path);
        let documented: Vec<&str> = endpoints()
            .iter()
            .filter(|e| e.path == path)
            .map(|e| e.method.as_str())
            .collect();
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
        ] {
            let req = Request::builder()
                .method(method.clone())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let (status, _, body) = log.request(req).await;
            let name = method.as_str().to_ascii_lowercase();
            if documented.contains(&name.as_str()) {
                assert!(
                    status != StatusCode::METHOD_NOT_ALLOWED && !is_fallback(status, &body),
                    "{method} {uri} is documented but not routed ({status})"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {uri} is routed but not documented"
                );
            }
        }
    }
    let (status, _, body) = log.get("/api/v1/not-a-route").await;
    assert!(is_fallback(status, &body), "the fallback is recognisable");
}

/// Routes must come from the table: `Router::route` is called in openapi.rs only.
#[test]
fn no_route_is_added_outside_the_route_table() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    for f in files {
        if f.ends_with("openapi.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for needle in [".route(", ".route_service(", ".nest("] {
            assert!(
                !text.contains(needle),
                "{} calls {needle}: add the route to openapi::endpoints() instead",
                f.display()
            );
        }
    }
}
