//! The page shell (landmarks, navigation, one small stylesheet readable on a
//! phone) and the formatting helpers every page shares.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::log::clock::rfc3339_ms;

const CSS: &str = "
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1b1b1b;background:#fff}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{border-bottom:1px solid #ccc}
header nav ul{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header .brand{font-weight:700}
a{color:#0645ad}
a:focus,input:focus,select:focus,button:focus{outline:3px solid #fb0;outline-offset:1px}
h1{font-size:1.5rem;margin:1rem 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
code,.mono{overflow-wrap:anywhere}
pre{background:#f5f5f5;padding:.5rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
form.search{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.5rem 1rem;align-items:end}
form.search label{display:flex;flex-direction:column;font-weight:600}
input,select,button{font:inherit;padding:.3rem}
button{cursor:pointer}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5rem 1rem}
.bad{background:#fdecea;border-left:4px solid #c62828;padding:.5rem 1rem}
.good{background:#e8f5e9;border-left:4px solid #2e7d32;padding:.5rem 1rem}
nav.pages{margin:1rem 0;display:flex;gap:1rem}
svg text{font-size:11px;fill:#333}
@media (max-width:40rem){dl{grid-template-columns:1fr}dd{margin-left:1rem}}
footer{border-top:1px solid #ccc;margin-top:2rem;color:#555;font-size:.875rem}
";

/// A complete page: `title` (also the tab title) and the main content.
pub fn page(title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                // No favicon request (it would only ever be a 404).
                link rel="icon" href="data:,";
                title { (title) " · Glassbox" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header {
                    nav aria-label="Main" {
                        ul {
                            li { a.brand href="/" { "Glassbox log" } }
                            li { a href="/search" { "Search" } }
                            li { a href="/sources/unreviewed" { "Unreviewed sources" } }
                            li { a href="/keys" { "Participants" } }
                            li { a href="/checkpoints" { "Checkpoints" } }
                            li { a href="/api/v1/openapi.json" { "API" } }
                        }
                    }
                }
                main id="main" { (content) }
                footer {
                    p {
                        "This page shows what the log recorded; it does not vouch for it. "
                        "Check any artifact yourself with " code { "glassbox verify" } " and your own trust policy."
                    }
                }
            }
        }
    }
}

/// RFC 3339 UTC, second precision, for tables.
pub fn time(ms: i64) -> String {
    let full = rfc3339_ms(ms);
    // "2026-01-01T00:00:00.000Z" → "2026-01-01 00:00:00Z"
    match (full.get(..10), full.get(11..19)) {
        (Some(d), Some(t)) if full.len() == 24 => format!("{d} {t}Z"),
        _ => full,
    }
}

/// "3 minutes" and the like, for the age of the newest checkpoint.
pub fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (n, unit) = match s {
        0..=119 => (s, "second"),
        120..=7199 => (s / 60, "minute"),
        7200..=172_799 => (s / 3600, "hour"),
        _ => (s / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// A long hex string abbreviated for tables; the full value stays in `title`
/// and in the link target.
pub fn short(hex: &str) -> String {
    if hex.len() > 16 {
        format!("{}…", &hex[..12])
    } else {
        hex.to_string()
    }
}

/// Link to an entry page.
pub fn entry_link(index: u64) -> Markup {
    html! { a href={ "/entry/" (index) } { (index) } }
}

/// Link to a key page, abbreviated.
pub fn key_link(key_id: &str) -> Markup {
    html! { a.mono href={ "/key/" (key_id) } title=(key_id) { (short(key_id)) } }
}

/// Link to an artifact page.
pub fn artifact_link(hex: &str) -> Markup {
    html! { a.mono href={ "/artifact/sha256:" (hex) } title={ "sha256:" (hex) } { "sha256:" (short(hex)) } }
}

/// Link to a source page by dirHash or commit.
pub fn source_link(id: &str) -> Markup {
    html! { a.mono href={ "/source/" (id) } title=(id) { (short(id)) } }
}

/// Lowercase hex of a hash.
pub fn hex(h: &[u8]) -> String {
    hex::encode(h)
}
