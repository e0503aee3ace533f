//! What the S3 mailbox module (`mailbox.js`, a separate WebAssembly module loaded only by apps
//! that use a mailbox) needs of the node: a festival's logs and heights, their entries, and a
//! way in for downloaded bundles. The planning, sealing and opening stay in that module, so the
//! node's package does not grow for apps without S3.

use js_sys::{Array, Uint8Array};
use p2panda_core::mailbox::{creation_log, ingest_bundle, Bundle, EntryError};
use p2panda_core::secret::SecretKey;
use p2panda_core::store::LogKey;
use wasm_bindgen::{JsCast, JsValue};

use super::calls::{parse_key, Args};
use super::shapes::string;
use super::{BrowserNode, NodeError};

fn log_arg(args: &mut Args) -> Result<LogKey, NodeError> {
    let author: String = args.take("author")?;
    let log_id: i64 = args.take("logId")?;
    Ok(LogKey {
        author: parse_key(&author)?,
        log_id: u64::try_from(log_id)
            .map_err(|_| NodeError::InvalidArgument("logId: not negative".into()))?,
    })
}

impl BrowserNode {
    /// Run a `mailbox…` method for the mailbox module.
    pub(super) fn mailbox_call(&self, method: &str, args: &mut Args) -> Result<JsValue, NodeError> {
        let festival = args.id("festival")?;
        let mut core = self.core.borrow_mut();
        let replica = core.node.replica();
        let topic = replica
            .state()
            .topic_of_festival(festival)
            // Joined by id, nothing received yet: the mailbox may be where it comes from.
            .or_else(|| core.node.topics().contains(&festival).then_some(festival))
            .ok_or_else(|| NodeError::NotFound(format!("festival {festival}")))?;
        match method {
            // `[topic, key, older, creation author, creation log id, author, logId, height,
            // author, …]`: `key` the festival's current secret key (hex) if it is private and
            // this node holds it, else `null`; `older` the keys rotations replaced (the
            // creation log is forwarded to their mailboxes, see `OneLog`).
            "mailboxLogs" => {
                let keyring = &replica.private().keyring;
                let hex = |k: &SecretKey| string(&k.to_hex());
                let older: Array = keyring.older(&topic).into_iter().map(hex).collect();
                let logs = Array::of3(
                    &string(&topic.to_hex()),
                    &keyring.current(&topic).map_or(JsValue::NULL, hex),
                    &older,
                );
                let creation = creation_log(replica, topic);
                logs.push(&creation.map_or(JsValue::NULL, |l| string(&l.author.to_hex())));
                logs.push(&creation.map_or(JsValue::NULL, |l| (l.log_id as f64).into()));
                for (log, height) in p2panda_core::mailbox::LocalLogs::logs_of(replica, topic) {
                    logs.push(&string(&log.author.to_hex()));
                    logs.push(&(log.log_id as f64).into());
                    logs.push(&(height as f64).into());
                }
                Ok(logs.into())
            }
            // `[entry, payload, entry, payload, …]`: the entries of a log after a sequence
            // number.
            "mailboxEntries" => {
                let log = log_arg(args)?;
                let after: i64 = args.take("after")?;
                let list = Array::new();
                for s in replica
                    .store()
                    .entries_after(log, u64::try_from(after).unwrap_or(0))
                {
                    list.push(&Uint8Array::from(s.entry.bytes()));
                    list.push(&Uint8Array::from(s.payload.as_slice()));
                }
                Ok(list.into())
            }
            // Downloaded entries of a log from `first` on (`[entry, payload, …]`), verified and
            // stored like entries from a peer.
            "mailboxIngest" => {
                let log = log_arg(args)?;
                let first: i64 = args.take("first")?;
                let list = Array::from(&args.take::<JsValue>("entries")?);
                let mut bytes = Vec::new();
                for item in list.iter() {
                    let item: Uint8Array = item
                        .dyn_into()
                        .map_err(|_| NodeError::InvalidArgument("entries: Uint8Arrays".into()))?;
                    bytes.push(item.to_vec());
                }
                let mut bytes = bytes.into_iter();
                let bundle = Bundle {
                    log,
                    first: u64::try_from(first).unwrap_or(0),
                    entries: std::iter::from_fn(|| Some((bytes.next()?, bytes.next()?))).collect(),
                };
                let ingested = core
                    .node
                    .update(|replica, _| ingest_bundle(replica, topic, &bundle));
                ingested.stored.iter().for_each(|id| core.queue_save(id));
                let height = core.node.replica().store().height(log);
                drop(core);
                if !ingested.stored.is_empty() {
                    // Announced to peers now, saved with the next batch, as if synced.
                    self.pump();
                    self.save_later();
                }
                // `[stored, duplicates, height]`, and `code, seq, message` of the first entry
                // refused if one was.
                let result = Array::of3(
                    &(ingested.stored.len() as f64).into(),
                    &(ingested.duplicates as f64).into(),
                    &(height as f64).into(),
                );
                if let Some(r) = ingested.rejected.first() {
                    let code = match r.error {
                        EntryError::Invalid(_) => "INVALID_ENTRY",
                        EntryError::OutsideFestival => "OUTSIDE_FESTIVAL",
                        EntryError::Misplaced => "MISPLACED_ENTRY",
                    };
                    result.push(&code.into());
                    result.push(&(r.seq as f64).into());
                    result.push(&string(&r.error.to_string()));
                }
                Ok(result.into())
            }
            _ => Err(NodeError::UnknownMethod(method.to_string())),
        }
    }
}
