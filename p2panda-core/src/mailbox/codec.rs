//! What is inside a sealed object: bundles and indexes, length-prefixed binary (big-endian
//! integers), padded with zeros so the object's size is one of a few buckets.

use crate::identity::{PublicKey, PUBLIC_KEY_LEN};
use crate::secret::SEAL_OVERHEAD;
use crate::store::LogKey;

use super::key::{HEADER_LEN, ID_LEN};

const BUNDLE: u8 = 1;
const INDEX: u8 = 2;
/// Kind, author, log id, first seq, entry count.
pub(super) const BUNDLE_HEAD: usize = 1 + PUBLIC_KEY_LEN + 8 + 8 + 4;
/// Two length prefixes per entry.
pub(super) const PER_ENTRY: usize = 8;
const SMALLEST: usize = 1024;

/// Consecutive entries of one log, with their payloads, as a bundle carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub log: LogKey,
    /// The sequence number of the first entry.
    pub first: u64,
    /// Entry bytes and payload, in order.
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Bundle {
    /// The bundle's plain encoding, as it is sealed in a mailbox object (and as a browser's
    /// mailbox module and its node hand bundles to each other).
    pub fn to_bytes(&self) -> Vec<u8> {
        encode_bundle(self)
    }

    /// A bundle from [`to_bytes`](Self::to_bytes); the error says what is malformed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Bundle, &'static str> {
        decode_bundle(bytes)
    }

    /// The sequence number of the last entry (`first - 1` when empty).
    pub fn last(&self) -> u64 {
        (self.first + self.entries.len() as u64).saturating_sub(1)
    }
}

/// Where a bundle is and what it holds, as indexes list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundleRef {
    /// The random part of the bundle's name.
    pub id: [u8; ID_LEN],
    pub log: LogKey,
    /// The sequence number of its first entry, and how many entries it holds.
    pub first: u64,
    pub count: u32,
}

impl BundleRef {
    /// The sequence number of the last entry.
    pub fn last(&self) -> u64 {
        (self.first + u64::from(self.count)).saturating_sub(1)
    }
}

/// The size of a sealed object holding `plaintext` bytes: the smallest bucket (1 KiB, then
/// 2^k and 1.5·2^k) that fits, so the provider learns a size class, not a size. Costs at most
/// half again (a third on average) over the sealed size.
pub fn padded_len(plaintext: usize) -> usize {
    let sealed = plaintext + HEADER_LEN + SEAL_OVERHEAD;
    if sealed <= SMALLEST {
        return SMALLEST;
    }
    let power = sealed.next_power_of_two();
    if sealed <= power / 4 * 3 {
        power / 4 * 3
    } else {
        power
    }
}

/// Zeros up to the bucket, so the sealed object is exactly [`padded_len`] bytes.
fn pad(mut plain: Vec<u8>) -> Vec<u8> {
    let target = padded_len(plain.len()) - HEADER_LEN - SEAL_OVERHEAD;
    plain.resize(target, 0);
    plain
}

pub(super) fn encode_bundle(bundle: &Bundle) -> Vec<u8> {
    let size: usize = bundle
        .entries
        .iter()
        .map(|(e, p)| e.len() + p.len() + PER_ENTRY)
        .sum();
    let mut out = Vec::with_capacity(BUNDLE_HEAD + size);
    out.push(BUNDLE);
    log_key(&mut out, bundle.log);
    out.extend(bundle.first.to_be_bytes());
    out.extend((bundle.entries.len() as u32).to_be_bytes());
    for (entry, payload) in &bundle.entries {
        out.extend((entry.len() as u32).to_be_bytes());
        out.extend_from_slice(entry);
        out.extend((payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
    }
    pad(out)
}

pub(super) fn decode_bundle(plain: &[u8]) -> Result<Bundle, &'static str> {
    let mut r = Reader(plain);
    if r.u8()? != BUNDLE {
        return Err("not a bundle");
    }
    let log = r.log_key()?;
    let first = r.u64()?;
    let count = r.u32()?;
    if first == 0 {
        return Err("sequence numbers start at 1");
    }
    // Each entry takes at least its two length prefixes: a count beyond that is a lie, and
    // must not reserve memory.
    if count as usize > r.0.len() / PER_ENTRY {
        return Err("more entries than bytes");
    }
    let mut entries = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let entry = r.chunk()?.to_vec();
        let payload = r.chunk()?.to_vec();
        entries.push((entry, payload));
    }
    r.padding()?;
    Ok(Bundle {
        log,
        first,
        entries,
    })
}

pub(super) fn encode_index(generation: u64, refs: &[BundleRef]) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + refs.len() * 68);
    out.push(INDEX);
    out.extend(generation.to_be_bytes());
    // Bundles of one log follow each other, under their log key written once.
    let mut sorted: Vec<&BundleRef> = refs.iter().collect();
    sorted.sort_by_key(|r| (r.log, r.first));
    let groups: Vec<&[&BundleRef]> = sorted.chunk_by(|a, b| a.log == b.log).collect();
    out.extend((groups.len() as u32).to_be_bytes());
    for group in groups {
        log_key(&mut out, group[0].log);
        out.extend((group.len() as u32).to_be_bytes());
        for r in group {
            out.extend_from_slice(&r.id);
            out.extend(r.first.to_be_bytes());
            out.extend(r.count.to_be_bytes());
        }
    }
    pad(out)
}

/// An index's generation and the bundles it lists.
pub(super) fn decode_index(plain: &[u8]) -> Result<(u64, Vec<BundleRef>), &'static str> {
    const PER_REF: usize = ID_LEN + 12;
    let mut r = Reader(plain);
    if r.u8()? != INDEX {
        return Err("not an index");
    }
    let generation = r.u64()?;
    let logs = r.u32()?;
    let mut refs = Vec::new();
    for _ in 0..logs {
        let log = r.log_key()?;
        let count = r.u32()?;
        if count as usize > r.0.len() / PER_REF {
            return Err("more bundles than bytes");
        }
        for _ in 0..count {
            let id = r.take(ID_LEN)?.try_into().map_err(|_| "short id")?;
            let first = r.u64()?;
            let count = r.u32()?;
            if first == 0 || count == 0 {
                return Err("an empty or misplaced range");
            }
            refs.push(BundleRef {
                id,
                log,
                first,
                count,
            });
        }
    }
    r.padding()?;
    Ok((generation, refs))
}

fn log_key(out: &mut Vec<u8>, log: LogKey) {
    out.extend_from_slice(log.author.as_bytes());
    out.extend(log.log_id.to_be_bytes());
}

/// Reads what the encoders write; every read checks the length first.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        let (head, rest) = self.0.split_at_checked(n).ok_or("truncated")?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], &'static str> {
        self.take(N)?.try_into().map_err(|_| "truncated")
    }

    fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, &'static str> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, &'static str> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn chunk(&mut self) -> Result<&'a [u8], &'static str> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    fn log_key(&mut self) -> Result<LogKey, &'static str> {
        let author = PublicKey::from_bytes(self.take(PUBLIC_KEY_LEN)?).map_err(|_| "bad author")?;
        Ok(LogKey {
            author,
            log_id: self.u64()?,
        })
    }

    /// Only zeros may follow the content: one plaintext, one meaning.
    fn padding(&self) -> Result<(), &'static str> {
        match self.0.iter().all(|b| *b == 0) {
            true => Ok(()),
            false => Err("bytes after the content"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::KeyPair;

    fn log() -> LogKey {
        LogKey {
            author: KeyPair::generate().public_key(),
            log_id: 3,
        }
    }

    #[test]
    fn padding_buckets_are_powers_of_two_and_halfway() {
        let sealed = |plain| padded_len(plain);
        let overhead = HEADER_LEN + SEAL_OVERHEAD;
        assert_eq!(sealed(0), 1024);
        assert_eq!(sealed(1024 - overhead), 1024);
        assert_eq!(sealed(1025 - overhead), 1536);
        assert_eq!(sealed(1537 - overhead), 2048);
        assert_eq!(sealed(200_000), 256 * 1024);
        assert_eq!(sealed(300_000), 384 * 1024);
        for plain in (0..2_000_000).step_by(997) {
            let size = sealed(plain);
            assert!(size >= plain + overhead && size * 2 <= (plain + overhead) * 3 + 2048);
            assert_eq!(size, sealed(size - overhead), "a bucket holds its own size");
        }
    }

    #[test]
    fn bundles_round_trip_and_trailing_bytes_are_refused() {
        let bundle = Bundle {
            log: log(),
            first: 5,
            entries: vec![(vec![1; 100], vec![2; 50]), (vec![3; 90], vec![])],
        };
        let plain = encode_bundle(&bundle);
        assert_eq!(
            plain.len() + HEADER_LEN + SEAL_OVERHEAD,
            padded_len(plain.len())
        );
        assert_eq!(decode_bundle(&plain), Ok(bundle.clone()));
        assert_eq!(bundle.last(), 6);
        let mut extra = plain.clone();
        *extra.last_mut().unwrap() = 1;
        assert_eq!(decode_bundle(&extra), Err("bytes after the content"));
        let content = BUNDLE_HEAD + 2 * PER_ENTRY + 240;
        for cut in [0, 10, BUNDLE_HEAD, content - 1] {
            assert!(decode_bundle(&plain[..cut]).is_err(), "{cut}");
        }
    }

    #[test]
    fn lying_counts_are_refused_without_allocating() {
        let mut plain = encode_bundle(&Bundle {
            log: log(),
            first: 1,
            entries: vec![],
        });
        plain[BUNDLE_HEAD - 4..BUNDLE_HEAD].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode_bundle(&plain), Err("more entries than bytes"));
        let mut index = encode_index(1, &[]);
        index[9..13].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_index(&index).is_err());
    }

    #[test]
    fn indexes_round_trip_grouped_by_log() {
        let (a, b) = (log(), log());
        let refs = vec![
            BundleRef {
                id: [1; ID_LEN],
                log: a,
                first: 1,
                count: 10,
            },
            BundleRef {
                id: [2; ID_LEN],
                log: b,
                first: 1,
                count: 3,
            },
            BundleRef {
                id: [3; ID_LEN],
                log: a,
                first: 11,
                count: 4,
            },
        ];
        let (generation, mut decoded) = decode_index(&encode_index(9, &refs)).unwrap();
        assert_eq!(generation, 9);
        let key = |r: &BundleRef| r.id;
        decoded.sort_by_key(key);
        assert_eq!(decoded, refs);
        assert_eq!(refs[2].last(), 14);
    }
}
