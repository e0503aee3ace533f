//! A CBOR reader that fails where ciborium 0.2 fails reading a `ciborium::Value`, and in the
//! same way: the input ending early, invalid CBOR, or nesting past the recursion limit.
//!
//! The item heads, string chunks and nesting rules follow `operation/cbor.rs`, which compares
//! its reader with ciborium the same way; that module is private to `operation`, so the few
//! primitives a message needs are repeated here.

/// How reading failed; the order of the checks decides which one is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Fault {
    /// The input ends inside an item.
    Eof,
    /// Not well-formed, or something ciborium refuses to read into a value.
    Invalid,
    /// Nested deeper than the recursion limit.
    TooDeep,
}

pub(super) type Read<T> = Result<T, Fault>;

/// ciborium's scratch buffer, the window in which it checks text for UTF-8.
const SCRATCH: usize = 4096;
const FALSE: u8 = 20;
const TRUE: u8 = 21;
const NULL: u8 = 22;
const UNDEFINED: u8 = 23;
const BIG_POSITIVE: u64 = 2;
const BIG_NEGATIVE: u64 = 3;

/// One item, kept only as far as a message can use it: what reading it into a
/// `ciborium::Value` would have given.
pub(super) enum Item {
    /// An integer in `0..=u64::MAX` (a big integer too).
    Uint(u64),
    /// A negative integer down to `-2^64`.
    Negative,
    Bytes(Vec<u8>),
    Array(Vec<Item>),
    /// Text, maps, floats, booleans, null, tags and big integers beyond 64 bits.
    Other,
}

/// One CBOR item head, as ciborium-ll reads it.
#[derive(Debug, Clone, Copy)]
enum Header {
    Positive(u64),
    Negative,
    Bytes(Option<usize>),
    Text(Option<usize>),
    Array(Option<usize>),
    Map(Option<usize>),
    Tag(u64),
    Simple(u8),
    Float,
    Break,
}

pub(super) struct Reader<'a> {
    input: &'a [u8],
    /// A head read ahead and put back (ciborium peeks this way).
    pushed: Option<Header>,
    /// Levels of nesting left.
    depth: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(input: &'a [u8], depth: usize) -> Self {
        Reader {
            input,
            pushed: None,
            depth,
        }
    }

    /// Bytes not read yet.
    pub(super) fn left(&self) -> usize {
        self.input.len()
    }

    /// Read one item as ciborium's `deserialize_any` reads a `Value`, failing where it fails.
    pub(super) fn item(&mut self) -> Read<Item> {
        Ok(match self.pull()? {
            Header::Positive(n) => Item::Uint(n),
            Header::Negative => Item::Negative,
            Header::Bytes(len) => {
                let mut bytes = Vec::new();
                self.segments(len, false, |r, len| {
                    bytes.extend_from_slice(r.take(len)?);
                    Ok(())
                })?;
                Item::Bytes(bytes)
            }
            Header::Text(len) => {
                self.segments(len, true, Reader::text)?;
                Item::Other
            }
            Header::Array(mut len) => self.nested(|r| {
                let mut items = Vec::new();
                while r.more(&mut len)? {
                    items.push(r.item()?);
                }
                Ok(Item::Array(items))
            })?,
            Header::Map(mut len) => self.nested(|r| {
                while r.more(&mut len)? {
                    r.item()?;
                    r.item()?;
                }
                Ok(Item::Other)
            })?,
            Header::Tag(tag) => {
                // ciborium peeks at the tagged item before it counts the tag as a level.
                let next = self.pull()?;
                self.push(next);
                match next {
                    Header::Bytes(Some(len))
                        if len <= 16 && (tag == BIG_POSITIVE || tag == BIG_NEGATIVE) =>
                    {
                        self.big(tag == BIG_NEGATIVE)?
                    }
                    _ => self.nested(|r| r.item().map(|_| Item::Other))?,
                }
            }
            Header::Float | Header::Simple(FALSE | TRUE | NULL | UNDEFINED) => Item::Other,
            Header::Simple(_) | Header::Break => return Err(Fault::Invalid),
        })
    }

    fn take(&mut self, len: usize) -> Read<&'a [u8]> {
        if self.input.len() < len {
            return Err(Fault::Eof);
        }
        let (head, rest) = self.input.split_at(len);
        self.input = rest;
        Ok(head)
    }

    fn pull(&mut self) -> Read<Header> {
        if let Some(header) = self.pushed.take() {
            return Ok(header);
        }
        let first = self.take(1)?[0];
        let info = first & 0x1f;
        let argument = match info {
            0..=23 => Some(u64::from(info)),
            24..=27 => Some(
                self.take(1 << (info - 24))?
                    .iter()
                    .fold(0, |value, &byte| value << 8 | u64::from(byte)),
            ),
            31 => None,
            _ => return Err(Fault::Invalid),
        };
        let number = || argument.ok_or(Fault::Invalid);
        // ciborium-ll refuses a length that does not fit in a usize as invalid.
        let len = || {
            argument
                .map(|len| usize::try_from(len).map_err(|_| Fault::Invalid))
                .transpose()
        };
        Ok(match first >> 5 {
            0 => Header::Positive(number()?),
            1 => {
                number()?;
                Header::Negative
            }
            2 => Header::Bytes(len()?),
            3 => Header::Text(len()?),
            4 => Header::Array(len()?),
            5 => Header::Map(len()?),
            6 => Header::Tag(number()?),
            _ => match (info, argument) {
                (31, _) => Header::Break,
                (25..=27, _) => Header::Float,
                // Simple values, in one byte or two.
                (_, bits) => Header::Simple(bits.unwrap_or_default() as u8),
            },
        })
    }

    fn push(&mut self, header: Header) {
        self.pushed = Some(header);
    }

    /// Run `read` one level deeper.
    fn nested<T>(&mut self, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<T> {
        if self.depth == 0 {
            return Err(Fault::TooDeep);
        }
        self.depth -= 1;
        let value = read(self);
        self.depth += 1;
        value
    }

    /// Whether an array or map of `len` items (`None`: until a break) has another one.
    fn more(&mut self, len: &mut Option<usize>) -> Read<bool> {
        match len {
            Some(0) => Ok(false),
            Some(left) => {
                *left -= 1;
                Ok(true)
            }
            None => match self.pull()? {
                Header::Break => Ok(false),
                header => {
                    self.push(header);
                    Ok(true)
                }
            },
        }
    }

    /// The segments of a byte or text string whose head was just read: one for a definite
    /// length, the definite ones of an indefinite string (nested indefinite ones flattened, as
    /// ciborium-ll does). `each` reads a segment of the given length.
    fn segments(
        &mut self,
        len: Option<usize>,
        text: bool,
        mut each: impl FnMut(&mut Self, usize) -> Read<()>,
    ) -> Read<()> {
        let Some(len) = len else {
            let mut open = 1;
            loop {
                match (self.pull()?, text) {
                    (Header::Break, _) => {
                        open -= 1;
                        if open == 0 {
                            return Ok(());
                        }
                    }
                    (Header::Text(None), true) | (Header::Bytes(None), false) => open += 1,
                    (Header::Text(Some(len)), true) | (Header::Bytes(Some(len)), false) => {
                        each(self, len)?
                    }
                    _ => return Err(Fault::Invalid),
                }
            }
        };
        each(self, len)
    }

    /// One text segment, checked as ciborium-ll checks it: read in windows of [`SCRATCH`]
    /// bytes, each UTF-8 but for up to 3 bytes carried into the next window. So bad UTF-8 early
    /// in a long segment is invalid even when the segment is also cut short.
    fn text(&mut self, mut unread: usize) -> Read<()> {
        let (mut carried, mut stored) = ([0u8; 3], 0usize);
        while unread > 0 {
            let size = SCRATCH.min(stored + unread);
            let new = self.take(size - stored)?;
            unread -= new.len();
            let mut window = carried[..stored].to_vec();
            window.extend_from_slice(new);
            stored = match std::str::from_utf8(&window) {
                Ok(_) => 0,
                Err(e) => {
                    let rest = &window[e.valid_up_to()..];
                    if rest.len() > carried.len() {
                        return Err(Fault::Invalid);
                    }
                    carried[..rest.len()].copy_from_slice(rest);
                    rest.len()
                }
            };
        }
        if stored == 0 {
            Ok(())
        } else {
            Err(Fault::Invalid)
        }
    }

    /// A big integer (tag 2 or 3 on a byte string of at most 16 bytes, head just peeked), as
    /// ciborium turns it into a value.
    fn big(&mut self, negative: bool) -> Read<Item> {
        let Header::Bytes(len) = self.pull()? else {
            return Err(Fault::Invalid);
        };
        let mut raw = 0u128;
        self.segments(len, false, |r, len| {
            // At most 16 bytes, so this cannot overflow.
            for &byte in r.take(len)? {
                raw = raw << 8 | u128::from(byte);
            }
            Ok(())
        })?;
        Ok(match (negative, u64::try_from(raw)) {
            (false, Ok(n)) => Item::Uint(n),
            (true, Ok(_)) => Item::Negative,
            // -1 - raw must fit in an i128.
            (true, Err(_)) if raw > i128::MAX as u128 => return Err(Fault::Invalid),
            // Kept by ciborium as a tagged byte string.
            _ => Item::Other,
        })
    }
}
