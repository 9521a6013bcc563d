//! The hand-written HTTP-date parser (`Retry-After`, `Date`) checked against the `httpdate` crate
//! as an oracle, over all three forms RFC 9110 §5.6.7 requires a recipient to accept. The shipped
//! code stays small (no dependency in the wasm); this test says it reads what `httpdate` reads.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, UNIX_EPOCH};

use gpufleet::provider::parse_http_date;

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// The three spellings of one instant, made from the IMF-fixdate that `httpdate` formats.
fn spellings(secs: u64) -> [String; 3] {
    let imf = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    let p: Vec<&str> = imf.split(' ').collect();
    let short_day = p[0].trim_end_matches(',');
    let long_day = WEEKDAYS.iter().find(|d| d.starts_with(short_day)).unwrap();
    let day: u32 = p[1].parse().unwrap();
    assert!(MONTHS.contains(&p[2]));
    let rfc850 = format!("{long_day}, {}-{}-{} {} GMT", p[1], p[2], &p[3][2..], p[4]);
    let asctime = format!("{short_day} {} {day:>2} {} {}", p[2], p[4], p[3]);
    [imf, rfc850, asctime]
}

fn oracle(s: &str) -> Option<u64> {
    httpdate::parse_http_date(s).ok().map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64)
}

#[test]
fn every_form_reads_as_httpdate_reads_it() {
    // A deterministic spread of instants over 1970–2069 (the span a two-digit RFC 850 year names),
    // plus the edges: the epoch, leap days, the end of a year and of the span.
    let mut instants: Vec<u64> = vec![0, 951_782_400, 1_078_012_800, 1_798_761_599, 3_155_759_999];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..5_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        instants.push(x % 3_155_760_000);
    }
    for secs in instants {
        for form in spellings(secs) {
            let expected = oracle(&form);
            assert_eq!(expected, Some(secs * 1000), "the oracle reads {form:?}");
            assert_eq!(parse_http_date(&form), expected, "{form:?}");
        }
    }
}

#[test]
fn what_the_oracle_refuses_is_refused() {
    for bad in [
        "",
        "soon",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1995 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49 GMT",
        "Sun Nov 06 08:49:37 94",
        "Sun Nov  6 08:49:37",
        "Wed, 31 Dec 1969 23:59:59 GMT",
    ] {
        assert_eq!(oracle(bad), None, "the oracle accepts {bad:?}");
        assert_eq!(parse_http_date(bad), None, "{bad:?}");
    }
}
