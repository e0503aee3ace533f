//! Bad input to the log and the store: every kind of broken, forged or conflicting entry gets its
//! own typed error, and a refused entry leaves the store exactly as it was (the one deliberate
//! exception: a fork records its evidence and freezes the log).

use std::sync::OnceLock;

use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::log::{
    lipmaa_seq, Entry, LogError, UnsignedEntry, MAX_ENTRY_SIZE, MAX_PAYLOAD_SIZE,
};
use p2panda_core::store::{ForkEvidence, Inserted, LogKey, MemoryStore, StoreError};
use proptest::prelude::*;

const LOG_ID: u64 = 1;

fn payload_of(seq: u64) -> Vec<u8> {
    format!("festival operation {seq}").into_bytes()
}

/// A log of `n` entries published outside any store, with their payloads: `log[i]` has seq i + 1.
fn chain(key_pair: &KeyPair, n: u64) -> Vec<(Entry, Vec<u8>)> {
    let mut log: Vec<(Entry, Vec<u8>)> = Vec::new();
    for seq in 1..=n {
        let payload = payload_of(seq);
        let previous = log.last().map(|(e, _)| e);
        let lipmaa = (lipmaa_seq(seq) as usize).checked_sub(1).map(|i| &log[i].0);
        let entry = Entry::publish(key_pair, LOG_ID, &payload, previous, lipmaa).unwrap();
        log.push((entry, payload));
    }
    log
}

/// A store holding the first `height` entries of `log`.
fn store_with(log: &[(Entry, Vec<u8>)], height: usize) -> MemoryStore {
    let mut store = MemoryStore::new();
    for (entry, payload) in &log[..height] {
        assert_eq!(store.insert(entry.bytes(), payload), Ok(Inserted::New));
    }
    store
}

fn key_of(key_pair: &KeyPair) -> LogKey {
    LogKey {
        author: key_pair.public_key(),
        log_id: LOG_ID,
    }
}

/// Insert `bytes` with `payload`, expect the error `check` accepts, and the store unchanged.
#[track_caller]
fn refused(
    store: &mut MemoryStore,
    bytes: &[u8],
    payload: &[u8],
    check: impl FnOnce(&StoreError) -> bool,
) -> StoreError {
    let before = store.clone();
    let error = store
        .insert(bytes, payload)
        .expect_err("bad input was accepted");
    assert!(check(&error), "unexpected error: {error:?}");
    assert_eq!(*store, before, "a refused entry changed the store");
    error
}

fn malformed(error: &StoreError) -> bool {
    matches!(error, StoreError::Invalid(LogError::Malformed(_)))
}

/// Sign and encode entry fields with bamboo-rs-core directly, bypassing every check of
/// `Entry::sign` (to build entries an honest publisher refuses to make).
fn raw_entry(key_pair: &KeyPair, unsigned: &UnsignedEntry) -> Vec<u8> {
    use bamboo_rs_core::{Signature, YamfHash};
    let author = bamboo_rs_core::PublicKey::from_bytes(key_pair.public_key().as_bytes()).unwrap();
    let yamf = |h: &Hash| YamfHash::Blake2b(h.as_bytes().to_vec());
    let mut entry = bamboo_rs_core::Entry::<Vec<u8>, Vec<u8>> {
        log_id: unsigned.log_id,
        is_end_of_feed: unsigned.is_end_of_feed,
        payload_hash: yamf(&unsigned.payload_hash),
        payload_size: unsigned.payload_size,
        author,
        seq_num: unsigned.seq_num,
        backlink: unsigned.backlink.as_ref().map(yamf),
        lipmaa_link: unsigned.lipmaa_link.as_ref().map(yamf),
        sig: None,
    };
    let mut out = [0u8; MAX_ENTRY_SIZE];
    let len = entry.encode_for_signing(&mut out).unwrap();
    entry.sig = Some(Signature(key_pair.sign(&out[..len]).to_vec()));
    let len = entry.encode(&mut out).unwrap();
    out[..len].to_vec()
}

/// The fields of `entry`, to be changed and signed again.
fn fields(entry: &Entry) -> UnsignedEntry {
    UnsignedEntry {
        log_id: entry.log_id(),
        seq_num: entry.seq_num(),
        backlink: entry.backlink(),
        lipmaa_link: entry.lipmaa_link(),
        payload_hash: entry.payload_hash(),
        payload_size: entry.payload_size(),
        is_end_of_feed: entry.is_end_of_feed(),
    }
}

#[test]
fn a_truncated_entry_is_malformed_at_every_length() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 4);
    let mut store = store_with(&log, 3);
    let (entry, payload) = &log[3];
    for len in 0..entry.bytes().len() {
        refused(&mut store, &entry.bytes()[..len], payload, malformed);
    }
    assert_eq!(store.insert(entry.bytes(), payload), Ok(Inserted::New));
}

#[test]
fn a_flipped_signature_bit_is_a_bad_signature() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 4);
    let mut store = store_with(&log, 3);
    let (entry, payload) = &log[3];
    let bytes = entry.bytes();
    for bit in (bytes.len() - 64) * 8..bytes.len() * 8 {
        let mut flipped = bytes.to_vec();
        flipped[bit / 8] ^= 1 << (bit % 8);
        refused(&mut store, &flipped, payload, |e| {
            *e == StoreError::Invalid(LogError::BadSignature)
        });
    }
    // A flip in the signed part that still decodes and passes the cheaper checks is a bad
    // signature too: here the end-of-feed tag.
    let mut flipped = bytes.to_vec();
    flipped[0] ^= 1;
    refused(&mut store, &flipped, payload, |e| {
        *e == StoreError::Invalid(LogError::BadSignature)
    });
}

#[test]
fn a_payload_that_does_not_match_its_hash_is_refused() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 2);
    let mut store = store_with(&log, 1);
    let (entry, payload) = &log[1];
    let mut other = payload.clone();
    *other.last_mut().unwrap() ^= 1;
    refused(&mut store, entry.bytes(), &other, |e| {
        *e == StoreError::Invalid(LogError::PayloadHashMismatch)
    });
    // The first entry too.
    let mut empty = MemoryStore::new();
    let (first, first_payload) = &log[0];
    let mut other = first_payload.clone();
    other[0] = b'F';
    refused(&mut empty, first.bytes(), &other, |e| {
        *e == StoreError::Invalid(LogError::PayloadHashMismatch)
    });
    assert!(empty.is_empty());
}

#[test]
fn a_payload_of_the_wrong_size_is_refused() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 2);
    let mut store = store_with(&log, 1);
    let (entry, payload) = &log[1];
    let claimed = payload.len() as u64;
    let mut longer = payload.clone();
    longer.push(b'!');
    for wrong in [&payload[..payload.len() - 1], &longer[..], &[][..]] {
        refused(&mut store, entry.bytes(), wrong, |e| {
            *e == StoreError::Invalid(LogError::PayloadSizeMismatch {
                claimed,
                actual: wrong.len() as u64,
            })
        });
    }
}

#[test]
fn a_wrong_backlink_or_lipmaa_link_is_refused() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 4);
    let mut store = store_with(&log, 2);
    // Entry 3: its backlink should be entry 2 (and it has no separate lipmaa link).
    let (third, payload) = &log[2];
    assert!(!third.needs_lipmaa_entry());
    for bogus in [Hash::digest(b"elsewhere"), log[0].0.hash()] {
        let forged = Entry::sign(
            &key_pair,
            &UnsignedEntry {
                backlink: Some(bogus),
                ..fields(third)
            },
        )
        .unwrap();
        forged.verify_signature().unwrap();
        refused(&mut store, forged.bytes(), payload, |e| {
            *e == StoreError::Invalid(LogError::BacklinkMismatch)
        });
    }
    // Entry 4 links back to entry 3 and, as its lipmaa link, to entry 1.
    store.insert(third.bytes(), payload).unwrap();
    let (fourth, payload) = &log[3];
    assert_eq!(fourth.lipmaa_seq(), 1);
    for bogus in [Hash::digest(b"elsewhere"), log[1].0.hash()] {
        let forged = Entry::sign(
            &key_pair,
            &UnsignedEntry {
                lipmaa_link: Some(bogus),
                ..fields(fourth)
            },
        )
        .unwrap();
        refused(&mut store, forged.bytes(), payload, |e| {
            *e == StoreError::Invalid(LogError::LipmaaMismatch)
        });
    }
    assert_eq!(store.insert(fourth.bytes(), payload), Ok(Inserted::New));
}

#[test]
fn a_sequence_gap_is_refused() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 5);
    let mut store = store_with(&log, 2);
    for (entry, payload) in &log[3..] {
        refused(&mut store, entry.bytes(), payload, |e| {
            *e == StoreError::SeqGap {
                height: 2,
                got: entry.seq_num(),
            }
        });
    }
    let mut empty = MemoryStore::new();
    refused(&mut empty, log[1].0.bytes(), &log[1].1, |e| {
        *e == StoreError::SeqGap { height: 0, got: 2 }
    });
}

#[test]
fn an_oversized_payload_is_refused_at_publishing_and_on_arrival() {
    let key_pair = KeyPair::generate();
    let key = key_of(&key_pair);
    let mut store = MemoryStore::new();
    let too_large = vec![7u8; MAX_PAYLOAD_SIZE + 1];
    let before = store.clone();
    assert_eq!(
        store.publish(&key_pair, LOG_ID, &too_large),
        Err(StoreError::Invalid(LogError::PayloadTooLarge(
            MAX_PAYLOAD_SIZE as u64 + 1
        )))
    );
    assert_eq!(store, before);
    assert_eq!(
        Entry::publish(&key_pair, LOG_ID, &too_large, None, None),
        Err(LogError::PayloadTooLarge(MAX_PAYLOAD_SIZE as u64 + 1))
    );
    // The bound itself is fine.
    let largest = vec![7u8; MAX_PAYLOAD_SIZE];
    store.publish(&key_pair, LOG_ID, &largest).unwrap();
    assert_eq!(store.height(key), 1);

    // An entry claiming more, signed by a publisher that skips the check.
    let previous = store.get(key, 1).unwrap().entry.clone();
    for size in [MAX_PAYLOAD_SIZE as u64 + 1, u64::MAX] {
        let unsigned = UnsignedEntry {
            log_id: LOG_ID,
            seq_num: 2,
            backlink: Some(previous.hash()),
            lipmaa_link: None,
            payload_hash: Hash::digest(&too_large),
            payload_size: size,
            is_end_of_feed: false,
        };
        assert_eq!(
            Entry::sign(&key_pair, &unsigned),
            Err(LogError::PayloadTooLarge(size))
        );
        let bytes = raw_entry(&key_pair, &unsigned);
        assert_eq!(Entry::decode(&bytes), Err(LogError::PayloadTooLarge(size)));
        refused(&mut store, &bytes, &too_large, |e| {
            *e == StoreError::Invalid(LogError::PayloadTooLarge(size))
        });
    }
}

#[test]
fn a_fork_is_recorded_as_evidence_and_freezes_the_log() {
    let key_pair = KeyPair::generate();
    let key = key_of(&key_pair);
    let log = chain(&key_pair, 4);
    let mut store = store_with(&log, 3);
    let kept_entries = store.entries_after(key, 0).to_vec();

    // The author signs a different entry 2.
    let fork_payload = b"a different second operation".to_vec();
    let fork = Entry::publish(&key_pair, LOG_ID, &fork_payload, Some(&log[0].0), None).unwrap();
    assert_eq!(fork.seq_num(), 2);
    assert_ne!(fork.hash(), log[1].0.hash());

    // A conflicting entry whose signature does not verify is no evidence: just invalid.
    let mut unsigned_fork = fork.bytes().to_vec();
    *unsigned_fork.last_mut().unwrap() ^= 1;
    refused(&mut store, &unsigned_fork, &fork_payload, |e| {
        *e == StoreError::Invalid(LogError::BadSignature)
    });
    assert!(store.forks().is_empty());

    assert_eq!(
        store.insert(fork.bytes(), &fork_payload),
        Err(StoreError::Fork { seq_num: 2 })
    );
    assert_eq!(
        store.forks(),
        &[ForkEvidence {
            log: key,
            seq_num: 2,
            kept: log[1].0.hash(),
            conflicting: fork.bytes().to_vec(),
        }]
    );
    // The evidence stands on its own: the conflicting bytes are the author's, at the same place.
    let evidence = Entry::decode(&store.forks()[0].conflicting).unwrap();
    evidence.verify_signature().unwrap();
    assert_eq!(
        (evidence.author(), evidence.log_id(), evidence.seq_num()),
        (key.author, LOG_ID, 2)
    );
    assert_eq!(store.frozen_at(key), Some(2));

    // Existing entries are untouched; the log takes nothing more.
    assert_eq!(store.entries_after(key, 0), &kept_entries[..]);
    assert_eq!(store.height(key), 3);
    let frozen = StoreError::Frozen(2);
    refused(&mut store, log[3].0.bytes(), &log[3].1, |e| *e == frozen);
    let before = store.clone();
    assert_eq!(store.publish(&key_pair, LOG_ID, b"more"), Err(frozen));
    assert_eq!(store, before);
    // What it has is still served, and a second copy of the same evidence is not kept twice.
    assert_eq!(
        store.insert(log[1].0.bytes(), &log[1].1),
        Ok(Inserted::Duplicate)
    );
    assert_eq!(
        store.insert(fork.bytes(), &fork_payload),
        Err(StoreError::Fork { seq_num: 2 })
    );
    assert_eq!(store, before);
    assert_eq!(store.forks().len(), 1);

    // A fork further back moves the freeze back.
    let other_first = Entry::publish(&key_pair, LOG_ID, b"another start", None, None).unwrap();
    assert_eq!(
        store.insert(other_first.bytes(), b"another start"),
        Err(StoreError::Fork { seq_num: 1 })
    );
    assert_eq!(store.frozen_at(key), Some(1));
    assert_eq!(store.forks().len(), 2);
    assert_eq!(store.entries_after(key, 0), &kept_entries[..]);
}

#[test]
fn another_author_cannot_continue_a_log() {
    let alice = KeyPair::generate();
    let mallory = KeyPair::generate();
    let log = chain(&alice, 2);
    let mut store = store_with(&log, 1);
    let (alice_first, _) = &log[0];
    let payload = b"mallory's operation".to_vec();

    // Publishing on top of someone else's entry is refused.
    assert_eq!(
        Entry::publish(&mallory, LOG_ID, &payload, Some(alice_first), None),
        Err(LogError::LinkFromOtherLog)
    );

    // Mallory's own entry linking to Alice's: in Mallory's log it does not follow anything, and
    // Alice's entry is no backlink for it.
    let linked = Entry::sign(
        &mallory,
        &UnsignedEntry {
            log_id: LOG_ID,
            seq_num: 2,
            backlink: Some(alice_first.hash()),
            lipmaa_link: None,
            payload_hash: Hash::digest(&payload),
            payload_size: payload.len() as u64,
            is_end_of_feed: false,
        },
    )
    .unwrap();
    refused(&mut store, linked.bytes(), &payload, |e| {
        *e == StoreError::SeqGap { height: 0, got: 2 }
    });
    assert_eq!(
        linked.verify(Some(&payload), Some(alice_first), None),
        Err(LogError::LinkFromOtherLog)
    );

    // An entry naming Alice as its author but signed by Mallory: a bad signature, whether it
    // continues the log or conflicts with an entry Alice has (no false fork evidence).
    for (seq, previous) in [(2, Some(alice_first)), (1, None)] {
        let unsigned = UnsignedEntry {
            log_id: LOG_ID,
            seq_num: seq,
            backlink: previous.map(|p| p.hash()),
            lipmaa_link: None,
            payload_hash: Hash::digest(&payload),
            payload_size: payload.len() as u64,
            is_end_of_feed: false,
        };
        let alices = raw_entry(&alice, &unsigned);
        let (signed, _) = alices.split_at(alices.len() - 64);
        let forged = [signed, &mallory.sign(signed)[..]].concat();
        assert_eq!(Entry::decode(&forged).unwrap().author(), alice.public_key());
        refused(&mut store, &forged, &payload, |e| {
            *e == StoreError::Invalid(LogError::BadSignature)
        });
        assert!(store.forks().is_empty());
    }
    assert_eq!(store.height(key_of(&alice)), 1);
    assert_eq!(store.height(key_of(&mallory)), 0);
}

#[test]
fn an_entry_after_the_end_of_feed_is_refused() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 1);
    let mut store = store_with(&log, 1);
    let last_payload = b"goodbye".to_vec();
    let last = Entry::sign(
        &key_pair,
        &UnsignedEntry {
            log_id: LOG_ID,
            seq_num: 2,
            backlink: Some(log[0].0.hash()),
            lipmaa_link: None,
            payload_hash: Hash::digest(&last_payload),
            payload_size: last_payload.len() as u64,
            is_end_of_feed: true,
        },
    )
    .unwrap();
    assert_eq!(store.insert(last.bytes(), &last_payload), Ok(Inserted::New));
    assert_eq!(
        store.publish(&key_pair, LOG_ID, b"after the end"),
        Err(StoreError::Invalid(LogError::AfterEndOfFeed))
    );
    let after = Entry::sign(
        &key_pair,
        &UnsignedEntry {
            log_id: LOG_ID,
            seq_num: 3,
            backlink: Some(last.hash()),
            lipmaa_link: None,
            payload_hash: Hash::digest(b"after the end"),
            payload_size: 13,
            is_end_of_feed: false,
        },
    )
    .unwrap();
    refused(&mut store, after.bytes(), b"after the end", |e| {
        *e == StoreError::Invalid(LogError::AfterEndOfFeed)
    });
}

#[test]
fn garbage_and_empty_input_are_refused() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 2);
    let mut store = store_with(&log, 1);
    refused(&mut store, &[], &[], malformed);
    refused(&mut store, &[], &log[1].1, malformed);
    refused(&mut store, b"hello", b"", malformed);
    refused(&mut store, &[0u8; 100], b"", |e| {
        // The all-zero author is a valid (small-order) point: what fails is seq 0.
        malformed(e)
    });
    refused(&mut store, &[0xff; 200], b"", malformed);
    refused(&mut store, &vec![0u8; MAX_ENTRY_SIZE + 1], b"", |e| {
        *e == StoreError::Invalid(LogError::EntryTooLarge(MAX_ENTRY_SIZE + 1))
    });
    // A valid entry glued to garbage, and twice over.
    let (second, payload) = &log[1];
    let glued = [second.bytes(), b"garbage"].concat();
    refused(&mut store, &glued, payload, |e| {
        *e == StoreError::Invalid(LogError::NonCanonical)
    });
    let twice = [second.bytes(), second.bytes()].concat();
    refused(&mut store, &twice, payload, |e| {
        matches!(
            e,
            StoreError::Invalid(LogError::NonCanonical | LogError::EntryTooLarge(_))
        )
    });
}

/// The compressed Edwards identity: a valid point of small order (a "weak" key).
const IDENTITY_POINT: [u8; 32] = {
    let mut point = [0u8; 32];
    point[0] = 1;
    point
};

#[test]
fn an_entry_with_a_bad_public_key_is_refused() {
    let key_pair = KeyPair::generate();
    let log = chain(&key_pair, 1);
    let (entry, payload) = &log[0];
    let mut store = MemoryStore::new();

    // Author bytes that are no curve point at all.
    let not_a_point = (0u8..=255)
        .map(|b| [b; 32])
        .find(|candidate| p2panda_core::identity::PublicKey::from_bytes(candidate).is_err())
        .expect("some repeated byte is not a point");
    let mut bytes = entry.bytes().to_vec();
    bytes[1..33].copy_from_slice(&not_a_point);
    assert!(matches!(Entry::decode(&bytes), Err(LogError::Malformed(_))));
    refused(&mut store, &bytes, payload, malformed);

    // The small-order identity point as author, with the signature (R = identity, s = 0) that
    // satisfies the plain ed25519 equation for every message: a universal forgery that
    // bamboo-rs-core's own (dalek 1, non-strict) check accepts. Strict verification refuses it,
    // in its canonical encoding and in the non-canonical one with the sign bit set.
    let mut negative_zero = IDENTITY_POINT;
    negative_zero[31] |= 0x80;
    for author in [IDENTITY_POINT, negative_zero] {
        let mut forged = entry.bytes().to_vec();
        forged[1..33].copy_from_slice(&author);
        let len = forged.len();
        forged[len - 64..].fill(0);
        forged[len - 64] = 1;
        let bamboo = bamboo_rs_core::decode(&forged).unwrap();
        assert!(
            bamboo.verify_signature().is_ok(),
            "the forgery should fool the non-strict check"
        );
        let decoded = Entry::decode(&forged).unwrap();
        assert_eq!(decoded.verify_signature(), Err(LogError::BadSignature));
        refused(&mut store, &forged, payload, |e| {
            *e == StoreError::Invalid(LogError::BadSignature)
        });
    }
    assert!(store.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Property: nothing panics, and nothing but the original bytes is ever stored.

struct Fixture {
    log: Vec<(Entry, Vec<u8>)>,
    /// `stores[i]` holds the first `i` entries of `log`.
    stores: Vec<MemoryStore>,
}

const FIXTURE_LEN: usize = 6;

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let log = chain(&KeyPair::generate(), FIXTURE_LEN as u64);
        let stores = (0..=FIXTURE_LEN).map(|h| store_with(&log, h)).collect();
        Fixture { log, stores }
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize),
    SetByte(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
    Append(Vec<u8>),
}

impl Mutation {
    fn apply(&self, bytes: &mut Vec<u8>) {
        // Positions are taken modulo the current length.
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
        match *self {
            Mutation::FlipBit(bit) if !bytes.is_empty() => {
                let bit = at(bit, bytes.len() * 8);
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
            Mutation::SetByte(i, value) if !bytes.is_empty() => {
                let i = at(i, bytes.len());
                bytes[i] = value;
            }
            Mutation::Insert(i, value) => {
                let i = at(i, bytes.len() + 1);
                bytes.insert(i, value);
            }
            Mutation::Remove(i) if !bytes.is_empty() => {
                let i = at(i, bytes.len());
                bytes.remove(i);
            }
            Mutation::Truncate(len) => {
                let len = at(len, bytes.len() + 1);
                bytes.truncate(len);
            }
            Mutation::Append(ref tail) => bytes.extend_from_slice(tail),
            _ => {}
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => any::<usize>().prop_map(Mutation::FlipBit),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::SetByte(i, v)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, v)| Mutation::Insert(i, v)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => prop::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Append),
    ]
}

/// Insert `bytes` into a copy of `store` and check the property.
fn insert_checked(
    store: &MemoryStore,
    bytes: &[u8],
    payload: &[u8],
    original: Option<&(Entry, Vec<u8>)>,
) -> Result<(), TestCaseError> {
    let decoded = Entry::decode(bytes);
    let mut after = store.clone();
    match after.insert(bytes, payload) {
        Ok(Inserted::New) => {
            let (entry, original_payload) =
                original.ok_or_else(|| TestCaseError::fail("random bytes were stored"))?;
            prop_assert_eq!(bytes, entry.bytes());
            prop_assert_eq!(payload, &original_payload[..]);
            prop_assert_eq!(after.len(), store.len() + 1);
        }
        Ok(Inserted::Duplicate) => {
            // Only the bytes of an entry already stored are a duplicate.
            let entry = decoded.map_err(|e| TestCaseError::fail(e.to_string()))?;
            let stored = store
                .get_by_hash(&entry.hash())
                .ok_or_else(|| TestCaseError::fail("duplicate of nothing"))?;
            prop_assert_eq!(stored.entry.bytes(), bytes);
            prop_assert_eq!(&after, store);
        }
        Err(error) => {
            // Forging a signature by mutation is out of reach, so there is never fork evidence.
            prop_assert!(
                !matches!(error, StoreError::Fork { .. }),
                "fork from a mutation"
            );
            prop_assert_eq!(&after, store);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic_and_are_never_stored(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        payload in prop::collection::vec(any::<u8>(), 0..40),
        height in 0..=FIXTURE_LEN,
    ) {
        let fixture = fixture();
        insert_checked(&fixture.stores[height], &bytes, &payload, None)?;
    }

    #[test]
    fn mutated_entries_never_panic_and_are_stored_only_when_unchanged(
        index in 0..FIXTURE_LEN,
        mutations in prop::collection::vec(mutation(), 1..4),
        payload_mutations in prop::collection::vec(mutation(), 0..2),
    ) {
        let fixture = fixture();
        let original = &fixture.log[index];
        let mut bytes = original.0.bytes().to_vec();
        for m in &mutations {
            m.apply(&mut bytes);
        }
        let mut payload = original.1.clone();
        for m in &payload_mutations {
            m.apply(&mut payload);
        }
        // Offered where it would be the next entry, and to a store that already has it.
        insert_checked(&fixture.stores[index], &bytes, &payload, Some(original))?;
        insert_checked(&fixture.stores[FIXTURE_LEN], &bytes, &payload, Some(original))?;
    }
}
