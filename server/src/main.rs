//! `glassbox-server`: parse flags, resolve the configuration, run the log.

use clap::Parser;
use glassbox_server::config::{Config, Flags};

/// jemalloc: ~15% less server CPU per entry than glibc's allocator under the
/// ingestion load, for ~10% more peak RSS (docs/decisions.md).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person watching: a log redirected to a file or a
        // journal gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match Config::resolve(Flags::parse()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("glassbox-server: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match glassbox_server::run(config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "glassbox-server: {}",
                glassbox_core::error_line::causes(e.as_ref())
            );
            std::process::ExitCode::FAILURE
        }
    }
}
