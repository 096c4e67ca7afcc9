//! The log server's search parameters (`GET /api/v1/entries?…`): the query string is
//! extracted from a request URI as the handler's `Query<SearchParams>` does, then
//! validated by `routes::search::to_query`. Nothing panics; a query that validates is
//! bounded and normalised.
#![no_main]

use axum::extract::Query;
use axum::http::Uri;
use glassbox_server::http::routes::search::{encode_cursor, to_query, SearchParams, MAX_LIMIT};
use libfuzzer_sys::fuzz_target;

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = format!("/api/v1/entries?{query}").parse::<Uri>() else {
        return;
    };
    let Ok(Query(params)) = Query::<SearchParams>::try_from_uri(&uri) else {
        return;
    };
    let Ok(q) = to_query(&params) else {
        return;
    };
    assert!(
        (1..=MAX_LIMIT).contains(&q.limit),
        "limit {} escaped its bounds",
        q.limit
    );
    for digest in [&q.artifact, &q.dir_hash, &q.signer].into_iter().flatten() {
        assert!(is_lower_hex(digest, 64), "digest {digest:?} not normalised");
    }
    if let Some(commit) = &q.commit {
        assert!(is_lower_hex(commit, 40) || is_lower_hex(commit, 64));
    }
    if let Some(after) = q.after {
        let cursor = SearchParams {
            cursor: Some(encode_cursor(after)),
            ..SearchParams::default()
        };
        assert_eq!(to_query(&cursor).ok().and_then(|c| c.after), Some(after));
    }
});
