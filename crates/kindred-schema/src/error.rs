/// A schema file that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema file {file} is not valid Avro: {message}")]
    Parse { file: String, message: String },
    #[error("cannot read schema file {file}: {message}")]
    Read { file: String, message: String },
    #[error("schema id {id} maps to {name:?}, which is not an embedded schema (known: {known})")]
    UnknownName {
        id: u32,
        name: String,
        known: String,
    },
    #[error("schema file {file} cannot be read as {reads_as}: {message}")]
    Unreadable {
        file: String,
        reads_as: String,
        message: String,
    },
    #[error("{file} is the record {found}, not one of kindred's ({known}): Avro matches records by name")]
    NotKindred {
        file: String,
        found: String,
        known: String,
    },
    #[error("no schema id is configured for {name}: kindred cannot write it")]
    MissingId { name: String },
    #[error("schema id {id} is configured for both {first} and {second}")]
    DuplicateId {
        id: u32,
        first: String,
        second: String,
    },
}

/// Why a message could not be decoded. Each variant is a dead-letter reason;
/// [`DecodeError::kind`] is its stable, low-cardinality name. The libraries'
/// messages in `Body` and `Json` have their quoted values taken out
/// (personal data must not reach the dead-letter headers).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("message is empty")]
    Empty,
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    Oversized { size: usize, limit: usize },
    #[error("wrong magic byte {found:#04x}: expected 0x00 (Confluent wire format)")]
    WrongMagicByte { found: u8 },
    #[error("message of {size} bytes is too short for the 5-byte Confluent header")]
    TruncatedHeader { size: usize },
    #[error("unknown schema id {id}: neither the configured [schemas] ids nor the schema registry has it")]
    UnknownSchemaId { id: u32 },
    #[error("schema id {id} is {found}, but this topic carries {expected}")]
    UnexpectedSchema {
        id: u32,
        found: String,
        expected: String,
    },
    #[error("Avro body does not match {schema}: {message}")]
    Body { schema: String, message: String },
    #[error("{trailing} unread bytes after the Avro body of {schema}")]
    TrailingBytes { schema: String, trailing: usize },
    #[error("JSON does not match {schema}: {message}")]
    Json { schema: String, message: String },
}

impl DecodeError {
    /// Stable name for the dead-letter `reason` header and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            DecodeError::Empty => "empty",
            DecodeError::Oversized { .. } => "oversized",
            DecodeError::WrongMagicByte { .. } => "wrong_magic_byte",
            DecodeError::TruncatedHeader { .. } => "truncated",
            DecodeError::UnknownSchemaId { .. } => "unknown_schema_id",
            DecodeError::UnexpectedSchema { .. } => "unexpected_schema",
            DecodeError::Body { .. } => "malformed_body",
            DecodeError::TrailingBytes { .. } => "trailing_bytes",
            DecodeError::Json { .. } => "invalid_json",
        }
    }
}

/// A record that could not be encoded: always a bug in kindred (the record
/// type and its schema disagree), never bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode a record as {schema}: {message}")]
pub struct EncodeError {
    pub schema: String,
    pub message: String,
}

/// A decoding library's message with the values it quotes taken out: the
/// text goes to the dead-letter topic's `kindred.dlq.message` header, which
/// must hold no personal data (`invalid type: integer `8613910248876``
/// quotes a phone number). Text in quotes, backticks, parentheses, brackets
/// or braces is kept only when it is a name from kindred's own schemas (a
/// field, record or enum symbol: `missing field `transaction_id`` stays
/// useful); anything else becomes `…`, and so does any run of five or more
/// digits outside them.
pub fn without_values(message: &str) -> String {
    without_values_inner(message)
}

/// Whether a JSON object's key looks like a field name: a word of ASCII
/// letters, digits and `_-.`, at most 64 bytes, with no run of digits a
/// phone would have. A key that does not may be data itself (a form body
/// serialized badly: `"email=ann.lee@mail.cn": ""`), and is not shown.
pub fn looks_like_a_field_name(name: &str) -> bool {
    name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        && name.chars().filter(char::is_ascii_digit).count() < 6
}

fn without_values_inner(message: &str) -> String {
    let schema_word = |w: &[char]| {
        let w: String = w.iter().collect();
        !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            && crate::CURRENT
                .iter()
                .chain(crate::HISTORY.iter())
                .any(|s| s.text.contains(&format!("\"{w}\"")))
    };
    let chars: Vec<char> = message.chars().collect();
    let mut out = String::with_capacity(message.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // An apostrophe inside a word is prose (`can't`), not a quote.
        let quote =
            c == '`' || c == '"' || (c == '\'' && (i == 0 || !chars[i - 1].is_alphanumeric()));
        let close = match c {
            _ if quote => Some(c),
            '(' => Some(')'),
            '[' => Some(']'),
            '{' => Some('}'),
            _ => None,
        };
        if let Some(close) = close {
            let end = span_end(&chars, i, close);
            let inner = &chars[i + 1..end];
            out.push(c);
            if schema_word(inner) {
                out.extend(inner);
            } else {
                out.push('…');
            }
            if end < chars.len() {
                out.push(close);
            }
            i = end + 1;
        } else if c.is_ascii_digit() {
            let run = chars[i..].iter().take_while(|d| d.is_ascii_digit()).count();
            if run >= 5 {
                out.push('…');
            } else {
                out.extend(&chars[i..i + run]);
            }
            i += run;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Where the span opened at `chars[open]` closes (`chars.len()` when it
/// does not): in a quote a backslash escapes the next character; a bracket
/// skips quotes and its own nested brackets (`String("02) 9555 1234")`).
fn span_end(chars: &[char], open: usize, close: char) -> usize {
    let quoted = chars[open] == close;
    let mut depth = 0usize;
    let mut j = open + 1;
    while j < chars.len() {
        let d = chars[j];
        if quoted {
            if d == '\\' {
                j += 2;
                continue;
            }
            if d == close {
                return j;
            }
        } else if d == '"' || d == '`' {
            j = span_end(chars, j, d) + 1;
            continue;
        } else if d == chars[open] {
            depth += 1;
        } else if d == close {
            if depth == 0 {
                return j;
            }
            depth -= 1;
        }
        j += 1;
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn library_messages_lose_their_values_and_keep_schema_names() {
        for (message, want) in [
            (
                "invalid type: integer `8613910248876`, expected a string",
                "invalid type: integer `…`, expected a string",
            ),
            (
                "Could not find matching type in Union(UnionSchema { schemas: [Null, String] }) for Long(8613910248876)",
                "Could not find matching type in Union(…) for Long(…)",
            ),
            (
                "invalid value: string \"li.wei@example.cn\", expected an email",
                "invalid value: string \"…\", expected an email",
            ),
            ("missing field `transaction_id`", "missing field `transaction_id`"),
            ("unterminated `13910248876", "unterminated `…"),
            ("failed at 8613910248876 and at 42", "failed at … and at 42"),
            (
                r#"invalid type: string "x\" 0412 555 123", expected i64"#,
                r#"invalid type: string "…", expected i64"#,
            ),
            (
                r#"no match for String("02) 9555 1234") here"#,
                "no match for String(…) here",
            ),
            ("can't read the record's body", "can't read the record's body"),
            ("symbol 'gold' of 'tier'", "symbol '…' of '…'"),
        ] {
            assert_eq!(without_values(message), want, "{message}");
        }
    }
}
