//! Writing canonical CBOR by hand (definite lengths, shortest heads), shared by the operation
//! payloads (`operation/cbor.rs`) and the signaling messages (`signal/codec.rs`), which add
//! their own methods for their types in `impl Writer` blocks of their own.

/// CBOR output being written.
#[derive(Default)]
pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    /// An item head with its argument in the shortest form.
    pub(crate) fn head(&mut self, major: u8, value: u64) {
        let major = major << 5;
        match value {
            0..=23 => self.0.push(major | value as u8),
            24..=0xff => self.0.extend([major | 24, value as u8]),
            0x100..=0xffff => {
                self.0.push(major | 25);
                self.0.extend((value as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(major | 26);
                self.0.extend((value as u32).to_be_bytes());
            }
            _ => {
                self.0.push(major | 27);
                self.0.extend(value.to_be_bytes());
            }
        }
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        self.head(2, bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    pub(crate) fn text(&mut self, text: &str) {
        self.head(3, text.len() as u64);
        self.0.extend_from_slice(text.as_bytes());
    }

    pub(crate) fn map(&mut self, len: usize) {
        self.head(5, len as u64);
    }
}
