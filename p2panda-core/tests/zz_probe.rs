use p2panda_core::hash::Hash;
use p2panda_core::identity::KeyPair;
use p2panda_core::log::*;
#[test]
fn probe() {
    let kp = KeyPair::generate();
    let h = Hash::digest(b"x");
    let max = Entry::sign(&kp, &UnsignedEntry { log_id: 0, seq_num: u64::MAX, backlink: Some(h), lipmaa_link: Some(h), payload_hash: h, payload_size: 1, is_end_of_feed: false }).unwrap();
    let five = Entry::sign(&kp, &UnsignedEntry { log_id: 0, seq_num: 5, backlink: Some(h), lipmaa_link: Some(h), payload_hash: h, payload_size: 1, is_end_of_feed: false }).unwrap();
    let r = std::panic::catch_unwind(|| five.verify(None, Some(&max), None));
    println!("verify with seq-max backlink: {r:?}");
    let r = std::panic::catch_unwind(|| Entry::publish(&kp, 0, b"a", Some(&max), None));
    println!("publish after seq-max: {:?}", r.map(|r| r.map(|e| e.seq_num())));
}
