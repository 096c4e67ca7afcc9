//! The client against a scripted one-connection-per-request HTTP server on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread;

use super::*;

/// Serves `responses` in order, one per connection, and returns the request lines seen.
fn serve(responses: Vec<(u16, String)>) -> (String, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = thread::spawn(move || {
        let mut seen = Vec::new();
        for (status, body) in responses {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            seen.push(line.trim().to_owned());
            let mut length = 0usize;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).expect("header");
                if header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().expect("length");
                }
            }
            let mut body_in = vec![0; length];
            reader.read_exact(&mut body_in).expect("body");
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .expect("write");
        }
        seen
    });
    (base, handle)
}

fn client(base: &str) -> LogClient {
    LogClient::new(base, Duration::from_secs(5)).expect("client")
}

#[test]
fn connection_refused_is_named_as_such() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    let err = client(&base).checkpoint().expect_err("nothing listens");
    assert!(matches!(err, ClientError::Connect { .. }), "{err:?}");
    assert!(
        err.to_string().contains("is the log server running"),
        "{err}"
    );
}

#[test]
fn server_error_body_is_shown() {
    let body = r#"{"error":{"code":"not_found","message":"no build names sha256:00"}}"#;
    let (base, h) = serve(vec![(404, body.to_owned())]);
    let err = client(&base).bundle("sha256:00").expect_err("404");
    h.join().expect("server");
    assert_eq!(err.status(), Some(404));
    let text = err.to_string();
    assert!(
        text.contains("404 not_found: no build names sha256:00"),
        "{text}"
    );
}

#[test]
fn non_json_error_body_is_shown_truncated() {
    let (base, h) = serve(vec![(502, "bad gateway".to_owned())]);
    let err = client(&base).keys().expect_err("502");
    h.join().expect("server");
    assert!(
        err.to_string().contains("502 unknown: bad gateway"),
        "{err}"
    );
}

#[test]
fn malformed_json_is_an_error() {
    let (base, h) = serve(vec![(200, "{not json".to_owned())]);
    let err = client(&base).entry(3).expect_err("malformed");
    let seen = h.join().expect("server");
    assert_eq!(seen, ["GET /api/v1/entries/3 HTTP/1.1"]);
    assert!(matches!(err, ClientError::Malformed { .. }), "{err:?}");
}

#[test]
fn oversized_checkpoint_is_refused() {
    let big = "x".repeat(MAX_NOTE_BYTES as usize + 10);
    let (base, h) = serve(vec![(200, big)]);
    let err = client(&base).checkpoint().expect_err("too large");
    drop(h);
    assert!(matches!(err, ClientError::TooLarge { .. }), "{err:?}");
}

#[test]
fn search_follows_cursors_to_the_end() {
    let hit = |i: u64| {
        format!(
            r#"{{"index":{i},"kind":"build","integratedTime":"2026-01-01T00:00:00.000Z","signers":["ab"],"entry":{{}}}}"#
        )
    };
    let page1 = format!(r#"{{"entries":[{},{}],"nextCursor":"c1"}}"#, hit(1), hit(2));
    let page2 = format!(r#"{{"entries":[{}]}}"#, hit(5));
    let (base, h) = serve(vec![(200, page1), (200, page2)]);
    let filter = SearchFilter {
        repository: Some("https://example.com/a b.git".to_owned()),
        kind: Some("build".to_owned()),
        ..SearchFilter::default()
    };
    let hits = client(&base).search(&filter).expect("search");
    let seen = h.join().expect("server");
    assert_eq!(hits.iter().map(|h| h.index).collect::<Vec<_>>(), [1, 2, 5]);
    assert!(
        seen[0].contains("repository=https%3A%2F%2Fexample.com%2Fa+b.git")
            || seen[0].contains("repository=https%3A%2F%2Fexample.com%2Fa%20b.git"),
        "{seen:?}"
    );
    assert!(seen[1].contains("cursor=c1"), "{seen:?}");
}

#[test]
fn search_page_going_backwards_is_malformed() {
    let page = |i: u64| {
        format!(
            r#"{{"entries":[{{"index":{i},"kind":"build","integratedTime":"t","signers":[],"entry":{{}}}}],"nextCursor":"c"}}"#
        )
    };
    let (base, h) = serve(vec![(200, page(4)), (200, page(4))]);
    let err = client(&base)
        .search(&SearchFilter::default())
        .expect_err("loop");
    h.join().expect("server");
    assert!(matches!(err, ClientError::Malformed { .. }), "{err:?}");
}

#[test]
fn consistency_proof_for_other_sizes_is_refused() {
    let body = r#"{"from":1,"to":9,"fromRoot":"","toRoot":"","hashes":[]}"#;
    let (base, h) = serve(vec![(200, body.to_owned())]);
    let err = client(&base).consistency(2, 9).expect_err("mismatch");
    h.join().expect("server");
    assert!(err.to_string().contains("from 2 to 9"), "{err}");
}

#[test]
fn entries_are_read_from_partial_tiles() {
    let leaves: Vec<Vec<u8>> = (0..5u8).map(|i| vec![b'a' + i; 3]).collect();
    let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
    let tile = glassbox_core::tile::encode_entry_bundle(&refs).expect("encode");
    // The fake server sends text; entry bundles of ASCII leaves are ASCII but for the
    // length prefixes, which are < 0x80 here.
    let tile = String::from_utf8(tile).expect("ascii tile");
    let (base, h) = serve(vec![(200, tile)]);
    let got = client(&base).entries(2, 5).expect("entries");
    let seen = h.join().expect("server");
    assert_eq!(seen, ["GET /tile/entries/000.p/5 HTTP/1.1"]);
    assert_eq!(got, leaves[2..5]);
}

#[test]
fn non_http_urls_are_refused() {
    assert!(matches!(
        LogClient::new("localhost:8080", Duration::from_secs(1)),
        Err(ClientError::BadUrl { .. })
    ));
}

#[test]
fn the_key_list_is_joined_from_its_pages_and_a_page_that_does_not_advance_ends_it() {
    let (base, h) = serve(vec![
        (200, r#"{"keys":[{"keyId":"a"}],"nextAfter":5}"#.to_owned()),
        (200, r#"{"keys":[{"keyId":"b"}],"nextAfter":9}"#.to_owned()),
        (200, r#"{"keys":[{"keyId":"c"}],"nextAfter":9}"#.to_owned()),
    ]);
    let keys = client(&base).keys().expect("keys");
    let seen = h.join().expect("server");
    assert_eq!(
        seen,
        [
            "GET /api/v1/keys HTTP/1.1",
            "GET /api/v1/keys?after=5 HTTP/1.1",
            "GET /api/v1/keys?after=9 HTTP/1.1"
        ]
    );
    let ids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keyId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
}
