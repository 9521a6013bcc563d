//! Typed JSON reads that name the JSON path of a failure (`instances[3].status`), without a
//! wrapper around every deserializer.
//!
//! Every typed read in the crate goes through [`from_value`]: a JSON body is first parsed into a
//! [`Value`] ([`parse_slice`], which tracks the path of a syntax error or a truncation), and the
//! typed view is then read from that `Value` by one deserializer that knows where it is. Each
//! type's deserialization code therefore exists once in the wasm build, instead of once per kind
//! of input and once more inside `serde_path_to_error`'s wrappers (which made up a fifth of the
//! `.wasm`; see `bench/SIZE-NOTES.md`).
//!
//! The paths and messages are those `serde_path_to_error` gave over the same input: `[i]` for an
//! array element, `.key` for an object member (the key itself when an unknown or mistyped key is
//! the fault), the variant name for data inside an enum given as `{"variant": …}`, `?` for a key
//! that could not be read, and `.` for the top level. The deserializer follows serde_json's own
//! `&Value` deserializer method for method, so the error messages are serde_json's.

use std::cell::Cell;
use std::fmt::Write as _;

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer as _, Error as _, IntoDeserializer, Unexpected, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// The name serde_json's `RawValue` deserializes itself under (`serde_json::raw::TOKEN`, private
/// but unchanged since serde_json 1.0.29); `raw::Raw` relies on it being honoured here.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// A failed read: where (`path`, as `serde_path_to_error` prints it) and why.
#[derive(Debug)]
pub struct PathError {
    path: String,
    inner: serde_json::Error,
}

impl PathError {
    /// The JSON path of the failure: `.` for the top level, else e.g. `data[0].tags.env`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// serde_json's error.
    pub fn inner(&self) -> &serde_json::Error {
        &self.inner
    }

    /// serde_json's error.
    pub fn into_inner(self) -> serde_json::Error {
        self.inner
    }
}

/// Reads a `T` from `value`; a failure names the JSON path.
pub fn from_value<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T, PathError> {
    let track = Track::default();
    T::deserialize(De { value, chain: &Chain::Root, track: &track }).map_err(|e| track.fail(&Chain::Root, e))
}

/// Reads `body` as a `T` (through a [`Value`], like every typed read), or `None` when it is not
/// JSON or not a `T`: for bodies that may or may not have a known shape, such as error bodies.
pub fn read_slice<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<T> {
    from_value(&serde_json::from_slice::<Value>(body).ok()?).ok()
}

/// Parses one JSON value from the start of `de`'s input; a syntax error or a truncation names the
/// JSON path where it happened. (The caller checks for trailing bytes with `de.end()`.)
pub fn parse_slice(de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'_>>) -> Result<Value, PathError> {
    let track = Track::default();
    ValueSeed { chain: &Chain::Root, track: &track }.deserialize(de).map_err(|e| track.fail(&Chain::Root, e))
}

// ----- where we are --------------------------------------------------------------------------

/// The path from the top to the value being read, as a linked list on the stack.
enum Chain<'a> {
    Root,
    Key(&'a Chain<'a>, &'a str),
    Index(&'a Chain<'a>, usize),
    /// A key that could not be read (shown as `?`).
    NoKey(&'a Chain<'a>),
}

impl Chain<'_> {
    fn path(&self) -> String {
        let mut segments = Vec::new();
        let mut chain = self;
        loop {
            chain = match chain {
                Chain::Root => break,
                Chain::Key(parent, _) | Chain::Index(parent, _) | Chain::NoKey(parent) => {
                    segments.push(chain);
                    parent
                }
            };
        }
        if segments.is_empty() {
            return ".".to_owned();
        }
        let mut out = String::new();
        for (i, segment) in segments.iter().rev().enumerate() {
            let sep = if i == 0 { "" } else { "." };
            let _ = match segment {
                Chain::Index(_, index) => write!(out, "[{index}]"),
                Chain::Key(_, key) => write!(out, "{sep}{key}"),
                _ => write!(out, "{sep}?"),
            };
        }
        out
    }
}

/// The path of the innermost failure (the first one recorded: errors travel outwards).
#[derive(Default)]
struct Track {
    path: Cell<Option<String>>,
}

impl Track {
    #[inline(never)]
    fn trigger(&self, chain: &Chain) {
        let path = self.path.take().unwrap_or_else(|| chain.path());
        self.path.set(Some(path));
    }

    #[inline(never)]
    fn fail(&self, chain: &Chain, inner: serde_json::Error) -> PathError {
        self.trigger(chain);
        PathError { path: self.path.take().unwrap_or_default(), inner }
    }
}

// ----- typed reads of a `&Value` -------------------------------------------------------------

/// serde_json's `impl Deserializer for &Value`, plus the path.
#[derive(Clone, Copy)]
struct De<'a, 'de> {
    value: &'de Value,
    chain: &'a Chain<'a>,
    track: &'a Track,
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Unexpected::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Unexpected::Signed(i)
            } else {
                Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl<'a, 'de> De<'a, 'de> {
    fn invalid_type(&self, exp: &dyn de::Expected) -> serde_json::Error {
        serde_json::Error::invalid_type(unexpected(self.value), exp)
    }

    fn number<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Number(n) => n.deserialize_any(visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn seq<V: Visitor<'de>>(self, array: &'de [Value], visitor: V) -> Result<V::Value, serde_json::Error> {
        let mut access = SeqDe { iter: array.iter(), index: 0, chain: self.chain, track: self.track };
        let seq = visitor.visit_seq(&mut access)?;
        if access.iter.len() == 0 {
            Ok(seq)
        } else {
            Err(serde_json::Error::invalid_length(array.len(), &"fewer elements in array"))
        }
    }

    fn map<V: Visitor<'de>>(self, map: &'de Map<String, Value>, visitor: V) -> Result<V::Value, serde_json::Error> {
        let mut access = MapDe { iter: map.iter(), next: None, chain: self.chain, track: self.track };
        let value = visitor.visit_map(&mut access)?;
        if access.iter.len() == 0 {
            Ok(value)
        } else {
            Err(serde_json::Error::invalid_length(map.len(), &"fewer elements in map"))
        }
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
            self.number(visitor)
        })*
    };
}

impl<'a, 'de> de::Deserializer<'de> for De<'a, 'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => n.deserialize_any(visitor),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(a) => self.seq(a, visitor),
            Value::Object(o) => self.map(o, visitor),
        }
    }

    numbers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
             deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
             deserialize_f32 deserialize_f64);

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let (variant, value) = match self.value {
            Value::Object(map) => {
                let mut iter = map.iter();
                match (iter.next(), iter.next()) {
                    (Some((variant, value)), None) => (variant.as_str(), Some(value)),
                    _ => return Err(serde_json::Error::invalid_value(Unexpected::Map, &"map with a single key")),
                }
            }
            Value::String(variant) => (variant.as_str(), None),
            other => return Err(serde_json::Error::invalid_type(unexpected(other), &"string or map")),
        };
        visitor.visit_enum(EnumDe { variant, value, chain: self.chain, track: self.track })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, serde_json::Error> {
        // serde_json's `RawValue` asks for itself by this name; serde_json's own `&Value`
        // answers with the value's text, and so does this reader (`Raw` reads that way).
        if name == RAW_VALUE_TOKEN {
            return serde::Deserializer::deserialize_newtype_struct(self.value, name, visitor);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(a) => self.seq(a, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Array(a) => self.seq(a, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Object(o) => self.map(o, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        match self.value {
            Value::Array(a) => self.seq(a, visitor),
            Value::Object(o) => self.map(o, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, serde_json::Error> {
        visitor.visit_unit()
    }
}

struct SeqDe<'a, 'de> {
    iter: std::slice::Iter<'de, Value>,
    index: usize,
    chain: &'a Chain<'a>,
    track: &'a Track,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'_, 'de> {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, serde_json::Error> {
        let Some(value) = self.iter.next() else { return Ok(None) };
        let chain = Chain::Index(self.chain, self.index);
        self.index += 1;
        let track = self.track;
        seed.deserialize(De { value, chain: &chain, track }).map(Some).inspect_err(|_| track.trigger(&chain))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a, 'de> {
    iter: serde_json::map::Iter<'de>,
    next: Option<(&'de str, &'de Value)>,
    chain: &'a Chain<'a>,
    track: &'a Track,
}

impl<'de> de::MapAccess<'de> for MapDe<'_, 'de> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, serde_json::Error> {
        let Some((key, value)) = self.iter.next() else { return Ok(None) };
        self.next = Some((key, value));
        let (chain, track) = (self.chain, self.track);
        seed.deserialize(BorrowedStrDeserializer::new(key)).map(Some).inspect_err(|_| track.trigger(&Chain::Key(chain, key)))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, serde_json::Error> {
        let Some((key, value)) = self.next.take() else { return Err(serde_json::Error::custom("value is missing")) };
        let chain = Chain::Key(self.chain, key);
        let track = self.track;
        seed.deserialize(De { value, chain: &chain, track }).inspect_err(|_| track.trigger(&chain))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An enum given as `"variant"` or `{"variant": data}`.
struct EnumDe<'a, 'de> {
    variant: &'de str,
    value: Option<&'de Value>,
    chain: &'a Chain<'a>,
    track: &'a Track,
}

impl<'a, 'de> de::EnumAccess<'de> for EnumDe<'a, 'de> {
    type Error = serde_json::Error;
    type Variant = VariantDe<'a, 'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self::Variant), serde_json::Error> {
        let variant = seed.deserialize(self.variant.into_deserializer())?;
        Ok((variant, VariantDe { variant: self.variant, value: self.value, chain: self.chain, track: self.track }))
    }
}

struct VariantDe<'a, 'de> {
    variant: &'de str,
    value: Option<&'de Value>,
    chain: &'a Chain<'a>,
    track: &'a Track,
}

impl<'de> VariantDe<'_, 'de> {
    /// Runs `read` on the variant's data (`None`: a bare `"variant"`), at path `….variant`.
    fn read<R>(self, read: impl FnOnce(Option<De<'_, 'de>>) -> Result<R, serde_json::Error>) -> Result<R, serde_json::Error> {
        let chain = Chain::Key(self.chain, self.variant);
        let track = self.track;
        read(self.value.map(|value| De { value, chain: &chain, track })).inspect_err(|_| track.trigger(&chain))
    }
}

impl<'de> de::VariantAccess<'de> for VariantDe<'_, 'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> Result<(), serde_json::Error> {
        self.read(|de| match de {
            Some(de) => <()>::deserialize(de),
            None => Ok(()),
        })
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, serde_json::Error> {
        self.read(|de| match de {
            Some(de) => seed.deserialize(de),
            None => Err(serde_json::Error::invalid_type(Unexpected::UnitVariant, &"newtype variant")),
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, serde_json::Error> {
        self.read(|de| match de {
            Some(de) => match de.value {
                Value::Array(a) if a.is_empty() => visitor.visit_unit(),
                Value::Array(a) => de.seq(a, visitor),
                other => Err(serde_json::Error::invalid_type(unexpected(other), &"tuple variant")),
            },
            None => Err(serde_json::Error::invalid_type(Unexpected::UnitVariant, &"tuple variant")),
        })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        self.read(|de| match de {
            Some(de) => match de.value {
                Value::Object(o) => de.map(o, visitor),
                other => Err(serde_json::Error::invalid_type(unexpected(other), &"struct variant")),
            },
            None => Err(serde_json::Error::invalid_type(Unexpected::UnitVariant, &"struct variant")),
        })
    }
}

// ----- a `Value` from a JSON text, with the path of a syntax error ---------------------------

/// serde_json's `Value` visitor, plus the path (as `serde_path_to_error` tracked it: an element
/// or member that failed inside itself is named; a `,`, `:` or `]` that failed between two is
/// charged to the container; a key that could not be read is `?`).
struct ValueSeed<'a> {
    chain: &'a Chain<'a>,
    track: &'a Track,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        let (chain, track) = (self.chain, self.track);
        deserializer.deserialize_any(self).inspect_err(|_| track.trigger(chain))
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let chain = Chain::Index(self.chain, items.len());
            match seq.next_element_seed(ValueSeed { chain: &chain, track: self.track }) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.track.trigger(self.chain);
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        loop {
            let key: String = match map.next_key() {
                Ok(Some(key)) => key,
                Ok(None) => return Ok(Value::Object(object)),
                Err(e) => {
                    self.track.trigger(&Chain::NoKey(self.chain));
                    return Err(e);
                }
            };
            let chain = Chain::Key(self.chain, &key);
            match map.next_value_seed(ValueSeed { chain: &chain, track: self.track }) {
                Ok(value) => {
                    object.insert(key, value);
                }
                Err(e) => {
                    self.track.trigger(self.chain);
                    return Err(e);
                }
            }
        }
    }
}

// Native only: the oracle, serde_path_to_error, is a native dev-dependency.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// The path-tracking reader against `serde_path_to_error` (the library it replaced, kept as
    /// a test oracle): the same outcome, and for a failure the same path and message, for the
    /// model's inputs and results over samples and every field of them retyped, removed or
    /// joined by an unknown one.
    #[test]
    fn paths_and_messages_are_serde_path_to_errors() {
        use crate::model::{
            FalCreateInput, FleetQuery, Instance, NovitaCreateInput, NovitaListQuery, Page, SfcCreateInput, SfcListQuery,
        };
        use serde::de::DeserializeOwned;
        use serde_json::json;

        fn same<T: DeserializeOwned + std::fmt::Debug>(what: &str, v: &Value) -> bool {
            let ours = from_value::<T>(v);
            let theirs = serde_path_to_error::deserialize::<_, T>(v);
            match (ours, theirs) {
                (Ok(_), Ok(_)) => true,
                (Err(a), Err(b)) => {
                    assert_eq!(a.path(), b.path().to_string(), "{what}: path");
                    assert_eq!(a.inner().to_string(), b.inner().to_string(), "{what}: message");
                    false
                }
                (a, b) => panic!("{what}: ours {a:?}, serde_path_to_error {b:?}"),
            }
        }
        /// Every place in `v` (as a path of keys/indexes), depth first.
        fn places(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
            out.push(at.clone());
            match v {
                Value::Object(m) => m.iter().for_each(|(k, x)| places(x, [at.clone(), vec![k.clone()]].concat(), out)),
                Value::Array(a) => {
                    a.iter().enumerate().for_each(|(i, x)| places(x, [at.clone(), vec![format!("#{i}")]].concat(), out))
                }
                _ => {}
            }
        }
        fn at<'v>(v: &'v mut Value, path: &[String]) -> &'v mut Value {
            path.iter().fold(v, |v, k| match k.strip_prefix('#') {
                Some(i) => &mut v[i.parse::<usize>().unwrap()],
                None => &mut v[k.as_str()],
            })
        }
        fn mutate<T: DeserializeOwned + std::fmt::Debug>(name: &str, sample: Value) -> (usize, usize) {
            assert!(same::<T>(name, &sample), "{name}: the sample reads");
            let mut all = Vec::new();
            places(&sample, vec![], &mut all);
            let (mut ok, mut failed) = (0, 0);
            let odd = [
                Value::Null,
                json!(true),
                json!(-1),
                json!(1.5),
                json!(4294967296u64),
                json!("x"),
                json!([]),
                json!([1]),
                json!({}),
                json!({"k": 1}),
            ];
            for path in all {
                for o in &odd {
                    let mut v = sample.clone();
                    *at(&mut v, &path) = o.clone();
                    if same::<T>(&format!("{name} {path:?} = {o}"), &v) {
                        ok += 1
                    } else {
                        failed += 1
                    }
                }
                if let Some((last, parent)) = path.split_last() {
                    let mut v = sample.clone();
                    if let Some(m) = at(&mut v, parent).as_object_mut() {
                        m.remove(last);
                        m.insert("unknownField".into(), json!(1));
                        if same::<T>(&format!("{name} {path:?} removed, unknown added"), &v) {
                            ok += 1
                        } else {
                            failed += 1
                        }
                    }
                }
            }
            (ok, failed)
        }
        let mut totals = (0, 0);
        let mut add = |r: (usize, usize)| {
            totals.0 += r.0;
            totals.1 += r.1;
        };
        add(mutate::<FalCreateInput>(
            "fal create",
            json!({"instanceType": "gpu_8x_h100_sxm5", "sshKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM1outtTd7rm8LaDTtENTqynJVQeK/YgFBsxefmB6Cu2", "sector": "sector_1", "idempotencyKey": "k"}),
        ));
        add(mutate::<SfcCreateInput>(
            "sfc create",
            json!({"capacity": "cap_1", "name": "n", "image": "img_1", "tags": {"a": "b"}, "cloudInitUserData": "x", "priority": 1, "enablePublicIpv4": false}),
        ));
        add(mutate::<NovitaCreateInput>(
            "novita create",
            json!({"productId": "p", "gpuNum": 1, "rootfsSize": 50, "imageUrl": "i", "envs": [{"key": "A", "value": "b"}], "tools": [{"name": "Jupyter", "port": "8888", "type": "http"}], "networkStorages": [{"id": "s", "mountPoint": "/m"}]}),
        ));
        add(mutate::<SfcListQuery>(
            "sfc list",
            json!({"limit": 10, "cursor": "c", "status": ["running"], "id": ["i"], "createdAfter": 5}),
        ));
        add(mutate::<NovitaListQuery>("novita list", json!({"limit": 10, "cursor": "2", "name": "n", "status": "running"})));
        add(mutate::<FleetQuery>("fleet", json!({"providers": ["fal", "novita"], "status": ["running"], "q": "x"})));
        let instance = json!({"provider": "sfcompute", "id": "i", "status": "running", "providerStatus": "running", "ssh": {"host": "h", "port": 22}, "tags": {"a": "b"}, "pool": {"id": "p"}, "spot": {"status": "notified", "reclaimAt": "2026-01-01T00:00:00Z"}, "raw": {"x": [1]}});
        add(mutate::<Instance>("instance", instance.clone()));
        add(mutate::<Page<Instance>>("page", json!({"items": [instance], "nextCursor": "c", "hasMore": true, "total": 3})));
        assert!(totals.0 > 50 && totals.1 > 300, "{totals:?} (read, refused)");
    }
}
