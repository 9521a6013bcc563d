//! Driving the gpufleet client from Rust with your own transport.
//!
//! This transport speaks plain HTTP/1.1 over `std::net::TcpStream` (no TLS, so it is for the
//! simulated clouds or a local proxy) and blocks; a real program would wrap reqwest, ureq or
//! hyper the same way. Run against the simulated clouds:
//!
//! ```text
//! npm run sim -- --port 8790 &
//! cargo run --example custom_transport -- http://127.0.0.1:8790
//! ```

#[path = "../tests/support/plain_http.rs"]
mod plain_http;

use gpufleet::{Client, ClientConfig, FleetQuery, Provider, ProviderConfig};
use plain_http::PlainHttp;

fn main() {
    let base = std::env::args().nth(1).unwrap_or_else(|| "http://127.0.0.1:8790".into());
    let config = ClientConfig::new()
        .with_provider(Provider::Fal, ProviderConfig::new(Provider::Fal, "sim-fal-key").with_base_url(format!("{base}/fal/v1")))
        .with_provider(
            Provider::Sfcompute,
            ProviderConfig::new(Provider::Sfcompute, "sim-sfc-token")
                .with_base_url(format!("{base}/sfcompute/preview/v2"))
                .with_workspace("wksp_simfleet01"),
        )
        .with_provider(
            Provider::Novita,
            ProviderConfig::new(Provider::Novita, "sim-novita-key")
                .with_base_url(format!("{base}/novita/gpu-instance/openapi/v1")),
        );
    let client = Client::new(PlainHttp, config);
    // Any executor works; the futures here complete without yielding because the transport blocks.
    let listing = futures::executor::block_on(client.list_all(&FleetQuery::default()));
    match listing {
        Ok(listing) => {
            for i in &listing.instances {
                println!(
                    "{:<10} {:<28} {:<13} {}",
                    i.provider.as_str(),
                    i.id,
                    i.status.as_str(),
                    i.name.as_deref().unwrap_or("-")
                );
            }
            for failure in &listing.errors {
                eprintln!("{} failed: {} ({})", failure.provider, failure.error, failure.error.code);
            }
        }
        Err(e) => eprintln!("error: {e}"),
    }
}
