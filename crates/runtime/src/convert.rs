//! JavaScript values to JSON, by walking the value directly with QuickJS's C API (no
//! `JSON.stringify` round trip, and none of the per-value checks of the safe wrappers: a
//! page of 10,000 records is the hot path of every PULL sync).
//!
//! Every value this module gets from QuickJS is owned by an [`Owned`] guard, which frees it
//! however the walk ends; property names are turned into Rust strings once per name (each
//! atom is held until the walk ends, so its number cannot be reused meanwhile).

use std::{collections::HashMap, ffi::c_char};

use rquickjs::{Ctx, Value, qjs};
use serde_json::{Map, Number, Value as Json};

/// Deeper than this is almost surely a cycle; JSON of real APIs is far shallower.
const MAX_DEPTH: usize = 100;

/// A value that has no JSON form, and where it sits (`records[3].data.salary`).
#[derive(Debug)]
pub(crate) struct ConvertError {
    /// Path segments from the innermost outwards; reversed when displayed.
    path: Vec<String>,
    problem: String,
}

impl ConvertError {
    fn new(problem: impl Into<String>) -> ConvertError {
        ConvertError { path: Vec::new(), problem: problem.into() }
    }

    fn within(mut self, segment: String) -> ConvertError {
        self.path.push(segment);
        self
    }

    /// The message, naming the place from `root` (for example `"the returned value"`).
    pub(crate) fn describe(&self, root: &str) -> String {
        if self.path.is_empty() {
            return format!("{root} {}", self.problem);
        }
        let mut place = String::new();
        for segment in self.path.iter().rev() {
            if !segment.starts_with('[') && !place.is_empty() {
                place.push('.');
            }
            place.push_str(segment);
        }
        format!("{place} {}", self.problem)
    }
}

/// Converts like `JSON.stringify` would: `undefined`, functions and symbols vanish from
/// objects and become `null` in arrays; `toJSON` is honoured (so a `Date` becomes its ISO
/// string); `NaN` and infinities become `null`; whole numbers become integers.
pub(crate) fn to_json(value: &Value<'_>) -> Result<Json, ConvertError> {
    let ctx = value.ctx().clone();
    let object_prototype = ctx
        .globals()
        .get::<_, rquickjs::Object>("Object")
        .and_then(|object| object.get::<_, rquickjs::Object>("prototype"))
        .ok();
    let mut walker = Walker {
        raw: ctx.as_raw().as_ptr(),
        ctx: &ctx,
        object_prototype: object_prototype.as_ref().map(|prototype| prototype.as_raw()),
        names: HashMap::with_hasher(AtomHasher::default()),
    };
    // SAFETY: `value` is a live value of `ctx`'s thread; the walker only borrows it.
    let converted = unsafe { walker.convert(value.as_raw(), 0) };
    walker.release();
    Ok(converted?.unwrap_or(Json::Null))
}

/// A value QuickJS handed over (a new reference), freed when dropped.
struct Owned {
    ctx: *mut qjs::JSContext,
    value: qjs::JSValue,
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the value is a reference this guard owns, of this context.
        unsafe { qjs::JS_FreeValue(self.ctx, self.value) }
    }
}

struct Walker<'a, 'js> {
    raw: *mut qjs::JSContext,
    ctx: &'a Ctx<'js>,
    /// `Object.prototype`: objects made from it (and `Object.create(null)`) have no
    /// `toJSON` unless they define one themselves, which spares a prototype-chain lookup
    /// per record.
    object_prototype: Option<qjs::JSValue>,
    /// Property names met so far, by atom (each atom held by one reference until `release`).
    names: HashMap<qjs::JSAtom, String, AtomHasher>,
}

impl Walker<'_, '_> {
    /// # Safety
    /// `value` is a live value of the walker's context (borrowed, not consumed).
    unsafe fn convert(&mut self, value: qjs::JSValue, depth: usize) -> Result<Option<Json>, ConvertError> {
        if depth > MAX_DEPTH {
            return Err(ConvertError::new(format!("is nested more than {MAX_DEPTH} levels deep (is there a cycle?)")));
        }
        unsafe {
            Ok(Some(match qjs::JS_VALUE_GET_NORM_TAG(value) {
                qjs::JS_TAG_NULL => Json::Null,
                qjs::JS_TAG_BOOL => Json::Bool(qjs::JS_VALUE_GET_BOOL(value)),
                qjs::JS_TAG_INT => Json::Number(qjs::JS_VALUE_GET_INT(value).into()),
                qjs::JS_TAG_FLOAT64 => number(qjs::JS_VALUE_GET_FLOAT64(value)),
                qjs::JS_TAG_STRING | qjs::JS_TAG_STRING_ROPE => Json::String(self.string(value)?),
                qjs::JS_TAG_BIG_INT | qjs::JS_TAG_SHORT_BIG_INT => {
                    return Err(ConvertError::new("is a BigInt, which has no JSON form"));
                }
                qjs::JS_TAG_OBJECT if qjs::JS_IsFunction(self.raw, value) => return Ok(None),
                qjs::JS_TAG_OBJECT if qjs::JS_IsArray(value) => self.array(value, depth)?,
                qjs::JS_TAG_OBJECT => return self.object(value, depth),
                // undefined, uninitialized, symbols, modules: no JSON form, left out.
                _ => return Ok(None),
            }))
        }
    }

    unsafe fn array(&mut self, array: qjs::JSValue, depth: usize) -> Result<Json, ConvertError> {
        let mut length: i64 = 0;
        if unsafe { qjs::JS_GetLength(self.raw, array, &mut length) } < 0 {
            return Err(self.exception("has a length that cannot be read"));
        }
        let mut items = Vec::with_capacity(usize::try_from(length).unwrap_or(0).min(1 << 20));
        for index in 0..length {
            let item = self.own(unsafe { qjs::JS_GetPropertyInt64(self.raw, array, index) });
            if unsafe { qjs::JS_IsException(item.value) } {
                return Err(self.exception("cannot be read").within(format!("[{index}]")));
            }
            let converted =
                unsafe { self.convert(item.value, depth + 1) }.map_err(|error| error.within(format!("[{index}]")))?;
            items.push(converted.unwrap_or(Json::Null));
        }
        Ok(Json::Array(items))
    }

    unsafe fn object(&mut self, object: qjs::JSValue, depth: usize) -> Result<Option<Json>, ConvertError> {
        let prototype = self.own(unsafe { qjs::JS_GetPrototype(self.raw, object) });
        if unsafe { qjs::JS_IsException(prototype.value) } {
            return Err(self.exception("has a prototype that cannot be read"));
        }
        let plain = unsafe { qjs::JS_IsNull(prototype.value) }
            || self.object_prototype.is_some_and(|known| same_object(known, prototype.value));
        if !plain {
            // A Date, or any object whose class may give it a toJSON.
            let to_json = self.own(unsafe { qjs::JS_GetPropertyStr(self.raw, object, c"toJSON".as_ptr()) });
            if unsafe { qjs::JS_IsException(to_json.value) } {
                return Err(self.exception("has a toJSON that cannot be read"));
            }
            if unsafe { qjs::JS_IsFunction(self.raw, to_json.value) } {
                return unsafe { self.call_to_json(object, to_json.value, depth) };
            }
        }
        // An ordinary object of data properties (a record, almost always): read in one pass.
        let mut atoms: *mut qjs::JSAtom = std::ptr::null_mut();
        let mut values: *mut qjs::JSValue = std::ptr::null_mut();
        let count = unsafe { JS_FlowstateOwnData(self.raw, object, &mut atoms, &mut values) };
        if count == -2 {
            return Err(self.exception("cannot be read"));
        }
        if count >= 0 {
            let data = OwnData { ctx: self.raw, atoms, values, count };
            let mut map = Map::new();
            for (atom, item) in data.atoms().iter().zip(data.values()) {
                let key = self.name(*atom)?;
                if let Some(replaced) = unsafe { self.entry(&mut map, object, key, *item, depth) }? {
                    return Ok(replaced);
                }
            }
            return Ok(Some(Json::Object(map)));
        }
        // Anything else (getters, exotic objects, numeric keys): as JSON.stringify lists them.
        let mut table: *mut qjs::JSPropertyEnum = std::ptr::null_mut();
        let mut count: u32 = 0;
        let flags = (qjs::JS_GPN_STRING_MASK | qjs::JS_GPN_ENUM_ONLY) as i32;
        if unsafe { qjs::JS_GetOwnPropertyNames(self.raw, &mut table, &mut count, object, flags) } < 0 {
            return Err(self.exception("has properties that cannot be listed"));
        }
        let properties = PropertyTable { ctx: self.raw, table, count };
        let mut map = Map::new();
        for property in properties.as_slice() {
            let item = self.own(unsafe { qjs::JS_GetProperty(self.raw, object, property.atom) });
            let key = self.name(property.atom)?;
            if unsafe { qjs::JS_IsException(item.value) } {
                let problem = self.exception("cannot be read").problem;
                return Err(ConvertError::new(format!("cannot be read: {problem}")).within(key));
            }
            if let Some(replaced) = unsafe { self.entry(&mut map, object, key, item.value, depth) }? {
                return Ok(replaced);
            }
        }
        Ok(Some(Json::Object(map)))
    }

    /// One own property of `object` into `map`; `Some` when it is the object's own
    /// `toJSON` (a plain object's turns up among its properties), whose answer stands for
    /// the whole object.
    unsafe fn entry(
        &mut self,
        map: &mut Map<String, Json>,
        object: qjs::JSValue,
        key: String,
        item: qjs::JSValue,
        depth: usize,
    ) -> Result<Option<Option<Json>>, ConvertError> {
        if key == "toJSON" && unsafe { qjs::JS_IsFunction(self.raw, item) } {
            return unsafe { self.call_to_json(object, item, depth) }.map(Some);
        }
        if let Some(converted) = unsafe { self.convert(item, depth + 1) }.map_err(|error| error.within(key.clone()))? {
            map.insert(key, converted);
        }
        Ok(None)
    }

    unsafe fn call_to_json(
        &mut self,
        object: qjs::JSValue,
        to_json: qjs::JSValue,
        depth: usize,
    ) -> Result<Option<Json>, ConvertError> {
        let replaced = self.own(unsafe { qjs::JS_Call(self.raw, to_json, object, 0, std::ptr::null_mut()) });
        if unsafe { qjs::JS_IsException(replaced.value) } {
            let problem = self.exception("failed").problem;
            return Err(ConvertError::new(format!("has a toJSON that failed: {problem}")));
        }
        unsafe { self.convert(replaced.value, depth + 1) }
    }

    unsafe fn string(&self, value: qjs::JSValue) -> Result<String, ConvertError> {
        // Most strings are Latin-1 inside QuickJS (ASCII, almost always): read in place and
        // copied once, instead of QuickJS copying them out for Rust to check and copy again.
        let mut bytes: *const u8 = std::ptr::null();
        let mut length: usize = 0;
        if unsafe { JS_FlowstateLatin1(value, &mut bytes, &mut length) } == 1 {
            // SAFETY: the string's own bytes, alive as long as `value`, which the caller holds.
            let latin1 = unsafe { std::slice::from_raw_parts(bytes, length) };
            return Ok(if latin1.is_ascii() {
                // SAFETY: ASCII is UTF-8.
                unsafe { String::from_utf8_unchecked(latin1.to_vec()) }
            } else {
                latin1.iter().map(|&byte| char::from(byte)).collect()
            });
        }
        let text = unsafe { qjs::JS_ToCStringLen(self.raw, &mut length, value) };
        if text.is_null() {
            return Err(self.exception("is a string that cannot be read"));
        }
        // SAFETY: QuickJS returned `length` bytes at `text`, valid until freed below.
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), length) };
        let converted = std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|error| ConvertError::new(format!("is not a valid string: {error}")));
        unsafe { qjs::JS_FreeCString(self.raw, text) };
        converted
    }

    /// The property name of `atom`, converted once per name.
    fn name(&mut self, atom: qjs::JSAtom) -> Result<String, ConvertError> {
        if let Some(name) = self.names.get(&atom) {
            return Ok(name.clone());
        }
        let mut length: usize = 0;
        // SAFETY: `atom` is live (the property table holds it); the C string is freed below.
        let text: *const c_char = unsafe { qjs::JS_AtomToCStringLen(self.raw, &mut length as *mut usize as _, atom) };
        if text.is_null() {
            return Err(self.exception("has a property name that cannot be read"));
        }
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), length) };
        let name = String::from_utf8_lossy(bytes).into_owned();
        unsafe {
            qjs::JS_FreeCString(self.raw, text);
            // Held until `release`: a freed atom's number could name another string later.
            qjs::JS_DupAtom(self.raw, atom);
        }
        self.names.insert(atom, name.clone());
        Ok(name)
    }

    fn own(&self, value: qjs::JSValue) -> Owned {
        Owned { ctx: self.raw, value }
    }

    /// The pending exception, as a problem (and taken off the context).
    fn exception(&self, fallback: &str) -> ConvertError {
        match rquickjs::CaughtError::from_error(self.ctx, rquickjs::Error::Exception) {
            rquickjs::CaughtError::Exception(exception) => {
                ConvertError::new(exception.message().unwrap_or_else(|| fallback.to_string()))
            }
            rquickjs::CaughtError::Value(value) => ConvertError::new(format!("{fallback}: {value:?}")),
            rquickjs::CaughtError::Error(error) => ConvertError::new(format!("{fallback}: {error}")),
        }
    }

    fn release(&mut self) {
        for atom in self.names.keys() {
            // SAFETY: each atom was duplicated once when its name was kept.
            unsafe { qjs::JS_FreeAtom(self.raw, *atom) };
        }
        self.names.clear();
    }
}

unsafe extern "C" {
    /// Our addition to QuickJS (`vendor/rquickjs-sys`, marked `flowstate:`): an ordinary
    /// object's own enumerable string-keyed data properties in one pass, or -1 when the
    /// general path must be taken, -2 when out of memory.
    fn JS_FlowstateOwnData(
        ctx: *mut qjs::JSContext,
        object: qjs::JSValue,
        atoms: *mut *mut qjs::JSAtom,
        values: *mut *mut qjs::JSValue,
    ) -> std::ffi::c_int;
    /// A flat Latin-1 string's own bytes (1), or 0 for any other string.
    fn JS_FlowstateLatin1(value: qjs::JSValue, bytes: *mut *const u8, length: *mut usize) -> std::ffi::c_int;
    fn JS_FlowstateFreeOwnData(
        ctx: *mut qjs::JSContext,
        atoms: *mut qjs::JSAtom,
        values: *mut qjs::JSValue,
        count: std::ffi::c_int,
    );
}

/// What `JS_FlowstateOwnData` gave, freed when dropped.
struct OwnData {
    ctx: *mut qjs::JSContext,
    atoms: *mut qjs::JSAtom,
    values: *mut qjs::JSValue,
    count: std::ffi::c_int,
}

impl OwnData {
    fn atoms(&self) -> &[qjs::JSAtom] {
        // SAFETY: QuickJS filled `count` atoms, alive until dropped.
        if self.count == 0 { &[] } else { unsafe { std::slice::from_raw_parts(self.atoms, self.count as usize) } }
    }

    fn values(&self) -> &[qjs::JSValue] {
        // SAFETY: as for the atoms: `count` values, each a reference this guard owns.
        if self.count == 0 { &[] } else { unsafe { std::slice::from_raw_parts(self.values, self.count as usize) } }
    }
}

impl Drop for OwnData {
    fn drop(&mut self) {
        // SAFETY: frees exactly what JS_FlowstateOwnData allocated and duplicated.
        unsafe { JS_FlowstateFreeOwnData(self.ctx, self.atoms, self.values, self.count) }
    }
}

/// What `JS_GetOwnPropertyNames` gave, freed when dropped.
struct PropertyTable {
    ctx: *mut qjs::JSContext,
    table: *mut qjs::JSPropertyEnum,
    count: u32,
}

impl PropertyTable {
    fn as_slice(&self) -> &[qjs::JSPropertyEnum] {
        if self.table.is_null() {
            return &[];
        }
        // SAFETY: QuickJS allocated `count` entries at `table`, alive until dropped.
        unsafe { std::slice::from_raw_parts(self.table, self.count as usize) }
    }
}

impl Drop for PropertyTable {
    fn drop(&mut self) {
        if !self.table.is_null() {
            // SAFETY: the table and its atoms came from JS_GetOwnPropertyNames on this context.
            unsafe { qjs::JS_FreePropertyEnum(self.ctx, self.table, self.count) }
        }
    }
}

/// Whether two object values are the same object.
fn same_object(a: qjs::JSValue, b: qjs::JSValue) -> bool {
    // SAFETY: both are object values; only their pointers are compared.
    unsafe { qjs::JS_VALUE_GET_PTR(a) == qjs::JS_VALUE_GET_PTR(b) }
}

/// Atoms are small distinct integers: hashing them is the identity.
#[derive(Default, Clone, Copy)]
struct AtomHasher(u64);

impl std::hash::Hasher for AtomHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 << 8) | u64::from(*byte);
        }
    }

    fn write_u32(&mut self, value: u32) {
        self.0 = u64::from(value).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl std::hash::BuildHasher for AtomHasher {
    type Hasher = AtomHasher;

    fn build_hasher(&self) -> AtomHasher {
        AtomHasher(0)
    }
}

fn number(float: f64) -> Json {
    if !float.is_finite() {
        return Json::Null;
    }
    // 2^53: beyond it a float is not an exact integer anyway.
    if float.fract() == 0.0 && float.abs() < 9_007_199_254_740_992.0 {
        return Json::Number((float as i64).into());
    }
    Number::from_f64(float).map(Json::Number).unwrap_or(Json::Null)
}
