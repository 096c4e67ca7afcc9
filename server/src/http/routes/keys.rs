//! `GET /api/v1/keys` and `/api/v1/keys/{id}`: the participant registry with
//! each key's logged history.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::http::error::AppError;
use crate::http::extract::{P, Q};
use crate::http::state::AppState;
use crate::storage::KeyEventRecord;

/// One event in a key's history.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct KeyEventView {
    /// Log index of the key-event entry.
    pub index: u64,
    /// `register` or `revoke`.
    pub action: String,
    #[serde(flatten)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// A key as the registry sees it at the latest checkpoint.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct KeyView {
    #[serde(rename = "keyId")]
    pub key_id: String,
    /// Standard base64 of the 32-byte Ed25519 public key.
    #[serde(rename = "publicKey")]
    pub public_key: Option<String>,
    pub name: Option<String>,
    pub organisation: Option<String>,
    pub roles: Vec<String>,
    /// Log index of the registration.
    #[serde(rename = "registeredAt")]
    pub registered_at: Option<u64>,
    /// Log index of the revocation, if revoked.
    #[serde(rename = "revokedAt")]
    pub revoked_at: Option<u64>,
    pub events: Vec<KeyEventView>,
}

#[derive(Serialize, Deserialize, Debug)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
    /// Set when more keys follow: the `after` of the next page (the last key's
    /// `registeredAt`).
    #[serde(rename = "nextAfter", default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
}

/// Keys in one page of `GET /api/v1/keys` at most (and the default).
pub const KEYS_PAGE: usize = 1000;
/// Bytes of one page at most, as JSON: a page stops before the key that would
/// pass it (it always holds at least one).
pub const MAX_KEYS_PAGE_BYTES: usize = 4 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// List the keys registered after this log index.
    after: Option<u64>,
    limit: Option<usize>,
}

/// Every key of the registry, by registration, from its logged key events.
pub fn views(records: Vec<KeyEventRecord>) -> Vec<KeyView> {
    let mut keys: BTreeMap<String, KeyView> = BTreeMap::new();
    for r in records {
        let view = keys.entry(r.key_id.clone()).or_insert_with(|| KeyView {
            key_id: r.key_id.clone(),
            public_key: None,
            name: None,
            organisation: None,
            roles: Vec::new(),
            registered_at: None,
            revoked_at: None,
            events: Vec::new(),
        });
        let str_of = |k: &str| {
            r.details
                .get(k)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        match r.action.as_str() {
            "register" => {
                view.public_key = str_of("publicKey");
                view.name = str_of("name");
                view.organisation = str_of("organisation");
                view.roles = r
                    .details
                    .get("roles")
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                view.registered_at = Some(r.index);
            }
            "revoke" => view.revoked_at = Some(r.index),
            _ => {}
        }
        let details = match r.details {
            serde_json::Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => serde_json::Map::new(),
        };
        view.events.push(KeyEventView {
            index: r.index,
            action: r.action,
            details,
        });
    }
    let mut out: Vec<KeyView> = keys.into_values().collect();
    out.sort_by_key(|k| k.registered_at);
    out
}

/// One page of the registry, by registration: at most `limit` keys (1 ..=
/// [`KEYS_PAGE`]) and [`MAX_KEYS_PAGE_BYTES`], with `nextAfter` when more follow.
pub async fn list(
    State(state): State<AppState>,
    Q(p): Q<ListParams>,
) -> Result<Json<KeyList>, AppError> {
    let limit = match p.limit {
        None => KEYS_PAGE,
        Some(n) if (1..=KEYS_PAGE).contains(&n) => n,
        Some(n) => {
            return Err(AppError::BadRequest(format!(
                "limit: {n} is not between 1 and {KEYS_PAGE}"
            )))
        }
    };
    let records = state.read(|s| Ok(s.key_events()?)).await?;
    let mut keys = views(records)
        .into_iter()
        .filter(|k| p.after.is_none_or(|a| k.registered_at.unwrap_or(0) > a));
    let (mut page, mut bytes) = (Vec::new(), 0);
    let mut cut = false;
    for key in keys.by_ref() {
        let size = serde_json::to_vec(&key).map_or(0, |v| v.len() + 1);
        if page.len() == limit || (bytes + size > MAX_KEYS_PAGE_BYTES && !page.is_empty()) {
            cut = true;
            break;
        }
        bytes += size;
        page.push(key);
    }
    let next_after = cut
        .then(|| page.last().and_then(|k: &KeyView| k.registered_at))
        .flatten();
    Ok(Json(KeyList {
        keys: page,
        next_after,
    }))
}

pub async fn get(
    State(state): State<AppState>,
    P(id): P<String>,
) -> Result<Json<KeyView>, AppError> {
    let id = id.to_ascii_lowercase();
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::BadRequest(format!(
            "{id:?} is not a key ID (64 hex digits)"
        )));
    }
    let records = state.read(|s| Ok(s.key_events()?)).await?;
    let records: Vec<_> = records.into_iter().filter(|r| r.key_id == id).collect();
    views(records)
        .pop()
        .map(Json)
        .ok_or_else(|| AppError::NotFound(format!("key {id} is not registered in this log")))
}
