//! A blocking HTTP/1.1 transport over `std::net::TcpStream` (http:// only): enough to drive the
//! client against the simulated clouds from native code. Shared by `examples/custom_transport.rs`
//! and the end-to-end tests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gpufleet::{HttpRequest, HttpResponse, Transport, TransportError};

/// A blocking HTTP/1.1 transport over TCP (http:// only).
pub struct PlainHttp;

impl Transport for PlainHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let rest = request.url.strip_prefix("http://").ok_or_else(|| TransportError::Network("only http:// URLs".into()))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let mut stream = TcpStream::connect(authority).map_err(|e| TransportError::Network(e.to_string()))?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let body = request.body.unwrap_or_default();
        let mut head = format!("{} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n", request.method);
        for (name, value) in &request.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream
            .write_all(head.as_bytes())
            .and_then(|_| stream.write_all(&body))
            .map_err(|e| TransportError::Network(e.to_string()))?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| TransportError::Network(e.to_string()))?;
        parse_response(&raw).ok_or_else(|| TransportError::Network("malformed HTTP response".into()))
    }

    async fn sleep(&self, duration: Duration) -> Result<(), TransportError> {
        std::thread::sleep(duration);
        Ok(())
    }

    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    fn fill_random(&self, buf: &mut [u8]) {
        // Not cryptographic; fine for idempotency keys and jitter in an example.
        let mut x = self.now_ms() ^ 0x9E37_79B9_7F4A_7C15;
        for b in buf {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
    }
}

/// Splits a `Connection: close` HTTP/1.1 response (chunked bodies included) into status, headers and body.
pub fn parse_response(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))).collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let (mut out, mut rest) = (Vec::new(), &body[..]);
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).ok()?.trim(), 16).ok()?;
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(eol + 2..eol + 2 + size)?);
            rest = rest.get(eol + 4 + size..)?;
        }
        body = out;
    }
    Some(HttpResponse { status, headers, body })
}
