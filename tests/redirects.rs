//! No request follows a redirect: a 3xx answer, from any transport, becomes one coded error
//! (`server`, not retryable, the status, the target's origin in a `redirect` detail) after exactly
//! one request, and its body is never read as the provider's answer.

#![allow(clippy::result_large_err)]

mod support;

use futures::executor::block_on;
use gpufleet::error::ErrorDetail;
use gpufleet::*;
use support::fixtures::novita;
use support::scripted::ScriptedTransport;

/// Answers every request with `status` and a `Location` on another host (with a query).
fn redirecting(status: u16) -> ScriptedTransport {
    ScriptedTransport::new(move |_| {
        Ok(HttpResponse::new(status, br#"{"instances":[{"id":"from-the-other-host"}],"total":1}"#.to_vec())
            .with_header("Location", "http://127.0.0.1:5999/steal?token=abc&key=def"))
    })
}

const BASE: &str = "http://127.0.0.1:5001/novita/v1";

fn novita_client(t: &ScriptedTransport) -> Client<&ScriptedTransport> {
    let config = ClientConfig::new()
        .with_provider(Provider::Novita, novita::config().with_base_url(BASE))
        .with_retry(RetryPolicy { max_retries: 3, base_delay_ms: 1, max_delay_ms: 1 });
    Client::new(t, config)
}

fn redirect_detail(to: &str) -> Vec<ErrorDetail> {
    vec![ErrorDetail { field: None, code: Some("redirect".into()), message: to.into() }]
}

#[test]
fn every_3xx_on_a_read_is_one_request_and_one_exact_error() {
    for status in [300, 301, 302, 303, 304, 307, 308] {
        let t = redirecting(status);
        let e = block_on(novita_client(&t).list_page(&ListQuery::first_page(Provider::Novita))).unwrap_err();
        assert_eq!(t.request_count(), 1, "{status}: not retried");
        assert_eq!(t.sleeps().len(), 0, "{status}: no backoff");
        assert_eq!(e.code, ErrorCode::Server);
        assert!(!e.retryable, "a redirect is not transient");
        assert_eq!(e.status, Some(status));
        assert_eq!(e.provider, Some(Provider::Novita));
        assert_eq!(e.details, redirect_detail("http://127.0.0.1:5999"));
        assert_eq!(
            e.message,
            format!(
                "Novita answered HTTP {status} with a redirect to http://127.0.0.1:5999; gpufleet does not follow redirects, so the request was not sent there: check the configured base URL (http://127.0.0.1:5001)"
            )
        );
        assert!(!e.message.contains("steal") && !e.message.contains("token=") && !e.message.contains("abc"));
        assert_eq!(e.field, None);
    }
}

#[test]
fn gets_deletes_and_ssh_are_not_retried_either() {
    let t = redirecting(307);
    let c = novita_client(&t);
    assert_eq!(block_on(c.get(Provider::Novita, "abc")).unwrap_err().status, Some(307));
    let e = block_on(c.delete(Provider::Novita, "abc")).unwrap_err();
    assert_eq!(e.code, ErrorCode::Server, "a redirected delete is not an alreadyGone success");
    assert_eq!(t.request_count(), 2);
    assert_eq!(t.sleeps().len(), 0);
}

#[test]
fn a_redirected_create_is_not_retried_and_says_the_outcome_is_unknown() {
    let t = redirecting(307);
    let input = CreateInput::from_json(
        Provider::Novita,
        serde_json::json!({
            "name": "x", "productId": "prod-1", "gpuNum": 1, "rootfsSize": 20, "imageUrl": "private/image:1",
            "imageAuth": "robot:registry-password-123", "kind": "gpu"
        }),
    )
    .unwrap();
    let e = block_on(novita_client(&t).create(&input)).unwrap_err();
    let sent = t.requests();
    assert_eq!(sent.len(), 1, "one POST, to the configured host only");
    assert!(sent[0].url.starts_with(BASE), "{}", sent[0].url);
    assert_eq!(e.code, ErrorCode::Server);
    assert!(!e.retryable);
    assert_eq!(e.status, Some(307));
    assert_eq!(
        e.message,
        "Novita answered HTTP 307 with a redirect to http://127.0.0.1:5999; gpufleet does not follow redirects, so the request was not sent there: check the configured base URL (http://127.0.0.1:5001); the outcome is unknown: Novita may or may not have created the instance. The create request was not retried because repeating it could make a second instance — check the instance list before trying again"
    );
    assert_eq!(e.details[0], redirect_detail("http://127.0.0.1:5999")[0]);
    assert_eq!(e.details[1].code.as_deref(), Some("outcomeUnknown"));
    assert!(!e.message.contains("registry-password-123"));
}

#[test]
fn a_relative_or_unreadable_location_and_a_missing_one() {
    let cases: [(Option<&str>, &str, &str); 4] = [
        (Some("/novita/v2/gpu/instances?page=9"), "a redirect to http://127.0.0.1:5001", "http://127.0.0.1:5001"),
        (Some("//evil.example/x"), "a redirect to http://evil.example", "http://evil.example"),
        (Some("javascript:alert(1)"), "a redirect to an unknown target (no readable Location)", "unknown"),
        (None, "a redirect to an unknown target (no readable Location)", "unknown"),
    ];
    for (location, target, detail) in cases {
        let t = ScriptedTransport::new(move |_| {
            let r = HttpResponse::new(302, Vec::new());
            Ok(match location {
                Some(l) => r.with_header("location", l),
                None => r,
            })
        });
        let e = block_on(novita_client(&t).get(Provider::Novita, "abc")).unwrap_err();
        assert_eq!(
            e.message,
            format!("Novita answered HTTP 302 with {target}; gpufleet does not follow redirects, so the request was not sent there: check the configured base URL (http://127.0.0.1:5001)"),
            "{location:?}"
        );
        assert_eq!(e.details, redirect_detail(detail));
    }
}

#[test]
fn a_redirect_the_runtime_hides_is_the_same_error_without_a_status() {
    // What the fetch transport reports for a browser's `opaqueredirect` answer.
    let t = ScriptedTransport::new(|_| {
        Err(TransportError::Redirect { status: None, from: Some("http://127.0.0.1:5001".into()), to: None })
    });
    let e = block_on(novita_client(&t).get(Provider::Novita, "abc")).unwrap_err();
    assert_eq!(t.request_count(), 1);
    assert_eq!(t.sleeps().len(), 0);
    assert_eq!(e.code, ErrorCode::Server);
    assert!(!e.retryable);
    assert_eq!(e.status, None);
    assert_eq!(e.provider, Some(Provider::Novita));
    assert_eq!(
        e.message,
        "Novita answered with a redirect to an unknown target (the runtime hides redirects from scripts); gpufleet does not follow redirects, so the request was not sent there: check the configured base URL (http://127.0.0.1:5001)"
    );
    assert_eq!(e.details, redirect_detail("unknown"));
}

#[test]
fn a_proxy_that_redirects_is_refused_too() {
    let t = ScriptedTransport::new(|_| {
        Ok(HttpResponse::new(301, Vec::new()).with_header("Location", "https://fleet.example.com/api/v1/providers"))
    });
    let config =
        ClientConfig::new().with_proxy(ProxyConfig { base_url: "http://127.0.0.1:8787/api".into(), token: Some("tok".into()) });
    let c = Client::new(&t, config);
    let e = block_on(c.available_providers()).unwrap_err();
    assert_eq!(
        e.message,
        "the server answered HTTP 301 with a redirect to https://fleet.example.com; gpufleet does not follow redirects, so the request was not sent there: check the configured base URL (http://127.0.0.1:8787)"
    );
    assert_eq!(e.provider, None);
    assert_eq!(e.status, Some(301));
    let e = block_on(c.list_page(&ListQuery::first_page(Provider::Fal))).unwrap_err();
    assert_eq!(e.provider, Some(Provider::Fal));
    assert!(e.message.starts_with("fal answered HTTP 301 with a redirect to https://fleet.example.com;"), "{}", e.message);
    assert_eq!(t.request_count(), 2);
}

#[test]
fn non_https_base_urls_are_refused_except_loopback() {
    let check = |url: &str| {
        ClientConfig::new()
            .with_provider(Provider::Novita, ProviderConfig::new(Provider::Novita, "k").with_base_url(url))
            .validate()
    };
    let e = check("http://example.com/v1").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("novita.baseUrl"));
    assert_eq!(
        e.message,
        "novita.baseUrl: must be https:// (http:// only to localhost, 127.x.x.x or [::1]), or the key would cross the network in clear"
    );
    for bad in ["http://10.0.0.1/v1", "http://127.0.0.1.nip.io/v1", "http://localhost.example/v1"] {
        assert_eq!(check(bad).unwrap_err().field.as_deref(), Some("novita.baseUrl"), "{bad}");
    }
    for ok in [
        "https://api.novita.ai/gpu-instance/openapi/v1",
        "http://127.0.0.1:9/v1",
        "http://localhost:8787/v1",
        "http://[::1]:9/v1",
    ] {
        assert_eq!(check(ok), Ok(()), "{ok}");
    }
}
