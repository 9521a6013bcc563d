//! The JSON text of instances and the pages and listings that hold them — the proxy's answers
//! and the JS bindings' handover — written by hand: every field but `raw` exactly as serde
//! writes it (tests hold it to serde_json), and each record's `raw` spliced in as the provider's
//! own text ([`crate::raw::Raw::bytes`]) instead of being parsed and re-serialized.

/// The compact JSON text of a value whose first list is its instances (`Page<Instance>`,
/// `FleetListing`), `shell` being that value with the list emptied and `instances` the list:
/// the JSON `serde_json::to_vec` gives for the whole value, except that each record's `raw` is
/// spliced in as the provider's own text ([`crate::raw::Raw::bytes`]) instead of being parsed
/// and re-serialized (the records' `raw` are most of a listing's text). The proxy's list answers.
#[cfg_attr(not(feature = "proxy"), allow(dead_code))]
pub fn instances_json<T: serde::Serialize>(
    shell: &T,
    instances: Vec<crate::model::Instance>,
) -> Result<Vec<u8>, crate::error::Error> {
    instances_json_with(shell, instances, |text, raw| {
        text.extend_from_slice(b",\"raw\":");
        text.extend_from_slice(raw.bytes());
    })
}

/// One instance as JSON: what serde writes, with its `raw` spliced in as the provider's own text
/// (the proxy's get and create answers).
#[cfg_attr(not(feature = "proxy"), allow(dead_code))]
pub fn instance_json(instance: &crate::model::Instance) -> Vec<u8> {
    let raw = instance.raw.bytes();
    let mut text = Vec::with_capacity(512 + raw.len());
    write_instance_fields(&mut text, instance);
    text.extend_from_slice(b",\"raw\":");
    text.extend_from_slice(raw);
    text.push(b'}');
    text
}

/// The records' texts of `instances` in order, one `,` between two, and per instance its
/// `[start, end)` there (two numbers an instance). For the JS bindings, which attach `raw`
/// lazily from those spans (the commas let them parse a run of records as one JSON array) when
/// the records are not spans of one body they hold ([`body_spans`]); one copy of just the
/// records' bytes crosses, whether they came in one body or many.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js-client")), allow(dead_code))]
pub fn record_texts(instances: &[crate::model::Instance]) -> Result<(Vec<u8>, Vec<u32>), crate::error::Error> {
    let total: usize = instances.iter().map(|i| i.raw.bytes().len() + 1).sum();
    if u32::try_from(total).is_err() {
        return Err(crate::error::Error::new(
            crate::error::ErrorCode::Decode,
            "could not hand the result over: more than 4 GiB of records",
        ));
    }
    let mut texts: Vec<u8> = Vec::with_capacity(total);
    let mut spans: Vec<u32> = Vec::with_capacity(instances.len() * 2);
    for instance in instances {
        if !texts.is_empty() {
            texts.push(b',');
        }
        // Cannot truncate: the total was checked above.
        spans.push(texts.len() as u32);
        texts.extend_from_slice(instance.raw.bytes());
        spans.push(texts.len() as u32);
    }
    Ok((texts, spans))
}

/// Instances as the JS bindings build them (`buildInstances` in `bindings/convert.rs`): no JSON
/// to write and parse, but every string of every instance one after another in `strings`
/// (decoded once into one JS string) and `words`: the number of instances, then per instance a
/// word of [`tape`] flags (which optional fields it has) and, in the order
/// [`write_instance_fields`] writes the fields, each string's end in UTF-16 units in that JS
/// string, or the number (`gpuCount`, `ssh.port`, a tag count). Money, deadlines and their
/// errors (a few an instance at most, and rarely in a listing) cross as their JSON text.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js-client")), allow(dead_code))]
pub struct Tape {
    /// UTF-8, valid by construction (Rust strings).
    pub strings: Vec<u8>,
    pub words: Vec<u32>,
    /// The length of `strings` in UTF-16 units.
    utf16: usize,
}

/// The flags of an instance on the [`Tape`]: bit `n` set when the field is there (or, for
/// [`tape::PUBLIC_IPV4_TRUE`], true). Mirrored by `buildInstances`.
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js-client")), allow(dead_code))]
pub mod tape {
    pub const NAME: u32 = 1 << 0;
    pub const STATUS_REASON: u32 = 1 << 1;
    pub const INSTANCE_TYPE: u32 = 1 << 2;
    pub const GPU_COUNT: u32 = 1 << 3;
    pub const GPU_MODEL: u32 = 1 << 4;
    pub const REGION: u32 = 1 << 5;
    pub const SECTOR: u32 = 1 << 6;
    pub const IP: u32 = 1 << 7;
    pub const SSH: u32 = 1 << 8;
    pub const SSH_USER: u32 = 1 << 9;
    pub const SSH_COMMAND: u32 = 1 << 10;
    pub const CREATED_AT: u32 = 1 << 11;
    pub const TAGS: u32 = 1 << 12;
    pub const POOL: u32 = 1 << 13;
    pub const POOL_NAME: u32 = 1 << 14;
    pub const PRIORITY_LEVEL: u32 = 1 << 15;
    pub const MANAGED_BY: u32 = 1 << 16;
    pub const MANAGED_BY_NAME: u32 = 1 << 17;
    pub const PUBLIC_IPV4: u32 = 1 << 18;
    pub const PUBLIC_IPV4_TRUE: u32 = 1 << 19;
    pub const BILLING_MODE: u32 = 1 << 20;
    pub const SPOT: u32 = 1 << 21;
    pub const SPOT_RECLAIM_AT: u32 = 1 << 22;
    pub const OFFER_ID: u32 = 1 << 23;
    pub const STARTED_AT: u32 = 1 << 24;
    pub const STOPPED_AT: u32 = 1 << 25;
    pub const PRICE: u32 = 1 << 26;
    pub const PRICE_NOTE: u32 = 1 << 27;
    pub const COST: u32 = 1 << 28;
    pub const DEADLINE: u32 = 1 << 29;
    pub const DEADLINE_ERROR: u32 = 1 << 30;
    pub const DEADLINE_MIRROR: u32 = 1 << 31;
}

#[cfg_attr(not(all(target_arch = "wasm32", feature = "js-client")), allow(dead_code))]
impl Tape {
    /// `instances` on a tape (see [`Tape`]).
    pub fn of(instances: &[crate::model::Instance]) -> Result<Tape, crate::error::Error> {
        let mut t = Tape {
            strings: Vec::with_capacity(instances.len() * 128),
            words: Vec::with_capacity(1 + instances.len() * 16),
            utf16: 0,
        };
        t.words.push(u32::try_from(instances.len()).unwrap_or(u32::MAX));
        for instance in instances {
            t.instance(instance);
        }
        if u32::try_from(t.utf16).is_err() {
            return Err(crate::error::Error::new(
                crate::error::ErrorCode::Decode,
                "could not hand the result over: more than 4 GiB of text",
            ));
        }
        Ok(t)
    }

    fn str(&mut self, s: &str) {
        self.strings.extend_from_slice(s.as_bytes());
        self.utf16 += if s.is_ascii() { s.len() } else { s.encode_utf16().count() };
        // Checked once at the end (a longer text is refused there).
        self.words.push(self.utf16 as u32);
    }

    fn opt_str(&mut self, flags: &mut u32, flag: u32, s: Option<&str>) {
        if let Some(s) = s {
            *flags |= flag;
            self.str(s);
        }
    }

    /// `value` as serde_json's text (money, deadlines: small structs that cannot fail).
    fn opt_json<T: serde::Serialize + ?Sized>(&mut self, flags: &mut u32, flag: u32, value: Option<&T>) {
        if let Some(value) = value {
            *flags |= flag;
            self.str(&serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned()));
        }
    }

    fn instance(&mut self, i: &crate::model::Instance) {
        use tape::*;
        let at = self.words.len();
        self.words.push(0);
        let mut flags = 0;
        self.str(i.provider.as_str());
        self.str(&i.id);
        self.opt_str(&mut flags, NAME, i.name.as_deref());
        self.str(i.status.as_str());
        self.str(&i.provider_status);
        self.opt_str(&mut flags, STATUS_REASON, i.status_reason.as_deref());
        self.opt_str(&mut flags, INSTANCE_TYPE, i.instance_type.as_deref());
        if let Some(n) = i.gpu_count {
            flags |= GPU_COUNT;
            self.words.push(n);
        }
        self.opt_str(&mut flags, GPU_MODEL, i.gpu_model.as_deref());
        self.opt_str(&mut flags, REGION, i.region.as_deref());
        self.opt_str(&mut flags, SECTOR, i.sector.as_deref());
        self.opt_str(&mut flags, IP, i.ip.as_deref());
        if let Some(ssh) = &i.ssh {
            flags |= SSH;
            self.str(&ssh.host);
            self.words.push(u32::from(ssh.port));
            self.opt_str(&mut flags, SSH_USER, ssh.user.as_deref());
            self.opt_str(&mut flags, SSH_COMMAND, ssh.command.as_deref());
        }
        self.opt_str(&mut flags, CREATED_AT, i.created_at.as_deref());
        if let Some(tags) = &i.tags {
            flags |= TAGS;
            self.words.push(u32::try_from(tags.len()).unwrap_or(u32::MAX));
            for (k, v) in tags {
                self.str(k);
                self.str(v);
            }
        }
        if let Some(pool) = &i.pool {
            flags |= POOL;
            self.str(&pool.id);
            self.opt_str(&mut flags, POOL_NAME, pool.name.as_deref());
        }
        self.opt_str(&mut flags, PRIORITY_LEVEL, i.priority_level.as_ref().map(|p| p.as_str()));
        if let Some(m) = &i.managed_by {
            flags |= MANAGED_BY;
            self.str(&m.kind);
            self.str(&m.id);
            self.opt_str(&mut flags, MANAGED_BY_NAME, m.name.as_deref());
        }
        if let Some(b) = i.public_ipv4 {
            flags |= PUBLIC_IPV4 | if b { PUBLIC_IPV4_TRUE } else { 0 };
        }
        self.opt_str(&mut flags, BILLING_MODE, i.billing_mode.as_ref().map(|b| b.as_str()));
        if let Some(spot) = &i.spot {
            flags |= SPOT;
            self.str(spot.status.as_str());
            self.opt_str(&mut flags, SPOT_RECLAIM_AT, spot.reclaim_at.as_deref());
        }
        self.opt_str(&mut flags, OFFER_ID, i.offer_id.as_deref());
        self.opt_str(&mut flags, STARTED_AT, i.started_at.as_deref());
        self.opt_str(&mut flags, STOPPED_AT, i.stopped_at.as_deref());
        self.opt_json(&mut flags, PRICE, i.price.as_ref());
        self.opt_str(&mut flags, PRICE_NOTE, i.price_note.as_deref());
        self.opt_json(&mut flags, COST, i.cost.as_ref());
        self.opt_json(&mut flags, DEADLINE, i.deadline.as_deref());
        self.opt_json(&mut flags, DEADLINE_ERROR, i.deadline_error.as_deref());
        self.opt_json(&mut flags, DEADLINE_MIRROR, i.deadline_mirror.as_deref());
        self.words[at] = flags;
    }
}

/// Each record's place in the body it was decoded from (two numbers an instance, `[start,
/// end)`), when every instance's `raw` is a span of one and the same source of `body_len` bytes
/// (a list body decoded by [`crate::provider::decode_list_body`], which keeps one copy of the
/// body it is given) and the records are consecutive elements of one JSON array there, in
/// order: nothing but whitespace and one comma between two. Then the JS bindings read each
/// `raw` from the body they already hold instead of a copy of the records, and a run of records
/// parses as one JSON array. `None` otherwise (records from the slow path, from several bodies,
/// or not in the body's order): then [`record_texts`].
#[cfg_attr(not(all(target_arch = "wasm32", feature = "js-client")), allow(dead_code))]
pub fn body_spans(instances: &[crate::model::Instance], body_len: usize) -> Option<Vec<u32>> {
    let (source, _) = instances.first()?.raw.source();
    if source.len() != body_len || u32::try_from(body_len).is_err() {
        return None;
    }
    let mut spans = Vec::with_capacity(instances.len() * 2);
    let mut previous_end: Option<usize> = None;
    for instance in instances {
        let (this_source, span) = instance.raw.source();
        if !std::sync::Arc::ptr_eq(this_source, source) || span.is_empty() {
            return None;
        }
        if let Some(end) = previous_end {
            let gap = source.get(end..span.start)?;
            let commas = gap.iter().filter(|&&b| b == b',').count();
            if commas != 1 || !gap.iter().all(|&b| b == b',' || matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
                return None;
            }
        }
        previous_end = Some(span.end);
        // Cannot truncate: body_len fits in a u32 (checked above) and the span is inside it.
        spans.push(span.start as u32);
        spans.push(span.end as u32);
    }
    Some(spans)
}

fn instances_json_with<T: serde::Serialize>(
    shell: &T,
    instances: Vec<crate::model::Instance>,
    mut write_raw: impl FnMut(&mut Vec<u8>, &crate::raw::Raw),
) -> Result<Vec<u8>, crate::error::Error> {
    use crate::error::{Error, ErrorCode};
    let serialize_error = |e: serde_json::Error| Error::new(ErrorCode::Decode, format!("could not serialize the result: {e}"));
    let shell = serde_json::to_vec(shell).map_err(serialize_error)?;
    // The first `[` is the emptied list: `{"items":[]…` (keys hold no `[`).
    let Some(at) = shell.iter().position(|&b| b == b'[').filter(|&at| shell.get(at + 1) == Some(&b']')) else {
        return Err(Error::new(ErrorCode::Decode, "could not serialize the result: no instance list"));
    };
    let mut text = Vec::with_capacity(shell.len() + instances.len() * 512);
    text.extend_from_slice(&shell[..=at]);
    for (i, instance) in instances.iter().enumerate() {
        if i > 0 {
            text.push(b',');
        }
        write_instance_fields(&mut text, instance);
        write_raw(&mut text, &instance.raw);
        text.push(b'}');
    }
    text.extend_from_slice(&shell[at + 1..]);
    Ok(text)
}

/// Appends an [`Instance`](crate::model::Instance) as JSON, open: `{` and every field but `raw`,
/// exactly as serde writes them (same names, order and optional fields left out), so the caller
/// writes `raw` (or not) and the closing `}`. Hand-written because serde's serializer is most of
/// a listing's cost in a wasm built for size; `tests` check it against serde_json on every
/// fixture.
pub fn write_instance_fields(out: &mut Vec<u8>, i: &crate::model::Instance) {
    out.extend_from_slice(b"{\"provider\":");
    write_str(out, i.provider.as_str());
    key(out, "id");
    write_str(out, &i.id);
    opt_str(out, "name", i.name.as_deref());
    key(out, "status");
    write_str(out, i.status.as_str());
    key(out, "providerStatus");
    write_str(out, &i.provider_status);
    opt_str(out, "statusReason", i.status_reason.as_deref());
    opt_str(out, "instanceType", i.instance_type.as_deref());
    if let Some(n) = i.gpu_count {
        key(out, "gpuCount");
        write_u64(out, u64::from(n));
    }
    opt_str(out, "gpuModel", i.gpu_model.as_deref());
    opt_str(out, "region", i.region.as_deref());
    opt_str(out, "sector", i.sector.as_deref());
    opt_str(out, "ip", i.ip.as_deref());
    if let Some(ssh) = &i.ssh {
        key(out, "ssh");
        out.extend_from_slice(b"{\"host\":");
        write_str(out, &ssh.host);
        key(out, "port");
        write_u64(out, u64::from(ssh.port));
        opt_str(out, "user", ssh.user.as_deref());
        opt_str(out, "command", ssh.command.as_deref());
        out.push(b'}');
    }
    opt_str(out, "createdAt", i.created_at.as_deref());
    if let Some(tags) = &i.tags {
        key(out, "tags");
        out.push(b'{');
        for (n, (k, v)) in tags.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_str(out, k);
            out.push(b':');
            write_str(out, v);
        }
        out.push(b'}');
    }
    if let Some(pool) = &i.pool {
        key(out, "pool");
        out.extend_from_slice(b"{\"id\":");
        write_str(out, &pool.id);
        opt_str(out, "name", pool.name.as_deref());
        out.push(b'}');
    }
    if let Some(p) = &i.priority_level {
        key(out, "priorityLevel");
        write_str(out, p.as_str());
    }
    if let Some(m) = &i.managed_by {
        key(out, "managedBy");
        out.extend_from_slice(b"{\"kind\":");
        write_str(out, &m.kind);
        key(out, "id");
        write_str(out, &m.id);
        opt_str(out, "name", m.name.as_deref());
        out.push(b'}');
    }
    if let Some(b) = i.public_ipv4 {
        key(out, "publicIpv4");
        out.extend_from_slice(if b { b"true" } else { b"false" });
    }
    if let Some(b) = &i.billing_mode {
        key(out, "billingMode");
        write_str(out, b.as_str());
    }
    if let Some(spot) = &i.spot {
        key(out, "spot");
        out.extend_from_slice(b"{\"status\":");
        write_str(out, spot.status.as_str());
        opt_str(out, "reclaimAt", spot.reclaim_at.as_deref());
        out.push(b'}');
    }
    opt_str(out, "offerId", i.offer_id.as_deref());
    opt_str(out, "startedAt", i.started_at.as_deref());
    opt_str(out, "stoppedAt", i.stopped_at.as_deref());
    // Prices and costs are a few numbers an instance, floats among them: serde writes those.
    // Money and the proxy's records through serde: small structs, and their serializers are in
    // every build that writes them anyway (the records routes).
    opt_serde(out, "price", i.price.as_ref());
    opt_str(out, "priceNote", i.price_note.as_deref());
    opt_serde(out, "cost", i.cost.as_ref());
    opt_serde(out, "deadline", i.deadline.as_deref());
    opt_serde(out, "deadlineError", i.deadline_error.as_deref());
    opt_serde(out, "deadlineMirror", i.deadline_mirror.as_deref());
}

/// `,"name":`
fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `,"name":<value>` through serde when `value` is there. Cannot fail: structs of numbers,
/// strings and enums, written to a `Vec`.
fn opt_serde<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, name: &str, value: Option<&T>) {
    if let Some(value) = value {
        key(out, name);
        let _ = serde_json::to_writer(&mut *out, value);
    }
}

fn opt_str(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        key(out, name);
        write_str(out, v);
    }
}

fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A JSON string as serde_json escapes it: `"` `\` and the control characters only (`\b \t \n
/// \f \r`, else `\u00xx` in lowercase hex).
fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.push(b'"');
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape = match byte {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0a => b'n',
            0x0c => b'f',
            0x0d => b'r',
            0x00..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        if escape == b'u' {
            out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The hand-written instance writer against serde_json (the oracle), on every list fixture of
    /// every provider and on an instance with every field set to awkward text.
    #[test]
    fn write_instance_fields_is_what_serde_writes() {
        use crate::model::{Instance, ListQuery, ManagedBy, PoolRef, SpotInfo, SshInfo};
        use crate::provider::{decode_list_body, Provider};
        let same = |i: &Instance| {
            let mut text = Vec::new();
            write_instance_fields(&mut text, i);
            text.push(b'}');
            let mut expected = serde_json::to_value(i).unwrap();
            expected.as_object_mut().unwrap().remove("raw");
            let got: Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(&text)));
            assert_eq!(got, expected, "{}", i.id);
            // The same text, key order included, as serde_json writes.
            let mut serde_text = serde_json::to_vec(&Instance { raw: Default::default(), ..i.clone() }).unwrap();
            let cut = serde_text.len() - b",\"raw\":null}".len();
            serde_text.truncate(cut);
            serde_text.push(b'}');
            assert_eq!(String::from_utf8(text).unwrap(), String::from_utf8(serde_text).unwrap());
        };
        let root = env!("CARGO_MANIFEST_DIR");
        let mut seen = 0;
        for (provider, dir) in [
            (Provider::Fal, "fal"),
            (Provider::FalAlpha, "fal-alpha"),
            (Provider::Sfcompute, "sfcompute"),
            (Provider::Novita, "novita"),
        ] {
            for entry in std::fs::read_dir(format!("{root}/tests/fixtures/{dir}")).unwrap() {
                let path = entry.unwrap().path();
                let Ok(page) = decode_list_body(&ListQuery::first_page(provider), std::fs::read(&path).unwrap()) else {
                    continue;
                };
                for i in &page.items {
                    same(i);
                    seen += 1;
                }
            }
        }
        assert!(seen > 15, "{seen} instances");
        let awkward = "q\"uote \\ back\u{1} ctl\n nl é 😀 \u{2028}</script>";
        let mut i = decode_list_body(
            &ListQuery::first_page(Provider::Fal),
            std::fs::read(format!("{root}/tests/fixtures/fal/list.json")).unwrap(),
        )
        .unwrap()
        .items
        .remove(0);
        i.name = Some(awkward.into());
        i.status_reason = Some(awkward.into());
        i.ssh = Some(SshInfo { host: awkward.into(), port: 65535, user: Some(awkward.into()), command: None });
        i.tags = Some([("k\"1".to_owned(), awkward.to_owned()), ("a".to_owned(), String::new())].into_iter().collect());
        i.pool = Some(PoolRef { id: awkward.into(), name: None });
        i.managed_by = Some(ManagedBy { kind: "spot_deployment".into(), id: "x".into(), name: Some(awkward.into()) });
        i.public_ipv4 = Some(false);
        i.gpu_count = Some(u32::MAX);
        i.spot =
            Some(SpotInfo { status: crate::model::SpotStatus::parse("weird"), reclaim_at: Some("2026-12-04T00:00:00Z".into()) });
        i.billing_mode = Some(crate::model::BillingMode::parse("spot"));
        i.priority_level = Some(crate::model::PriorityLevel::parse("critical"));
        i.created_at = Some(awkward.into());
        let mut deadline = crate::model::Deadline::new(
            Provider::Fal,
            awkward,
            1_764_849_600_000,
            crate::model::DeadlineAction::Delete,
            awkward,
            1_764_849_000_000,
        );
        deadline.state = crate::model::DeadlineState::Failed;
        deadline.attempts = 10;
        deadline.last_error = Some(awkward.into());
        i.deadline = Some(Box::new(deadline));
        i.deadline_error = Some(Box::new(crate::error::Error::new(crate::error::ErrorCode::Server, awkward).with_status(503)));
        i.deadline_mirror = Some(Box::new(crate::model::TagMirror {
            tag: "gpufleet-deadline".into(),
            value: Some(awkward.into()),
            ok: false,
            error: Some(crate::error::Error::new(crate::error::ErrorCode::NotFound, awkward)),
        }));
        same(&i);
    }

    #[test]
    fn instance_json_is_serde_jsons_json_with_raw_spliced() {
        use crate::model::ListQuery;
        use crate::provider::{decode_list_body, Provider};
        let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sfcompute/list_july_fields.json")).unwrap();
        for i in decode_list_body(&ListQuery::first_page(Provider::Sfcompute), body).unwrap().items {
            let text = instance_json(&i);
            assert_eq!(serde_json::from_slice::<Value>(&text).unwrap(), serde_json::to_value(&i).unwrap());
            assert!(text.ends_with(&[i.raw.bytes(), b"}"].concat()), "raw spliced verbatim");
        }
    }

    #[test]
    fn record_texts_point_at_each_record() {
        use crate::model::ListQuery;
        use crate::provider::{decode_list_body, Provider};
        let body = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/fal/list.json")).unwrap();
        let page = decode_list_body(&ListQuery::first_page(Provider::Fal), body).unwrap();
        let expected: Vec<Value> = page.items.iter().map(|i| i.raw.value().clone()).collect();
        let (texts, spans) = record_texts(&page.items).unwrap();
        assert_eq!(spans.len(), 2 * expected.len());
        for (i, want) in expected.iter().enumerate() {
            let (a, b) = (spans[2 * i] as usize, spans[2 * i + 1] as usize);
            let got: Value = serde_json::from_slice(&texts[a..b]).unwrap();
            assert_eq!(&got, want, "record {i}");
        }
        assert_eq!(spans.last().copied(), Some(texts.len() as u32), "just the records' bytes");
        // One comma between two records, so a run of them reads as a JSON array.
        let all: Vec<Value> = serde_json::from_slice(&[b"[", &texts[..], b"]"].concat()).unwrap();
        assert_eq!(all, expected);
    }

    #[test]
    fn body_spans_point_into_the_body_given_to_decode_list_body() {
        use crate::model::ListQuery;
        use crate::provider::{decode_list_body, Provider};
        let root = env!("CARGO_MANIFEST_DIR");
        for (provider, file) in [
            (Provider::Fal, "fal/list.json"),
            (Provider::FalAlpha, "fal-alpha/list-nullable.json"),
            (Provider::Sfcompute, "sfcompute/list_seed.json"),
            (Provider::Novita, "novita/list.json"),
        ] {
            let body = std::fs::read(format!("{root}/tests/fixtures/{file}")).unwrap();
            let page = decode_list_body(&ListQuery::first_page(provider), body.clone()).unwrap();
            let spans = body_spans(&page.items, body.len()).unwrap_or_else(|| panic!("{file}: records are spans of the body"));
            assert_eq!(spans.len(), 2 * page.items.len());
            for (i, item) in page.items.iter().enumerate() {
                assert_eq!(&body[spans[2 * i] as usize..spans[2 * i + 1] as usize], item.raw.bytes(), "{file} record {i}");
            }
            // A run of records is one JSON array's elements.
            let run = &body[spans[0] as usize..*spans.last().unwrap() as usize];
            let all: Vec<Value> = serde_json::from_slice(&[b"[", run, b"]"].concat()).unwrap();
            let want: Vec<Value> = page.items.iter().map(|i| i.raw.value().clone()).collect();
            assert_eq!(all, want, "{file}");
            // Another length, or records not from one body: no spans.
            assert!(body_spans(&page.items, body.len() + 1).is_none());
            let mut mixed = page.items.clone();
            mixed[0].raw = crate::raw::Raw::from_value(mixed[0].raw.value().clone());
            assert!(body_spans(&mixed, body.len()).is_none(), "{file}: a record of its own");
            if page.items.len() > 1 {
                let mut swapped = page.items.clone();
                swapped.swap(0, 1);
                assert!(body_spans(&swapped, body.len()).is_none(), "{file}: out of order");
            }
        }
    }

    #[test]
    fn instances_json_is_serde_jsons_json_with_each_raw_spliced() {
        use crate::model::{FleetListing, ListQuery};
        use crate::provider::{decode_list_body, Provider};
        let root = env!("CARGO_MANIFEST_DIR");
        for (provider, file) in [
            (Provider::Fal, "fal/list.json"),
            (Provider::FalAlpha, "fal-alpha/list-nullable.json"),
            (Provider::Sfcompute, "sfcompute/list_seed.json"),
            (Provider::Sfcompute, "sfcompute/list_july_last_page.json"),
            (Provider::Novita, "novita/list.json"),
        ] {
            let body = std::fs::read(format!("{root}/tests/fixtures/{file}")).unwrap();
            let page = decode_list_body(&ListQuery::first_page(provider), body).unwrap();
            assert!(!page.items.is_empty(), "{file} has instances");
            // The same JSON as serde_json writes, except that each record's `raw` is the
            // provider's own text, spliced in as it came (whitespace and key order kept).
            let same = |text: Vec<u8>, expected: Value, what: &str| {
                let got: Value = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(got, expected, "{what}");
                for item in &page.items {
                    let raw = item.raw.bytes();
                    assert!(text.windows(raw.len()).any(|w| w == raw), "{what}: {} spliced verbatim", item.id);
                }
            };
            let mut shell = page.clone();
            let items = std::mem::take(&mut shell.items);
            same(instances_json(&shell, items).unwrap(), serde_json::to_value(&page).unwrap(), file);

            let listing = FleetListing { instances: page.items.clone(), errors: vec![], cost: None };
            let mut shell = listing.clone();
            let items = std::mem::take(&mut shell.instances);
            same(instances_json(&shell, items).unwrap(), serde_json::to_value(&listing).unwrap(), file);
        }
        // An empty list stays an empty list.
        let empty = FleetListing { instances: vec![], errors: vec![], cost: None };
        assert_eq!(instances_json(&empty, vec![]).unwrap(), serde_json::to_vec(&empty).unwrap());
    }
}
