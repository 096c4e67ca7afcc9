//! `GET /api/v1/entries/{index}`: one entry as a receipt against the latest
//! checkpoint.

use axum::extract::State;

use crate::http::error::AppError;
use crate::http::extract::P;
use crate::http::state::AppState;
use crate::log::receipt::{receipt_json, ReceiptJson, StorageReader};

pub async fn get_entry(
    State(state): State<AppState>,
    P(index): P<u64>,
) -> Result<ReceiptJson, AppError> {
    let receipt = state
        .read(move |s| {
            let checkpoint = s.latest_checkpoint()?;
            let checkpoint = match checkpoint {
                Some(c) if index < c.size => c,
                other => {
                    let size = other.map_or(0, |c| c.size);
                    return Err(AppError::NotFound(format!(
                        "no entry {index}: the log has {size} entries"
                    )));
                }
            };
            let entry = s.entry(index)?.ok_or_else(|| {
                AppError::Internal(format!(
                    "entry {index} below size {} is missing",
                    checkpoint.size
                ))
            })?;
            Ok(receipt_json(
                index,
                &entry.leaf,
                &checkpoint,
                &StorageReader(s),
            )?)
        })
        .await?;
    Ok(receipt)
}
