//! [`Entry`]: one line of tar-split metadata, a raw [`Segment`] or a [`FileEntry`], and its
//! JSON form exactly as Go's tar-split writes it.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::tar::{Sparse, SparseRegion};

/// One tar-split entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Raw tar bytes (type 2): headers, padding, end-of-archive blocks, trailing bytes.
    Segment(Segment),
    /// A file entry (type 1), one per tar entry: where that entry's data goes.
    File(FileEntry),
}

/// Raw tar bytes, written verbatim when the tar is rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segment {
    /// The bytes.
    pub payload: Vec<u8>,
    /// The entry's position in the metadata (a running counter from 0).
    pub position: u64,
}

/// A tar entry's data: `size` bytes read from the file called `name` when the tar is rebuilt,
/// checked against a CRC-64/ISO checksum.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileEntry {
    /// The entry's path as in the archive (bytes; written as `name`, or base64 `name_raw`
    /// when not UTF-8).
    pub name: Vec<u8>,
    /// The number of data bytes in the tar; 0 for entries without data.
    pub size: u64,
    /// The CRC-64/ISO of the data (present when `size` is not 0).
    pub crc: Option<u64>,
    /// For a GNU sparse file, its layout: the file on disk is the expanded file, and its
    /// regions (`size` bytes in all) are what the tar holds. An imgsvc extension to the
    /// format, written as a `sparse` field that Docker's reader ignores.
    pub sparse: Option<Sparse>,
    /// The entry's position in the metadata (a running counter from 0).
    pub position: u64,
}

/// Access
impl Entry {
    /// The entry's position in the metadata.
    pub fn position(&self) -> u64 {
        match self {
            Entry::Segment(segment) => segment.position,
            Entry::File(file) => file.position,
        }
    }
}

/// JSON
impl Entry {
    /// Appends the entry's JSON line (with its newline) to `out`, byte for byte as Go's
    /// tar-split writes it: fields `type`, `name` or `name_raw`, `size` (left out when 0),
    /// `payload` (base64, or `null`), `position`, with Go's string escaping.
    ///
    /// ```
    /// use imgsvc_layerstore::tarsplit::{Entry, FileEntry, Segment};
    ///
    /// let mut out = Vec::new();
    /// Entry::Segment(Segment { payload: b"raw".to_vec(), position: 0 }).encode(&mut out);
    /// let file = FileEntry { name: b"a<b".to_vec(), position: 1, ..FileEntry::default() };
    /// Entry::File(file).encode(&mut out);
    /// assert_eq!(
    ///     String::from_utf8(out)?,
    ///     "{\"type\":2,\"payload\":\"cmF3\",\"position\":0}\n\
    ///      {\"type\":1,\"name\":\"a\\u003cb\",\"payload\":null,\"position\":1}\n"
    /// );
    /// # Ok::<(), std::string::FromUtf8Error>(())
    /// ```
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Entry::Segment(segment) => {
                return encode_segment(&segment.payload, segment.position, out);
            }
            Entry::File(file) => {
                out.extend_from_slice(b"{\"type\":1");
                if !file.name.is_empty() {
                    match std::str::from_utf8(&file.name) {
                        Ok(name) => {
                            out.extend_from_slice(b",\"name\":");
                            write_go_string(out, name);
                        }
                        Err(_) => {
                            out.extend_from_slice(b",\"name_raw\":");
                            write_base64(out, &file.name);
                        }
                    }
                }
                if file.size != 0 {
                    out.extend_from_slice(b",\"size\":");
                    out.extend_from_slice(file.size.to_string().as_bytes());
                }
                out.extend_from_slice(b",\"payload\":");
                match file.crc {
                    Some(crc) => write_base64(out, &crc.to_be_bytes()),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"position\":");
                out.extend_from_slice(file.position.to_string().as_bytes());
                if let Some(sparse) = &file.sparse {
                    out.extend_from_slice(b",\"sparse\":{\"size\":");
                    out.extend_from_slice(sparse.real_size().to_string().as_bytes());
                    out.extend_from_slice(b",\"map\":[");
                    for (i, region) in sparse.regions().iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        let pair = format!("[{},{}]", region.offset, region.length);
                        out.extend_from_slice(pair.as_bytes());
                    }
                    out.extend_from_slice(b"]}");
                }
            }
        }
        out.extend_from_slice(b"}\n");
    }

    /// Parses one JSON entry as Go's tar-split reads it: unknown fields are ignored, `null`
    /// and missing fields are empty, `name_raw` (if not empty) wins over `name`.
    pub(crate) fn decode(line: &[u8]) -> Result<Entry, String> {
        let raw: Raw<'_> = serde_json::from_slice(line).map_err(|err| err.to_string())?;
        let position = match raw.position {
            None => 0,
            Some(n) => u64::try_from(n).map_err(|_| format!("position {n} is negative"))?,
        };
        let payload = match raw.payload.as_deref() {
            None => None,
            Some(text) => Some(decode_base64(text, "payload")?),
        };
        match raw.kind {
            Some(2) => Ok(Entry::Segment(Segment {
                payload: payload.unwrap_or_default(),
                position,
            })),
            Some(1) => {
                let name = match raw.name_raw.as_deref() {
                    Some(text) if !text.is_empty() => decode_base64(text, "name_raw")?,
                    _ => raw
                        .name
                        .map(|n| n.into_owned().into_bytes())
                        .unwrap_or_default(),
                };
                let size = match raw.size {
                    None => 0,
                    Some(n) => u64::try_from(n).map_err(|_| format!("size {n} is negative"))?,
                };
                let crc = match payload {
                    Some(bytes) => match <[u8; 8]>::try_from(bytes.as_slice()) {
                        Ok(crc) => Some(u64::from_be_bytes(crc)),
                        Err(_) if size == 0 => None,
                        Err(_) => {
                            return Err(format!(
                                "the payload of a file entry is {} bytes, not an 8-byte CRC-64",
                                bytes.len()
                            ));
                        }
                    },
                    None => None,
                };
                if size > 0 && crc.is_none() {
                    return Err("a file entry with data has no checksum".into());
                }
                let sparse = match raw.sparse {
                    None => None,
                    Some(RawSparse {
                        size: real_size,
                        map,
                    }) => {
                        let regions = map
                            .into_iter()
                            .map(|(offset, length)| SparseRegion { offset, length })
                            .collect();
                        let sparse = Sparse::new(real_size, regions)
                            .map_err(|reason| format!("invalid sparse map: {reason}"))?;
                        if sparse.data_size() != size {
                            return Err("the sparse map's regions do not add up to the size".into());
                        }
                        Some(sparse)
                    }
                };
                Ok(Entry::File(FileEntry {
                    name,
                    size,
                    crc,
                    sparse,
                    position,
                }))
            }
            Some(other) => Err(format!("unknown entry type {other}")),
            None => Err("the entry has no type".into()),
        }
    }
}

/// Appends the JSON line of a segment entry, as [`Entry::encode`] does.
pub(crate) fn encode_segment(payload: &[u8], position: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"type\":2,\"payload\":");
    write_base64(out, payload);
    out.extend_from_slice(b",\"position\":");
    out.extend_from_slice(position.to_string().as_bytes());
    out.extend_from_slice(b"}\n");
}

/// An entry as it appears in JSON, before validation.
#[derive(serde::Deserialize)]
struct Raw<'a> {
    #[serde(rename = "type")]
    kind: Option<i64>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name_raw: Option<Cow<'a, str>>,
    size: Option<i64>,
    #[serde(borrow)]
    payload: Option<Cow<'a, str>>,
    position: Option<i64>,
    sparse: Option<RawSparse>,
}

/// The `sparse` extension field.
#[derive(serde::Deserialize)]
struct RawSparse {
    size: u64,
    map: Vec<(u64, u64)>,
}

/// Base64 (standard alphabet, padded) as Go encodes `[]byte`.
fn decode_base64(text: &str, field: &str) -> Result<Vec<u8>, String> {
    BASE64
        .decode(text)
        .map_err(|err| format!("{field} is not valid base64: {err}"))
}

/// Appends `bytes` as a JSON string of base64.
fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    out.resize(
        start + base64::encoded_len(bytes.len(), true).unwrap_or_default(),
        0,
    );
    let written = out.get_mut(start..).map_or(0, |room| {
        BASE64.encode_slice(bytes, room).unwrap_or_default()
    });
    out.truncate(start + written);
    out.push(b'"');
}

/// Appends `text` as a JSON string escaped as Go's `encoding/json` encoder does by default:
/// `"` and `\`, control characters (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00XX`), the HTML
/// characters `<`, `>`, `&`, and U+2028/U+2029.
fn write_go_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut plain_from = 0;
    for (i, c) in text.char_indices() {
        let short: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\n' => b"\\n",
            '\r' => b"\\r",
            '\t' => b"\\t",
            '\u{8}' => b"\\b",
            '\u{c}' => b"\\f",
            c if c < ' ' || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => b"",
            _ => continue,
        };
        out.extend_from_slice(text.as_bytes().get(plain_from..i).unwrap_or_default());
        plain_from = i + c.len_utf8();
        if short.is_empty() {
            let code = u32::from(c);
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                out.push(HEX[((code >> shift) & 0xf) as usize]);
            }
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(text.as_bytes().get(plain_from..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_string(text: &str) -> String {
        let mut out = Vec::new();
        write_go_string(&mut out, text);
        String::from_utf8(out).expect("escaping keeps UTF-8")
    }

    #[test]
    fn strings_are_escaped_like_go() {
        assert_eq!(go_string("plain/path.txt"), r#""plain/path.txt""#);
        assert_eq!(go_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(go_string("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(go_string("\u{1}\u{1f}\u{7f}"), "\"\\u0001\\u001f\u{7f}\"");
        assert_eq!(go_string("<a&b>"), r#""\u003ca\u0026b\u003e""#);
        assert_eq!(go_string("x\u{2028}y\u{2029}"), r#""x\u2028y\u2029""#);
        assert_eq!(go_string("é日本"), "\"é日本\"");
    }

    #[test]
    fn base64_like_go() {
        let mut out = Vec::new();
        write_base64(&mut out, &[]);
        write_base64(&mut out, b"a");
        write_base64(&mut out, &[0xff; 8]);
        assert_eq!(out, b"\"\"\"YQ==\"\"//////////8=\"");
    }

    #[test]
    fn entries_round_trip_through_json() {
        let entries = [
            Entry::Segment(Segment {
                payload: vec![0; 1024],
                position: 7,
            }),
            Entry::File(FileEntry {
                name: b"dir/\xff\xfe".to_vec(),
                size: 3,
                crc: Some(0x0123_4567_89ab_cdef),
                sparse: None,
                position: 8,
            }),
            Entry::File(FileEntry {
                name: b"sparse".to_vec(),
                size: 3,
                crc: Some(1),
                sparse: Some(
                    Sparse::new(
                        100,
                        vec![SparseRegion {
                            offset: 10,
                            length: 3,
                        }],
                    )
                    .expect("valid"),
                ),
                position: 9,
            }),
            Entry::File(FileEntry::default()),
        ];
        for entry in entries {
            let mut line = Vec::new();
            entry.encode(&mut line);
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(Entry::decode(&line), Ok(entry));
        }
    }

    #[test]
    fn decoding_is_as_lenient_as_go_and_no_more() {
        let file = |line: &str| match Entry::decode(line.as_bytes()) {
            Ok(Entry::File(file)) => Ok(file),
            Ok(other) => Err(format!("not a file: {other:?}")),
            Err(err) => Err(err),
        };
        let f = file(r#"{"type":1,"name":"a","extra":[1,{"x":null}]}"#).expect("unknown field");
        assert_eq!((f.name.as_slice(), f.size, f.crc), (&b"a"[..], 0, None));
        let f = file(r#"{"name":"a","type":1,"name_raw":"/w==","position":null}"#).expect("raw");
        assert_eq!(f.name, b"\xff");
        let f = file(r#"{"type":1,"name":"a","payload":""}"#).expect("empty payload, no size");
        assert_eq!(f.crc, None);
        let f = file(r#"{"type":1,"name":"a\/b","size":1,"payload":"AAAAAAAAAAE="}"#).expect("crc");
        assert_eq!((f.name.as_slice(), f.crc), (&b"a/b"[..], Some(1)));
        for bad in [
            r#"{"type":1,"size":1}"#,
            r#"{"type":1,"size":1,"payload":"AAAA"}"#,
            r#"{"type":1,"size":-1}"#,
            r#"{"type":1,"name_raw":"!!"}"#,
            r#"{"type":3}"#,
            r#"{"payload":"AAAA"}"#,
            r#"{"type":2,"payload":"A"}"#,
            r#"{"type":2,"position":-1}"#,
            r#"{"type":"2"}"#,
            r#"{"type":1,"size":2,"payload":"AAAAAAAAAAE=","sparse":{"size":1,"map":[[0,2]]}}"#,
            r#"{"type":1,"size":2,"payload":"AAAAAAAAAAE=","sparse":{"size":9,"map":[[0,1]]}}"#,
            "[]",
            "{",
        ] {
            assert!(Entry::decode(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
