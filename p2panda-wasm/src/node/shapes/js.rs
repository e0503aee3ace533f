//! Reading arguments from and writing results to plain JS values, by hand.
//!
//! This replaced serde-wasm-bindgen for the node's shapes: the derived code instantiated serde's
//! machinery once per shape (and buffered tagged enums through serde's `Content`), which made it
//! one of the largest parts of the WebAssembly module. These few non-generic helpers read what
//! serde-wasm-bindgen read: a struct's fields are looked up by name (other properties are
//! ignored), a property that is there counts even when it is `undefined`, `null` and `undefined`
//! read as `None`, integers must be safe integers (or BigInts for `i64`).

use js_sys::{Array, Number, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// A value read from a JS argument.
pub(crate) trait FromJs: Sized {
    /// Read `value`; the error says what is wrong with it (the caller names the argument).
    fn from_js(value: JsValue) -> Result<Self, String>;
}

/// A value written as a JS result.
pub(crate) trait ToJs {
    fn to_js(&self) -> JsValue;
}

/// What kind of JS value `value` is, for error messages.
fn kind_of(value: &JsValue) -> &'static str {
    if value.is_undefined() {
        "undefined"
    } else if value.is_null() {
        "null"
    } else if value.as_bool().is_some() {
        "a boolean"
    } else if value.as_f64().is_some() {
        "a number"
    } else if value.is_string() {
        "a string"
    } else if value.is_bigint() {
        "a BigInt"
    } else if Array::is_array(value) {
        "an array"
    } else if value.is_function() {
        "a function"
    } else if value.is_object() {
        "an object"
    } else {
        "a symbol"
    }
}

/// The error for a value of the wrong type.
pub(crate) fn invalid(value: &JsValue, expected: &str) -> String {
    format!("invalid type: {}, expected {expected}", kind_of(value))
}

fn is_nullish(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

impl FromJs for String {
    fn from_js(value: JsValue) -> Result<Self, String> {
        value.as_string().ok_or_else(|| invalid(&value, "a string"))
    }
}

impl FromJs for bool {
    fn from_js(value: JsValue) -> Result<Self, String> {
        value.as_bool().ok_or_else(|| invalid(&value, "a boolean"))
    }
}

/// Any value, read further by the caller.
impl FromJs for JsValue {
    fn from_js(value: JsValue) -> Result<Self, String> {
        Ok(value)
    }
}

impl<T: FromJs> FromJs for Option<T> {
    fn from_js(value: JsValue) -> Result<Self, String> {
        if is_nullish(&value) {
            Ok(None)
        } else {
            T::from_js(value).map(Some)
        }
    }
}

/// An integer in Number's safe range.
fn safe_integer(value: &JsValue) -> Option<i64> {
    Number::is_safe_integer(value).then(|| value.as_f64().unwrap_or_default() as i64)
}

/// Times (`Millis`): a safe integer, or a BigInt that fits.
impl FromJs for i64 {
    fn from_js(value: JsValue) -> Result<Self, String> {
        if value.is_bigint() {
            return i64::try_from(value).map_err(|_| "a BigInt outside the i64 range".to_string());
        }
        safe_integer(&value).ok_or_else(|| invalid(&value, "an integer"))
    }
}

impl FromJs for u32 {
    fn from_js(value: JsValue) -> Result<Self, String> {
        let integer = safe_integer(&value)
            .filter(|i| *i >= 0)
            .ok_or_else(|| invalid(&value, "a non-negative integer"))?;
        u32::try_from(integer).map_err(|_| format!("{integer} is larger than a u32"))
    }
}

impl FromJs for f64 {
    fn from_js(value: JsValue) -> Result<Self, String> {
        if value.is_bigint() {
            return i64::from_js(value).map(|i| i as f64);
        }
        value.as_f64().ok_or_else(|| invalid(&value, "a number"))
    }
}

/// An array, or any other iterable object.
impl<T: FromJs> FromJs for Vec<T> {
    fn from_js(value: JsValue) -> Result<Self, String> {
        items(value)?.into_iter().map(T::from_js).collect()
    }
}

fn items(value: JsValue) -> Result<Vec<JsValue>, String> {
    if let Some(array) = value.dyn_ref::<Array>() {
        return Ok(array.to_vec());
    }
    let iterator = if value.is_object() {
        js_sys::try_iter(&value).ok().flatten()
    } else {
        None
    };
    let iterator = iterator.ok_or_else(|| invalid(&value, "an array"))?;
    iterator
        .map(|item| item.map_err(|_| "the iterable threw".to_string()))
        .collect()
}

/// The fields of a JS object given as a struct argument.
pub(crate) struct Fields(Object);

impl Fields {
    /// `value` as an object (`what` names the expected shape in the error).
    pub fn of(value: JsValue, what: &str) -> Result<Fields, String> {
        if value.is_object() {
            Ok(Fields(value.unchecked_into()))
        } else {
            Err(invalid(&value, what))
        }
    }

    /// The property `key`, `None` when the object has no such property.
    fn get(&self, key: &str) -> Option<JsValue> {
        let key = JsValue::from_str(key);
        let value = Reflect::get(&self.0, &key).unwrap_or(JsValue::UNDEFINED);
        let missing = value.is_undefined() && !Reflect::has(&self.0, &key).unwrap_or(false);
        (!missing).then_some(value)
    }

    /// An optional field: `None` when it is not there.
    pub fn optional<T: FromJs>(&self, key: &str) -> Result<Option<T>, String> {
        self.get(key)
            .map(|value| T::from_js(value).map_err(|e| format!("{key}: {e}")))
            .transpose()
    }

    /// A field that must be there.
    pub fn required<T: FromJs>(&self, key: &str) -> Result<T, String> {
        self.optional(key)?
            .ok_or_else(|| format!("missing field `{key}`"))
    }
}

/// The own enumerable properties of an object (as `Object.entries` lists them), for the shapes
/// that are read as maps: tagged unions, and objects that refuse unknown properties.
pub(crate) fn entries(value: &JsValue, what: &str) -> Result<Vec<(String, JsValue)>, String> {
    if !value.is_object() || Array::is_array(value) {
        return Err(invalid(value, what));
    }
    Ok(Object::entries(value.unchecked_ref())
        .iter()
        .map(|pair| {
            let pair: Array = pair.unchecked_into();
            (pair.get(0).as_string().unwrap_or_default(), pair.get(1))
        })
        .collect())
}

/// The error for a property not in `expected`.
pub(crate) fn unknown_field(key: &str, expected: &str) -> String {
    format!("unknown field `{key}`, expected one of {expected}")
}

/// Build a plain JS object from fields.
pub(crate) fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in fields {
        set(&object, name, value);
    }
    object.into()
}

/// Set a property of an object this module made (which cannot fail).
pub(crate) fn set(object: &JsValue, name: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(name), value);
}

pub(crate) fn string(value: &str) -> JsValue {
    JsValue::from_str(value)
}

/// `null` for `None`.
pub(crate) fn nullable(value: &Option<String>) -> JsValue {
    value.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

impl<T: ToJs> ToJs for Vec<T> {
    fn to_js(&self) -> JsValue {
        self.iter().map(ToJs::to_js).collect::<Array>().into()
    }
}

/// `null` for `None`.
impl<T: ToJs> ToJs for Option<T> {
    fn to_js(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, ToJs::to_js)
    }
}

impl ToJs for String {
    fn to_js(&self) -> JsValue {
        string(self)
    }
}
