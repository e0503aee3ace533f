//! The hand-written conversions against what serde-wasm-bindgen made of the shapes' serde
//! attributes (the node's conversions before): the same JS values are read to the same shapes
//! and refused alike, and results are written alike, except that the ES `Map`s serde wrote for
//! flattened fields are now the plain objects `index.d.ts` promises.
//!
//! Left out on purpose, where the hand-written reading is stricter than serde's: a resource kind,
//! policy or coordinates given as an array or ES `Map`, a kind's `type` given as a variant number,
//! a decision given as `{ grant: null }`.

use std::fmt::Debug;

use js_sys::{Array, Function, JSON};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

use super::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The values of a JS array literal's elements (`source` without the brackets).
fn values(source: &str) -> Vec<JsValue> {
    Function::new_no_args(&format!("return [{source}];"))
        .call0(&JsValue::NULL)
        .expect("the test's JS source runs")
        .unchecked_into::<Array>()
        .to_vec()
}

/// Read every value of `corpus` both ways; both must accept it as the same shape, or refuse it.
fn reads_like_serde<T: FromJs + DeserializeOwned + PartialEq + Debug>(corpus: &str) {
    let (mut accepted, mut refused) = (0, 0);
    for value in values(corpus) {
        let serde: Result<T, _> = serde_wasm_bindgen::from_value(value.clone());
        let by_hand = T::from_js(value.clone());
        assert_eq!(
            by_hand.as_ref().ok(),
            serde.as_ref().ok(),
            "{value:?}: by hand {:?}, serde {:?}",
            by_hand.as_ref().err(),
            serde.as_ref().err().map(ToString::to_string),
        );
        match by_hand {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

/// JSON of `value` with ES `Map`s turned into plain objects.
fn json(value: &JsValue) -> String {
    let plain = Function::new_with_args(
        "v",
        "const p = (v) => v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, p(x)]))
           : Array.isArray(v) ? v.map(p)
           : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, p(x)]))
           : v;
         return p(v);",
    )
    .call1(&JsValue::NULL, value)
    .expect("plain");
    JSON::stringify(&plain)
        .expect("JSON")
        .as_string()
        .unwrap_or_default()
}

fn writes_like_serde<T: ToJs + Serialize>(value: &T) {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    let serde = value.serialize(&serializer).expect("serde writes it");
    // Plain JSON of the hand-written value: an ES `Map` in it would read as `{}`.
    let by_hand = JSON::stringify(&value.to_js())
        .expect("JSON")
        .as_string()
        .unwrap_or_default();
    assert_eq!(by_hand, json(&serde));
}

const NOT_OBJECTS: &str = "null, undefined, 5, 'text', true, 2n, [],";

#[wasm_bindgen_test]
fn scalars_read_like_serde() {
    let numbers = "0, 1, -7, 1.5, NaN, Infinity, 2 ** 53, 2 ** 53 - 1, -(2 ** 53) + 1, 4294967295,
        4294967296, '1', null, undefined, true, 3n, -3n, 2n ** 63n, 2n ** 63n - 1n, [], {}";
    reads_like_serde::<Millis>(numbers);
    reads_like_serde::<Option<Millis>>(numbers);
    reads_like_serde::<u32>(numbers);
    let strings = "'', 'abc', '\u{1F43C}', 5, null, undefined, ['a'], {}, true";
    reads_like_serde::<String>(strings);
    reads_like_serde::<Option<String>>(strings);
    reads_like_serde::<Vec<String>>(
        "[], ['a', 'b'], new Set(['a']), ['a', 5], 'ab', null, undefined, {}, {length: 1, 0: 'a'}",
    );
}

#[wasm_bindgen_test]
fn kinds_and_policies_read_like_serde() {
    reads_like_serde::<KindJs>(&format!(
        "{NOT_OBJECTS}
        {{type: 'location'}}, {{type: 'location', address: 'Field 3'}},
        {{type: 'location', address: null, geo: undefined, url: null}},
        {{type: 'location', geo: {{lat: 53.1, lon: 12.9}}}}, {{type: 'location', geo: {{lat: 1, lon: 2n}}}},
        {{type: 'location', geo: {{lat: 1}}}}, {{type: 'location', geo: {{lat: 1, lon: 2, alt: 3}}}},
        {{type: 'location', geo: {{lat: '1', lon: 2}}}}, {{type: 'location', geo: null}},
        {{type: 'location', geo: 5}}, {{type: 'location', url: 'https://x'}},
        {{type: 'location', extra: 1}}, {{type: 'location', address: 5}},
        {{type: 'item'}}, {{type: 'skill'}}, {{type: 'item', note: 'ignored'}}, {{type: 'stage'}},
        {{type: null}}, {{}}, {{address: 'x'}}, Object.create({{type: 'item'}}),"
    ));
    reads_like_serde::<PolicyJs>(
        "'fcfs', 'manual', 'lottery', '', {custom: 'lottery'}, {custom: 'x', other: 1},
        {custom: 5}, {custom: null}, {}, null, undefined, 5, true, []",
    );
    reads_like_serde::<Option<PolicyJs>>("'fcfs', {custom: 'c'}, null, undefined, 5, {}");
    reads_like_serde::<DecisionJs>("'grant', 'deny', 'Grant', 'maybe', '', 5, null, undefined");
}

#[wasm_bindgen_test]
fn festival_arguments_read_like_serde() {
    reads_like_serde::<FestivalInput>(&format!(
        "{NOT_OBJECTS}
        {{name: 'F'}}, {{name: 'F', description: 'd', parent: 'ab'}}, {{name: 'F', parent: null}},
        {{name: 'F', parent: undefined}}, {{name: 'F', description: undefined}},
        {{name: 'F', description: null}}, {{name: 5}}, {{}}, {{description: 'x'}},
        {{name: 'F', extra: 1}}, Object.create({{name: 'inherited'}}), {{name: 'F', parent: 7}},"
    ));
    reads_like_serde::<ForkInput>(&format!(
        "{NOT_OBJECTS} {{name: 'F'}}, {{name: 'F', description: 'd'}}, {{name: null}}, {{}},"
    ));
    reads_like_serde::<FestivalChanges>(&format!(
        "{NOT_OBJECTS} {{}}, {{name: 'N'}}, {{description: null}}, {{name: 5}}, {{other: 1}},"
    ));
    reads_like_serde::<ProfileInput>(&format!(
        "{NOT_OBJECTS} {{name: 'Ada'}}, {{name: ''}}, {{name: null}}, {{}}, {{name: 'A', x: 1}},"
    ));
}

#[wasm_bindgen_test]
fn resource_arguments_read_like_serde() {
    reads_like_serde::<ResourceInput>(&format!(
        "{NOT_OBJECTS}
        {{name: 'R', kind: {{type: 'item'}}}}, {{name: 'R', kind: {{type: 'item'}}, policy: 'fcfs'}},
        {{name: 'R', description: 'd', kind: {{type: 'skill'}}, policy: {{custom: 'c'}}}},
        {{name: 'R', kind: {{type: 'item'}}, policy: null}}, {{name: 'R', kind: {{type: 'item'}}, policy: 5}},
        {{name: 'R'}}, {{name: 'R', kind: null}}, {{name: 'R', kind: {{type: 'nope'}}}},
        {{kind: {{type: 'item'}}}},"
    ));
    reads_like_serde::<ResourceChanges>(&format!(
        "{NOT_OBJECTS}
        {{}}, {{kind: {{type: 'skill'}}}}, {{kind: null}}, {{kind: 5}}, {{policy: 'manual'}},
        {{policy: {{}}}}, {{name: 'N', description: 'D'}},"
    ));
}

#[wasm_bindgen_test]
fn event_arguments_read_like_serde() {
    reads_like_serde::<EventInput>(&format!(
        "{NOT_OBJECTS}
        {{title: 'T', start: 0, end: 1}}, {{title: 'T', start: 0, end: 1, resources: ['a', 'b']}},
        {{title: 'T', start: 0, end: 1, resources: new Set(['a'])}},
        {{title: 'T', start: 0, end: 1, resources: 'ab'}}, {{title: 'T', start: 0, end: 1, resources: [1]}},
        {{title: 'T', start: 0, end: 1, resources: null}}, {{title: 'T', start: 1.5, end: 2}},
        {{title: 'T', start: 2n, end: 3n}}, {{title: 'T', start: 2n ** 70n, end: 1}},
        {{title: 'T', start: 2 ** 60, end: 1}}, {{title: 'T', start: '1', end: 2}},
        {{title: 'T', start: -5, end: 2}}, {{title: 'T', end: 2}}, {{title: 'T', start: 0, end: 1, description: null}},"
    ));
    reads_like_serde::<EventChanges>(&format!(
        "{NOT_OBJECTS}
        {{}}, {{start: 5}}, {{start: null, end: undefined}}, {{resources: null}}, {{resources: ['x']}},
        {{title: 5}}, {{end: 1.5}},"
    ));
}

#[wasm_bindgen_test]
fn answers_read_like_serde() {
    reads_like_serde::<AuthorizationInput>(&format!(
        "{NOT_OBJECTS}
        {{event: 'e', resource: 'r', decision: 'grant'}},
        {{event: 'e', resource: 'r', decision: 'deny', reason: 'full', eventVersion: 'v'}},
        {{event: 'e', resource: 'r', decision: 'maybe'}}, {{event: 'e', resource: 'r', decision: 5}},
        {{event: 'e', resource: 'r'}}, {{event: 'e', resource: 'r', decision: 'grant', event_version: 'v'}},
        {{event: 'e', decision: 'grant'}},"
    ));
    reads_like_serde::<Option<VerdictJs>>(
        "null, undefined, {decision: 'grant'}, {decision: 'deny', reason: 'busy'},
        {decision: 'deny', reason: null}, {decision: 'x'}, {}, 5, 'grant'",
    );
}

#[wasm_bindgen_test]
fn queries_read_like_serde() {
    reads_like_serde::<QueryInput>(&format!(
        "{NOT_OBJECTS}
        {{by: 'time'}}, {{by: 'time', from: 0, to: 10, limit: 50, after: null}},
        {{by: 'resource', resource: 'ab', from: -5, to: 2n}}, {{by: 'owner', owner: 'k', status: 'pending'}},
        {{by: 'status', status: 'granted', resource: undefined, after: 'c'}}, {{by: 5}}, {{}},
        {{by: 'time', from: 1.5}}, {{by: 'time', limit: -1}}, {{by: 'time', limit: 2 ** 33}},
        {{by: 'time', after: 7}}, {{by: 'status', status: ['pending']}}, {{by: 'time', other: 1}},"
    ));
}

fn location(full: bool) -> KindJs {
    KindJs::Location {
        address: full.then(|| "Field 3".into()),
        geo: full.then_some(GeoJs {
            lat: 53.1,
            lon: -12.5,
        }),
        url: full.then(|| "https://example.invalid".into()),
    }
}

#[wasm_bindgen_test]
fn results_write_like_serde() {
    let festival = |parent: Option<&str>| FestivalJs {
        id: "f1".into(),
        name: "Fusion \"24\"".into(),
        description: "summer\nfield".into(),
        creator: "c".into(),
        parent: parent.map(Into::into),
        fork_of: Some("f0".into()),
        sub_festivals: vec!["s1".into(), "s2".into()],
        joined: true,
        pending: false,
        private: parent.is_some(),
    };
    writes_like_serde(&vec![
        festival(None),
        festival(Some("p")),
        FestivalJs::placeholder(Hash::digest(b"f"), true),
    ]);
    let resources: Vec<ResourceJs> = [location(true), location(false), KindJs::Item, KindJs::Skill]
        .into_iter()
        .zip([
            PolicyJs::Builtin("fcfs".into()),
            PolicyJs::Custom {
                custom: "lottery".into(),
            },
            PolicyJs::Builtin("manual".into()),
            PolicyJs::Builtin("manual".into()),
        ])
        .map(|(kind, policy)| ResourceJs {
            id: "r".into(),
            festival: "f".into(),
            owner: "o".into(),
            name: "Stage".into(),
            description: String::new(),
            kind,
            policy,
            deleted: false,
        })
        .collect();
    writes_like_serde(&resources);
    writes_like_serde(&None::<ResourceJs>);
    let statuses = [
        RequestStatus::Pending,
        RequestStatus::Granted,
        RequestStatus::Denied { reason: None },
        RequestStatus::Denied {
            reason: Some("taken".into()),
        },
        RequestStatus::ResourceDeleted,
    ];
    writes_like_serde(&vec![EventJs {
        id: "e".into(),
        festival: "f".into(),
        creator: "c".into(),
        version: "v".into(),
        title: "Workshop".into(),
        description: "d".into(),
        start: -1_000,
        end: 1_700_000_000_000,
        cancelled: false,
        confirmed: 0.4,
        resources: statuses
            .iter()
            .map(|status| RequestedJs {
                resource: "r".into(),
                status: status.into(),
            })
            .collect(),
    }]);
    let bookings: Vec<BookingJs> = statuses
        .iter()
        .map(|status| BookingJs {
            event: "e".into(),
            start: 5,
            end: 6,
            status: status.into(),
        })
        .collect();
    writes_like_serde(&bookings);
    let request = |status: Option<&RequestStatus>| RequestJs {
        event: "e".into(),
        event_version: "v".into(),
        resource: "r".into(),
        start: 1,
        end: 2,
        status: status.map(Into::into),
    };
    writes_like_serde(&vec![request(None)]);
    writes_like_serde(
        &statuses
            .iter()
            .map(|s| request(Some(s)))
            .collect::<Vec<_>>(),
    );
    writes_like_serde(&vec![ConflictJs {
        resource: "r".into(),
        first: "a".into(),
        second: "b".into(),
    }]);
    writes_like_serde(&vec![ProfileJs {
        author: "a".into(),
        name: "Ada".into(),
    }]);
    writes_like_serde(&vec![
        ProblemJs::Fork {
            author: "a".into(),
            festival: "f".into(),
            seq: 7.0,
        },
        ProblemJs::Rejected {
            author: "a".into(),
            festival: "f".into(),
            operation: "o".into(),
            reason: "not allowed".into(),
        },
    ]);
    let peer = |key: Option<&str>| PeerJs {
        peer: 3.0,
        public_key: key.map(Into::into),
        shared_festivals: 2,
        missing: 10.0,
        caught_up: false,
        bytes_sent: 1e6,
        bytes_received: 0.0,
    };
    writes_like_serde(&vec![peer(None), peer(Some("k"))]);
    writes_like_serde(&ProgressJs {
        peers: 1,
        missing: 0.0,
        entries_received: 5.0,
        entries_stored: 4.0,
        caught_up: true,
    });
}
