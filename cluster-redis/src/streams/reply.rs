//! Stream replies (XRANGE, XREVRANGE, XREAD) as entries, RESP2 or RESP3.
//! A reply of an unexpected shape yields what could be read, never a panic.

use redis::Value;

/// One stream entry: its id and its field/value pairs.
pub(crate) struct RawEntry {
    pub id: String,
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
    }
}

fn entry(v: &Value) -> Option<RawEntry> {
    let Value::Array(parts) = v else { return None };
    let id = String::from_utf8(bytes(parts.first()?)?).ok()?;
    let pairs = match parts.get(1)? {
        Value::Array(kv) => kv
            .chunks_exact(2)
            .filter_map(|c| Some((bytes(&c[0])?, bytes(&c[1])?)))
            .collect(),
        Value::Map(kv) => kv
            .iter()
            .filter_map(|(k, v)| Some((bytes(k)?, bytes(v)?)))
            .collect(),
        _ => Vec::new(),
    };
    Some(RawEntry { id, pairs })
}

/// The entries of an XRANGE or XREVRANGE reply.
pub(crate) fn range(v: &Value) -> Vec<RawEntry> {
    match v {
        Value::Array(items) => items.iter().filter_map(entry).collect(),
        _ => Vec::new(),
    }
}

/// The entries of an XREAD reply for one stream (nil: none).
pub(crate) fn read(v: &Value) -> Vec<RawEntry> {
    match v {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(p) => p.get(1).map(range),
                _ => None,
            })
            .flatten()
            .collect(),
        Value::Map(streams) => streams.iter().flat_map(|(_, e)| range(e)).collect(),
        _ => Vec::new(),
    }
}
