//! Checking JSON text without building anything: [`is_valid`].
//!
//! One pass over the bytes, no allocation, no recursion (the open
//! containers are bits of one `u128`). The grammar is RFC 8259's, as
//! serde_json reads it, with serde_json's nesting limit (127 open
//! containers). It is never stricter than serde_json: what serde_json
//! decodes, this accepts. It is looser in two places, on purpose, since
//! text it accepts is relayed, not decoded: a `\u` escape of a lone UTF-16
//! surrogate (JavaScript's `JSON.stringify` writes them), and a number too
//! large for an `f64` (JavaScript reads it as `Infinity`). Such an event
//! no longer closes its connection: a relay passes it on as it came, and
//! a typed listener that reads the number fails to decode it and is
//! skipped (logged), as for any argument that does not fit its type.

/// serde_json's limit: the 128th nested container is refused.
const MAX_DEPTH: u32 = 127;

/// Whether `text` is one JSON value, whitespace around it allowed.
pub(crate) fn is_valid(text: &str) -> bool {
    Scan {
        s: text.as_bytes(),
        i: 0,
    }
    .document()
    .is_some()
}

struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.i += 1)
    }

    /// The whole input: one value, then only whitespace.
    fn document(&mut self) -> Option<()> {
        // Bit `d` of `objects`: the container at depth `d + 1` is an object.
        let mut objects: u128 = 0;
        let mut depth: u32 = 0;
        'value: loop {
            self.skip_ws();
            match self.peek()? {
                open @ (b'[' | b'{') => {
                    self.i += 1;
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    let object = open == b'{';
                    objects = (objects & !(1 << depth)) | (u128::from(object) << depth);
                    depth += 1;
                    self.skip_ws();
                    let close = if object { b'}' } else { b']' };
                    if self.eat(close).is_some() {
                        depth -= 1;
                    } else {
                        if object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                b'"' => self.string()?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // After a value: close containers, or go on to the next value.
            loop {
                self.skip_ws();
                if depth == 0 {
                    return (self.i == self.s.len()).then_some(());
                }
                let object = objects & (1 << (depth - 1)) != 0;
                match (self.peek()?, object) {
                    (b',', _) => {
                        self.i += 1;
                        if object {
                            self.skip_ws();
                            self.key()?;
                        }
                        continue 'value;
                    }
                    (b']', false) | (b'}', true) => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// `"key" :`, at the key's opening quote.
    fn key(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.string()?;
        self.skip_ws();
        self.eat(b':')
    }

    /// A string, at its opening quote: no raw control character, valid
    /// escapes. The input is a `str`, so the rest is valid UTF-8.
    fn string(&mut self) -> Option<()> {
        self.i += 1;
        loop {
            self.skip_plain();
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                b'\\' => {
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.s.get(self.i + 1..self.i + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                0..=0x1f => return None,
                _ => self.i += 1,
            }
        }
    }

    /// Skips string bytes that need no attention (not `"`, `\\` or a
    /// control character), eight at a time while there are eight; stops
    /// at the first one that does.
    fn skip_plain(&mut self) {
        const ONES: u64 = u64::from_le_bytes([0x01; 8]);
        const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
        // The high bit of each byte of `x` below `n` (n <= 0x80): exact up
        // to the first such byte, the borrows only matter after it.
        let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
        let zero = |x: u64| below(x, 1);
        while let Some(chunk) = self.s.get(self.i..self.i + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            let x = u64::from_le_bytes(word);
            let stop = below(x, 0x20)
                | zero(x ^ (ONES * u64::from(b'"')))
                | zero(x ^ (ONES * u64::from(b'\\')));
            if stop != 0 {
                // Little-endian: the lowest set bit is the first such byte.
                self.i += (stop.trailing_zeros() / 8) as usize;
                return;
            }
            self.i += 8;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.s.get(self.i..end)? == word).then(|| self.i = end)
    }

    fn digits(&mut self) -> Option<()> {
        let rest = self.s.get(self.i..).unwrap_or_default();
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        self.i += n;
        (n > 0).then_some(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> Option<()> {
        let _ = self.eat(b'-');
        if self.eat(b'0').is_none() {
            self.digits()?;
        }
        if self.eat(b'.').is_some() {
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            self.digits()?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn serde_ok(text: &str) -> bool {
        serde_json::from_str::<Value>(text).is_ok()
    }

    #[test]
    fn examples() {
        for ok in [
            "0",
            "-0.5e+3",
            " [ ] ",
            "{}",
            r#"{"a":[1,{"b":null}],"c":"\u00e9\n"}"#,
            r#"["e",true,false,"x\"y",-12,3.25E-2]"#,
            "\"é\"",
        ] {
            assert!(is_valid(ok), "{ok}");
            assert!(serde_ok(ok), "{ok}");
        }
        for bad in [
            "",
            " ",
            "[",
            "[1,]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{1:2}",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "tru",
            "nul",
            "[1]]",
            "[1}",
            "{\"a\":1]",
            "\"a",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"a\u{1}\"",
            "[1] 2",
            "[\"a\" \"b\"]",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
            assert!(!serde_ok(bad), "{bad:?}");
        }
        let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(is_valid(&nested(127)) && serde_ok(&nested(127)));
        assert!(!is_valid(&nested(128)) && !serde_ok(&nested(128)));
        // Looser than serde_json, on purpose.
        assert!(is_valid(r#""\ud800""#) && !serde_ok(r#""\ud800""#));
        assert!(is_valid("1e400") && !serde_ok("1e400"));
    }

    /// Text made of JSON's own pieces, so that most of it is nearly valid.
    fn jsonish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("["),
            Just("]"),
            Just("{"),
            Just("}"),
            Just(","),
            Just(":"),
            Just("\""),
            Just("\\"),
            Just("\\n"),
            Just("\\u00e9"),
            Just(" "),
            Just("0"),
            Just("12"),
            Just("-"),
            Just("."),
            Just("e"),
            Just("+"),
            Just("true"),
            Just("null"),
            Just("fals"),
            Just("a"),
            Just("é"),
            Just("\u{1}"),
            Just("abcdefghij"),
            Just("\u{7f}é\u{1f}"),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|p| p.concat())
    }

    /// `is_valid` against serde_json: the same verdict, except where
    /// serde_json refuses a number out of range or a lone surrogate.
    fn agrees(text: &str) -> Result<(), TestCaseError> {
        match (is_valid(text), serde_json::from_str::<Value>(text)) {
            (true, Ok(_)) | (false, Err(_)) => Ok(()),
            (false, Ok(_)) => Err(TestCaseError::fail(format!(
                "stricter than serde_json: {text:?}"
            ))),
            (true, Err(e)) => {
                let e = e.to_string();
                prop_assert!(
                    e.contains("number out of range") || e.contains("surrogate"),
                    "{text:?}: {e}"
                );
                Ok(())
            }
        }
    }

    /// A string with one byte that needs attention (a control character,
    /// a quote, a backslash) at every offset, so that it falls at every
    /// place of the eight-byte chunks, and after a non-ASCII character.
    #[test]
    fn a_special_byte_is_found_wherever_it_falls_in_a_chunk() {
        for special in [0x00u8, 0x09, 0x1f, b'"', b'\\'] {
            for prefix in ["", "é"] {
                for at in 0..20 {
                    let mut body = prefix.as_bytes().to_vec();
                    body.extend(std::iter::repeat_n(b'x', at));
                    body.push(special);
                    body.extend(std::iter::repeat_n(b'y', 12));
                    let text = format!("[\"{}\",1]", String::from_utf8(body).unwrap());
                    agrees(&text).unwrap();
                }
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json(text in jsonish()) {
            agrees(&text)?;
        }

        /// Valid documents, and each of them with one byte changed.
        #[test]
        fn agrees_on_mutated_documents(value in any_value(), at: usize, byte in 0x20u8..0x7f) {
            let text = serde_json::to_string(&value).unwrap();
            prop_assert!(is_valid(&text));
            let mut bytes = text.into_bytes();
            let at = at % bytes.len();
            if bytes[at].is_ascii() {
                bytes[at] = byte;
            }
            agrees(&String::from_utf8(bytes).unwrap())?;
        }
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[ -~é]{0,40}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[a-z]{0,3}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
