//! S3 store-and-forward for p2panda in browsers: the planning, sealing and opening of
//! `p2panda_core::mailbox`, as a WebAssembly module of its own. `mailbox.js` loads it only when
//! an app opens a mailbox, so apps without S3 do not download it; it moves the bytes (signed
//! `fetch`) and asks the node (in its Worker) for the festival's logs and to store downloads.
//!
//! A [`Planner`] is one festival's mailbox as one writer instance and reader, for as long as the
//! page keeps it. Nothing here panics on input from JavaScript: malformed arguments are errors
//! with a `code`, refused objects come back as `{code, name, message}`.

use std::collections::HashSet;

use js_sys::{Array, Reflect, Uint8Array};
use p2panda_core::festival::Topic;
use p2panda_core::identity::PublicKey;
use p2panda_core::mailbox::{
    Assembler, GetObject, ListedObject, LogSnapshot, MailboxError, MailboxKey, MailboxState,
    ObjectName, PutObject, MAX_OBJECT_SIZE,
};
use p2panda_core::secret::SecretKey;
use p2panda_core::store::LogKey;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A JS `Error` with a stable `code`.
fn error(code: &str, message: impl Into<String>) -> JsValue {
    let error = js_sys::Error::new(&message.into());
    let _ = Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

fn invalid(message: impl Into<String>) -> JsValue {
    error("INVALID_ARGUMENT", message)
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&object, &(*name).into(), value);
    }
    object.into()
}

/// A refused object: `{code, name, message}`.
fn refused(error: &MailboxError) -> JsValue {
    let code = match error {
        MailboxError::WrongName(_) => "MAILBOX_WRONG_NAME",
        MailboxError::TooLarge { .. } => "MAILBOX_TOO_LARGE",
        MailboxError::WrongKey { .. } => "MAILBOX_WRONG_KEY",
        MailboxError::Corrupted { .. } => "MAILBOX_CORRUPTED",
        MailboxError::Malformed { .. } => "MAILBOX_MALFORMED",
    };
    object(&[
        ("code", code.into()),
        ("name", error.name().into()),
        ("message", error.to_string().into()),
    ])
}

fn log_key(author: &str, log_id: f64) -> Result<LogKey, JsValue> {
    let author: PublicKey = author
        .parse()
        .map_err(|_| invalid("author: a public key in hex"))?;
    if !(0.0..=9_007_199_254_740_991.0).contains(&log_id) || log_id.fract() != 0.0 {
        return Err(invalid("logId: a safe non-negative integer"));
    }
    Ok(LogKey {
        author,
        log_id: log_id as u64,
    })
}

fn number(value: JsValue, what: &str) -> Result<f64, JsValue> {
    value
        .as_f64()
        .ok_or_else(|| invalid(format!("{what}: a number")))
}

/// `[author, logId, n, author, logId, n, …]` as (log, n) pairs.
fn log_triples(flat: &Array) -> Result<Vec<(LogKey, u64)>, JsValue> {
    let values: Vec<JsValue> = flat.to_vec();
    values
        .chunks(3)
        .map(|t| {
            let [author, log_id, n] = t else {
                return Err(invalid("logs: triples of author, logId and a number"));
            };
            let author = author.as_string().ok_or_else(|| invalid("author: hex"))?;
            let log = log_key(&author, number(log_id.clone(), "logId")?)?;
            Ok((log, number(n.clone(), "height")? as u64))
        })
        .collect()
}

fn log_triples_js(pairs: &[(LogKey, u64)]) -> Array {
    let flat = Array::new();
    for (log, n) in pairs {
        flat.push(&log.author.to_hex().into());
        flat.push(&(log.log_id as f64).into());
        flat.push(&(*n as f64).into());
    }
    flat
}

/// Entries with their payloads.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// `[entry, payload, entry, payload, …]` as pairs of bytes.
fn entry_pairs(flat: &Array) -> Result<Entries, JsValue> {
    let mut bytes = Vec::new();
    for item in flat.iter() {
        let item: Uint8Array = item
            .dyn_into()
            .map_err(|_| invalid("entries: Uint8Arrays"))?;
        bytes.push(item.to_vec());
    }
    if bytes.len() % 2 != 0 {
        return Err(invalid("entries: entry and payload in turn"));
    }
    let mut bytes = bytes.into_iter();
    Ok(std::iter::from_fn(|| Some((bytes.next()?, bytes.next()?))).collect())
}

fn put_js(put: &PutObject) -> JsValue {
    object(&[
        ("name", put.name.as_str().into()),
        ("bytes", Uint8Array::from(put.bytes.as_slice()).into()),
        ("entries", (put.entries as f64).into()),
    ])
}

/// One festival's mailbox, as one writer instance and reader.
#[wasm_bindgen]
pub struct Planner {
    key: MailboxKey,
    state: MailboxState,
    /// The node's logs of the festival, as last told ([`Planner::set_logs`]).
    logs: LogSnapshot,
    /// Bundles waiting for the ones before them, within a pull.
    assembler: Assembler,
    /// Bundles tried in this pull (so it ends), and puts handed out, waiting for their report.
    tried: HashSet<ObjectName>,
    puts: Vec<PutObject>,
}

#[wasm_bindgen]
impl Planner {
    /// The mailbox of festival topic `topic` (hex); `key`: the festival's secret key (hex) if it
    /// is private. Members of one festival make the same mailbox.
    #[wasm_bindgen(constructor)]
    pub fn new(topic: &str, key: Option<String>) -> Result<Planner, JsValue> {
        let topic: Topic = topic.parse().map_err(|_| invalid("topic: a hex id"))?;
        let key = match key {
            Some(hex) => {
                let secret = SecretKey::from_hex(&hex).map_err(|e| invalid(format!("key: {e}")))?;
                MailboxKey::private(topic, &secret)
            }
            None => MailboxKey::public(topic),
        };
        Ok(Planner {
            assembler: Assembler::new(key.topic()),
            key,
            state: MailboxState::new(),
            logs: LogSnapshot::default(),
            tried: HashSet::new(),
            puts: Vec::new(),
        })
    }

    /// This writer's own part (index name, generation, what it uploaded), to keep for the next
    /// start: going on as the same writer keeps one index object in the bucket.
    #[wasm_bindgen(js_name = writerState)]
    pub fn writer_state(&self) -> Vec<u8> {
        self.state.writer_state()
    }

    /// Go on as a writer saved with `writerState` (before the first push or pull). Returns
    /// whether it was taken: damaged state is ignored, and this stays a new writer.
    #[wasm_bindgen(js_name = resumeWriter)]
    pub fn resume_writer(&mut self, saved: &[u8]) -> bool {
        match self.state.clone().with_writer_state(saved) {
            Ok(state) => {
                self.state = state;
                true
            }
            Err(_) => false,
        }
    }

    /// Where indexes are (a name prefix, relative to the mailbox's prefix in the bucket).
    #[wasm_bindgen(getter, js_name = indexesPrefix)]
    pub fn indexes_prefix(&self) -> String {
        self.key.indexes_prefix()
    }

    /// Where bundles are.
    #[wasm_bindgen(getter, js_name = bundlesPrefix)]
    pub fn bundles_prefix(&self) -> String {
        self.key.bundles_prefix()
    }

    /// The largest object to download: a GET of more is refused unread.
    #[wasm_bindgen(getter, js_name = maxObjectSize)]
    pub fn max_object_size(&self) -> f64 {
        MAX_OBJECT_SIZE as f64
    }

    /// The node's logs of the festival: `[author, logId, height, …]`.
    #[wasm_bindgen(js_name = setLogs)]
    pub fn set_logs(&mut self, logs: &Array) -> Result<(), JsValue> {
        self.logs = LogSnapshot::new(log_triples(logs)?);
        Ok(())
    }

    /// Indexes to GET, from a LIST of `indexesPrefix` (names and ETags, `null` if unknown).
    #[wasm_bindgen(js_name = indexReads)]
    pub fn index_reads(&mut self, names: Vec<String>, etags: &Array) -> Vec<String> {
        let listed: Vec<ListedObject> = names
            .into_iter()
            .enumerate()
            .map(|(i, name)| ListedObject {
                name,
                etag: etags.get(i as u32).as_string(),
            })
            .collect();
        let gets = self.state.plan_index_reads(&self.key, &listed);
        gets.into_iter().map(|g| g.name).collect()
    }

    /// A downloaded index. Returns `null`, or the refusal.
    #[wasm_bindgen(js_name = takeIndex)]
    pub fn take_index(&mut self, name: String, etag: Option<String>, bytes: &[u8]) -> JsValue {
        let taken = self
            .get(name)
            .and_then(|get| self.state.accept_index(&self.key, &get, etag, bytes));
        match taken {
            Ok(_) => JsValue::NULL,
            Err(error) => refused(&error),
        }
    }

    /// The logs whose entries the bucket lacks, and how far it holds each:
    /// `[author, logId, after, …]`. Hand their entries to `addEntries`, then `planUpload`.
    #[wasm_bindgen(js_name = uploadNeeds)]
    pub fn upload_needs(&self) -> Array {
        log_triples_js(&self.state.upload_needs(&self.key, &self.logs))
    }

    /// The entries of a log after `after` (`[entry, payload, …]`), from the node.
    #[wasm_bindgen(js_name = addEntries)]
    pub fn add_entries(
        &mut self,
        author: &str,
        log_id: f64,
        after: f64,
        entries: &Array,
    ) -> Result<(), JsValue> {
        let log = log_key(author, log_id)?;
        self.logs
            .add_entries(log, after as u64, entry_pairs(entries)?);
        Ok(())
    }

    /// The sealed bundles to PUT: `[{name, bytes, entries}]`.
    #[wasm_bindgen(js_name = planUpload)]
    pub fn plan_upload(&mut self) -> Array {
        self.puts = self.state.plan_upload(&self.key, &self.logs);
        let list = self.puts.iter().map(put_js).collect();
        // The bytes went to the page; the entries loaded for this push are not needed again.
        self.puts.iter_mut().for_each(|p| p.bytes = Vec::new());
        self.logs.forget_entries();
        list
    }

    /// The bundles of `names` are stored. Returns this writer's index to PUT next (`{name,
    /// bytes}`), or `null` when it is up to date.
    pub fn uploaded(&mut self, names: Vec<String>) -> JsValue {
        for put in self.puts.iter().filter(|p| names.contains(&p.name)) {
            self.state.uploaded(put);
        }
        self.puts.clear();
        let index = self.state.plan_index(&self.key, false);
        let js = index.as_ref().map_or(JsValue::NULL, put_js);
        self.puts.extend(index);
        js
    }

    /// The index from `uploaded` is stored.
    #[wasm_bindgen(js_name = indexUploaded)]
    pub fn index_uploaded(&mut self) {
        for put in self.puts.drain(..) {
            self.state.index_uploaded(&put);
        }
    }

    /// Bundles to GET. A pull starts with `fresh` (and, now and then, `listed`: every name
    /// under `bundlesPrefix`, which also finds bundles no index names), then calls this again
    /// after taking what it got, until it returns nothing.
    #[wasm_bindgen(js_name = planDownload)]
    pub fn plan_download(&mut self, listed: Option<Vec<String>>, fresh: bool) -> Vec<String> {
        let full = listed.is_some();
        let listed: Vec<ListedObject> = listed
            .unwrap_or_default()
            .into_iter()
            .map(|name| ListedObject { name, etag: None })
            .collect();
        if full {
            self.state.forget_unlisted(&self.key, &listed);
        }
        if fresh || full {
            self.tried.clear();
            self.assembler = Assembler::new(self.key.topic());
        }
        let gets = self
            .state
            .plan_download(&self.key, &self.logs, &listed, &self.tried);
        self.tried.extend(gets.iter().map(|g| g.object));
        gets.into_iter().map(|g| g.name).collect()
    }

    /// A downloaded bundle (`bytes`), or `null` for one that was gone. Returns `null`, or the
    /// refusal (`{code, name, message}`; `MAILBOX_MISSING` for a bundle that was gone).
    #[wasm_bindgen(js_name = takeBundle)]
    pub fn take_bundle(&mut self, name: String, bytes: Option<Vec<u8>>) -> JsValue {
        let get = match self.get(name) {
            Ok(get) => get,
            Err(error) => return refused(&error),
        };
        let Some(bytes) = bytes else {
            self.state.mark_bad(&get);
            return object(&[
                ("code", "MAILBOX_MISSING".into()),
                ("name", get.name.into()),
                ("message", "the bundle is no longer in the bucket".into()),
            ]);
        };
        match self.state.accept_bundle(&self.key, &get, &bytes) {
            Ok(bundle) => {
                self.assembler.add(bundle);
                JsValue::NULL
            }
            Err(error) => refused(&error),
        }
    }

    /// The next downloaded bundle that continues what the node holds, for the node to store:
    /// `{author, logId, first, entries: [entry, payload, …]}`, or `null`. Report the log's new
    /// height with `setHeight`.
    #[wasm_bindgen(js_name = nextReady)]
    pub fn next_ready(&mut self) -> JsValue {
        let Some(bundle) = self.assembler.next_ready(&self.logs) else {
            return JsValue::NULL;
        };
        let entries = Array::new();
        for (entry, payload) in &bundle.entries {
            entries.push(&Uint8Array::from(entry.as_slice()));
            entries.push(&Uint8Array::from(payload.as_slice()));
        }
        object(&[
            ("author", bundle.log.author.to_hex().into()),
            ("logId", (bundle.log.log_id as f64).into()),
            ("first", (bundle.first as f64).into()),
            ("entries", entries.into()),
        ])
    }

    /// How far the node holds a log now.
    #[wasm_bindgen(js_name = setHeight)]
    pub fn set_height(&mut self, author: &str, log_id: f64, height: f64) -> Result<(), JsValue> {
        let log = log_key(author, log_id)?;
        self.logs.set_height(log, height as u64);
        Ok(())
    }

    /// Bundles this planner knows in the bucket.
    #[wasm_bindgen(getter, js_name = knownBundles)]
    pub fn known_bundles(&self) -> f64 {
        self.state.known_bundles() as f64
    }
}

impl Planner {
    fn get(&self, name: String) -> Result<GetObject, MailboxError> {
        match self.key.parse_name(&name) {
            Some(object) => Ok(GetObject { name, object }),
            None => Err(MailboxError::WrongName(name)),
        }
    }
}
