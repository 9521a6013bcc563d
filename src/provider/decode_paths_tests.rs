//! The fast decode path against the slow one (see `provider::fast_record`): on every fixture and
//! on mutations of it, the fast path either gives up (`None`) or gives exactly the page the slow
//! path gives; it never accepts what the slow path refuses. And on every well-formed fixture it
//! does not give up, so the success path really is the fast one.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::error::Result;
use crate::model::NovitaListQuery;
use crate::model::{Instance, Page};
use crate::provider::{fal, fal_alpha, novita};

type Fast = fn(&Arc<[u8]>) -> Option<Page<Instance>>;
type Slow = fn(&[u8]) -> Result<Page<Instance>>;

fn novita_fast(body: &Arc<[u8]>) -> Option<Page<Instance>> {
    novita::fast_list(&NovitaListQuery::default(), body)
}
fn novita_slow(body: &[u8]) -> Result<Page<Instance>> {
    novita::slow_list(&NovitaListQuery::default(), body)
}

/// A provider's fixture folder, its list fixtures, its two paths, and the list's key in the
/// envelope (`None`: the body is the list).
type Case = (&'static str, Vec<&'static str>, Fast, Slow, Option<&'static str>);

fn providers() -> Vec<Case> {
    vec![
        ("fal", vec!["list.json", "list-page2.json"], fal::fast_list, fal::slow_list, Some("instances")),
        ("fal-alpha", vec!["list.json", "list-nullable.json"], fal_alpha::fast_list, fal_alpha::slow_list, None),
        (
            "sfcompute",
            vec!["list_seed.json", "list_july_last_page.json", "list_july_fields.json"],
            crate::provider::sfcompute::fast_list,
            crate::provider::sfcompute::slow_list,
            Some("data"),
        ),
        (
            "novita",
            vec!["list.json", "list-numbers.json", "list-no-total.json", "list-spot.json"],
            novita_fast,
            novita_slow,
            Some("instances"),
        ),
    ]
}

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{dir}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The two paths agree on `body`; returns whether the fast one took it.
fn agree(what: &str, body: &[u8], fast: Fast, slow: Slow) -> bool {
    let shared: Arc<[u8]> = body.into();
    match (fast(&shared), slow(body)) {
        (None, _) => false,
        (Some(f), Ok(s)) => {
            assert_eq!(f, s, "{what}: the fast page differs from the slow one");
            for (a, b) in f.items.iter().zip(&s.items) {
                assert_eq!(*a.raw, *b.raw, "{what}: raw of {}", a.id);
            }
            true
        }
        (Some(_), Err(e)) => panic!("{what}: the fast path accepted a body the slow path refuses: {e}"),
    }
}

/// Values a field may be mutated to.
fn oddities() -> Vec<Value> {
    vec![
        Value::Null,
        json!(""),
        json!("  "),
        json!("running"),
        json!(0),
        json!(-1),
        json!(1.5),
        json!("7"),
        json!(true),
        json!([]),
        json!(["x"]),
        json!({}),
        json!({"message": "m", "state": "s"}),
        json!(1_700_000_000),
        json!("1700000000"),
        json!("2025-02-08T00:00:00Z"),
        json!("ssh root@203.0.113.9 -p 2200"),
    ]
}

#[test]
fn fast_and_slow_paths_agree_on_every_fixture_and_mutation() {
    let mut fast_taken = 0;
    let mut cases = 0;
    for (dir, files, fast, slow, list_key) in providers() {
        for file in files {
            let body = fixture(dir, file);
            assert!(
                agree(&format!("{dir}/{file}"), &body, fast, slow),
                "{dir}/{file}: the fast path must take a documented body"
            );
            let whole: Value = serde_json::from_slice(&body).unwrap();
            let records = match list_key {
                Some(k) => whole[k].as_array().cloned().unwrap_or_default(),
                None => whole.as_array().cloned().unwrap_or_default(),
            };
            let Some(first) = records.first().and_then(Value::as_object).cloned() else { continue };
            let mut keys: Vec<String> = first.keys().cloned().collect();
            keys.extend(["id", "status", "name", "createdAt", "created_at", "ip", "total", "has_more"].map(String::from));
            keys.sort();
            keys.dedup();
            let rebuild = |record: Value| -> Vec<u8> {
                let mut list = records.clone();
                list[0] = record;
                let out = match list_key {
                    Some(k) => {
                        let mut w = whole.clone();
                        w[k] = Value::Array(list);
                        w
                    }
                    None => Value::Array(list),
                };
                serde_json::to_vec_pretty(&out).unwrap()
            };
            for key in &keys {
                // The field removed, then set to each odd value.
                let mut without = first.clone();
                without.remove(key);
                cases += 1;
                fast_taken +=
                    usize::from(agree(&format!("{dir}/{file} without {key}"), &rebuild(Value::Object(without)), fast, slow));
                for odd in oddities() {
                    let mut changed = first.clone();
                    changed.insert(key.clone(), odd.clone());
                    cases += 1;
                    fast_taken +=
                        usize::from(agree(&format!("{dir}/{file} {key} = {odd}"), &rebuild(Value::Object(changed)), fast, slow));
                }
            }
            // The envelope's own fields mutated (and the record as something else entirely).
            for odd in oddities() {
                cases += 1;
                agree(&format!("{dir}/{file} first record = {odd}"), &rebuild(odd.clone()), fast, slow);
                if let (Some(k), Value::Object(_)) = (list_key, &whole) {
                    for field in ["total", "has_more", "next_cursor", "cursor", "object", k] {
                        let mut w = whole.clone();
                        w[field] = odd.clone();
                        cases += 1;
                        agree(&format!("{dir}/{file} {field} = {odd}"), &serde_json::to_vec(&w).unwrap(), fast, slow);
                    }
                }
            }
            // Unicode escapes, a duplicate key and odd whitespace around the records.
            let text = String::from_utf8(body.clone()).unwrap();
            for variant in [
                // What serde_json's skipping does not check but its full parse refuses.
                text.replacen('{', "{\"x\":\"\\ud800\",", 1),
                text.replacen('{', "{\"x\":1e400,", 1),
                text.replacen('{', &format!("{{\"x\":{}{},", "[".repeat(130), "]".repeat(130)), 1),
                text.replacen('{', &format!("{{\"x\":{},", "9".repeat(400)), 1),
                text.replacen("\"id\"", "\"\\u0069d\"", 1),
                text.replace('\n', "\r\n\t "),
                text.replacen('{', "{\"id\":\"dup\",", 2),
            ] {
                cases += 1;
                agree(&format!("{dir}/{file} variant"), variant.as_bytes(), fast, slow);
            }
            // Invalid UTF-8 in a field nobody reads.
            let mut bad_utf8 = body.clone();
            if let Some(at) = bad_utf8.iter().position(|b| *b == b'{') {
                bad_utf8.splice(at + 1..at + 1, b"\"x\":\"\xff\",".iter().copied());
                cases += 1;
                agree(&format!("{dir}/{file} invalid UTF-8"), &bad_utf8, fast, slow);
            }
            // Every truncation of the body.
            for cut in (0..body.len()).step_by(7) {
                cases += 1;
                agree(&format!("{dir}/{file} cut at {cut}"), &body[..cut], fast, slow);
            }
        }
    }
    assert!(cases > 1000, "{cases} cases");
    assert!(fast_taken * 4 > cases / 8, "the fast path took only {fast_taken} of {cases}");
}
