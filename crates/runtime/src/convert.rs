//! JavaScript values to JSON, by walking the value directly with QuickJS's C API (no
//! `JSON.stringify` round trip, and none of the per-value checks of the safe wrappers: a
//! page of 10,000 records is the hot path of every PULL sync).
//!
//! Every value this module gets from QuickJS is owned by an [`Owned`] guard, which frees it
//! however the walk ends. An ordinary object is read through its shape: which properties it
//! has, their names and their order are worked out once per shape (a page's records share a
//! few) and kept, with the shape held, until the walk ends; elsewhere property names are
//! turned into Rust strings once per name (each atom is held until the walk ends, so its
//! number cannot be reused meanwhile).

use std::{
    collections::HashMap,
    ffi::{c_char, c_int, c_void},
    rc::Rc,
};

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
        .ok()
        // A toJSON on Object.prototype would apply to every plain object.
        .filter(|prototype| !prototype.contains_key("toJSON").unwrap_or(true));
    let mut walker = Walker {
        raw: ctx.as_raw().as_ptr(),
        ctx: &ctx,
        // SAFETY: only the pointer is taken, to compare; `object_prototype` outlives the walk.
        object_prototype: object_prototype
            .as_ref()
            .map(|prototype| unsafe { qjs::JS_VALUE_GET_PTR(prototype.as_raw()) }),
        names: HashMap::with_hasher(AtomHasher::default()),
        shapes: HashMap::new(),
        slots: Vec::new(),
    };
    // SAFETY: `value` is a live value of `ctx`'s thread; the walker only borrows it.
    let converted = unsafe { walker.convert(value.as_raw(), 0) };
    walker.release();
    Ok(converted?.unwrap_or(Json::Null))
}

/// A value QuickJS handed over (a new reference), freed when dropped; or one borrowed
/// from its holder (`ctx` null), which is not.
struct Owned {
    ctx: *mut qjs::JSContext,
    value: qjs::JSValue,
}

impl Drop for Owned {
    fn drop(&mut self) {
        if !self.ctx.is_null() {
            // SAFETY: the value is a reference this guard owns, of this context.
            unsafe { qjs::JS_FreeValue(self.ctx, self.value) }
        }
    }
}

struct Walker<'a, 'js> {
    raw: *mut qjs::JSContext,
    ctx: &'a Ctx<'js>,
    /// `Object.prototype` (unless it has a `toJSON`): objects made from it (and
    /// `Object.create(null)`) have no `toJSON` unless they define one themselves, which
    /// spares a prototype-chain lookup per record.
    object_prototype: Option<*mut c_void>,
    /// Property names met so far on the general path, by atom (each atom held by one
    /// reference until `release`).
    names: HashMap<qjs::JSAtom, String, AtomHasher>,
    /// What each ordinary object's shape met so far says (`None`: take the general path);
    /// each shape held by one reference until `release`, so its address names it.
    shapes: HashMap<*mut c_void, Option<Rc<ShapeKeys>>>,
    /// The converted values of the objects being walked, in property order (each object's
    /// above its parent's), before they go into their map in name order.
    slots: Vec<Option<Json>>,
}

/// Whether an object's `toJSON` stands for it: yes, except for what a `toJSON` gave (as in
/// JSON.stringify, which asks once per value).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ToJson {
    Apply,
    Skip,
}

/// An ordinary object's own enumerable string-keyed data properties, as its shape says.
struct ShapeKeys {
    /// In property order (the order `JSON.stringify` reads them in).
    keys: Vec<ShapeKey>,
    /// `keys` in name order, as a map holds them: a map built from them in this order is
    /// built without a search per key.
    by_name: Vec<usize>,
    /// Which of `keys` is `toJSON`, if one is.
    to_json: Option<usize>,
    /// Whether the prototype is `Object.prototype` (without a `toJSON`) or none.
    plain: bool,
}

struct ShapeKey {
    /// Where the value sits in an object of this shape.
    index: u32,
    /// The name, alive as long as the shape is.
    atom: qjs::JSAtom,
    name: String,
}

impl Walker<'_, '_> {
    /// # Safety
    /// `value` is a live value of the walker's context (borrowed, not consumed).
    unsafe fn convert(&mut self, value: qjs::JSValue, depth: usize) -> Result<Option<Json>, ConvertError> {
        unsafe { self.convert_as(value, depth, ToJson::Apply) }
    }

    /// # Safety
    /// As for [`Walker::convert`].
    unsafe fn convert_as(
        &mut self,
        value: qjs::JSValue,
        depth: usize,
        to_json: ToJson,
    ) -> Result<Option<Json>, ConvertError> {
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
                qjs::JS_TAG_OBJECT => return self.object(value, depth, to_json),
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

    unsafe fn object(
        &mut self,
        object: qjs::JSValue,
        depth: usize,
        to_json: ToJson,
    ) -> Result<Option<Json>, ConvertError> {
        let shape = unsafe { JS_FlowstateShapeOf(object) };
        if !shape.is_null()
            && let Some(keys) = self.shape_keys(shape)?
        {
            return unsafe { self.by_shape(object, shape, &keys, depth, to_json) };
        }
        unsafe { self.general(object, depth, to_json) }
    }

    /// What `shape` says about its objects' properties, worked out on its first object.
    fn shape_keys(&mut self, shape: *mut c_void) -> Result<Option<Rc<ShapeKeys>>, ConvertError> {
        if let Some(known) = self.shapes.get(&shape) {
            return Ok(known.clone());
        }
        // SAFETY: `shape` is the live shape of the object being walked; from here it is
        // held (released in `release`), so neither it nor its atoms go away during the walk.
        let slots = usize::try_from(unsafe { JS_FlowstateShapeSlots(shape) }).unwrap_or(0);
        let mut indices = vec![0u32; slots];
        let mut atoms: Vec<qjs::JSAtom> = vec![0; slots];
        let mut prototype: *mut c_void = std::ptr::null_mut();
        let count = unsafe {
            JS_FlowstateShapeRetain(shape);
            JS_FlowstateShapeKeys(self.raw, shape, indices.as_mut_ptr(), atoms.as_mut_ptr(), &mut prototype)
        };
        self.shapes.insert(shape, None);
        let Ok(count) = usize::try_from(count) else {
            return Ok(None);
        };
        let mut keys = Vec::with_capacity(count);
        for (&index, &atom) in indices.iter().zip(&atoms).take(count) {
            keys.push(ShapeKey { index, atom, name: self.atom_name(atom)? });
        }
        let mut by_name: Vec<usize> = (0..keys.len()).collect();
        by_name.sort_by(|&a, &b| keys[a].name.cmp(&keys[b].name));
        let known = Rc::new(ShapeKeys {
            to_json: keys.iter().position(|key| key.name == "toJSON"),
            plain: prototype.is_null() || self.object_prototype == Some(prototype),
            keys,
            by_name,
        });
        self.shapes.insert(shape, Some(known.clone()));
        Ok(Some(known))
    }

    /// An ordinary object, its properties read where its shape says they are.
    ///
    /// # Safety
    /// `object` is a live ordinary object whose shape was `shape` when `keys` were asked for.
    unsafe fn by_shape(
        &mut self,
        object: qjs::JSValue,
        shape: *mut c_void,
        keys: &ShapeKeys,
        depth: usize,
        to_json: ToJson,
    ) -> Result<Option<Json>, ConvertError> {
        // A toJSON stands for the whole object, as JSON.stringify asks for it first.
        if to_json == ToJson::Apply {
            if !keys.plain {
                // A class instance, say: its class may give it a toJSON.
                if let Some(replaced) = unsafe { self.inherited_to_json(object, depth) }? {
                    return Ok(replaced);
                }
            } else if let Some(at) = keys.to_json {
                let to_json = unsafe { self.value_at(object, shape, &keys.keys[at]) }?;
                if unsafe { qjs::JS_IsFunction(self.raw, to_json.value) } {
                    return unsafe { self.call_to_json(object, to_json.value, depth) };
                }
            }
        }
        let base = self.slots.len();
        for key in &keys.keys {
            // Read one by one, not all first: a toJSON met on the way may change the rest.
            let item = unsafe { self.value_at(object, shape, key) }?;
            let converted =
                unsafe { self.convert(item.value, depth + 1) }.map_err(|error| error.within(key.name.clone()))?;
            self.slots.push(converted);
        }
        let slots = &mut self.slots[base..];
        let mut entries = Vec::with_capacity(keys.keys.len());
        for &at in &keys.by_name {
            if let Some(converted) = slots[at].take() {
                entries.push((keys.keys[at].name.clone(), converted));
            }
        }
        self.slots.truncate(base);
        // Already in name order: the map is built without a search per key.
        Ok(Some(Json::Object(entries.into_iter().collect())))
    }

    /// The value of `key` in `object`: where the shape says, while the object still has
    /// that shape; by name once a toJSON has changed it (as JSON.stringify, which lists
    /// the names first, then reads each).
    unsafe fn value_at(&self, object: qjs::JSValue, shape: *mut c_void, key: &ShapeKey) -> Result<Owned, ConvertError> {
        let mut value = qjs::JS_UNDEFINED;
        // SAFETY: `object` is live; `shape` is held by the walker. A borrowed value is a
        // string or a number, converted before anything else runs.
        match unsafe { JS_FlowstateValueAt(object, shape, key.index, &mut value) } {
            2 => return Ok(self.own(value)),
            1 => return Ok(Owned { ctx: std::ptr::null_mut(), value }),
            _ => {}
        }
        let item = self.own(unsafe { qjs::JS_GetProperty(self.raw, object, key.atom) });
        if unsafe { qjs::JS_IsException(item.value) } {
            return Err(self.unreadable(key.name.clone()));
        }
        Ok(item)
    }

    /// A `toJSON` the object has (its own or inherited), called (`Some` with its answer), or
    /// `None`.
    unsafe fn inherited_to_json(
        &mut self,
        object: qjs::JSValue,
        depth: usize,
    ) -> Result<Option<Option<Json>>, ConvertError> {
        let to_json = self.own(unsafe { qjs::JS_GetPropertyStr(self.raw, object, c"toJSON".as_ptr()) });
        if unsafe { qjs::JS_IsException(to_json.value) } {
            return Err(self.exception("has a toJSON that cannot be read"));
        }
        if unsafe { qjs::JS_IsFunction(self.raw, to_json.value) } {
            return unsafe { self.call_to_json(object, to_json.value, depth) }.map(Some);
        }
        Ok(None)
    }

    /// Any other object (getters, exotic objects, numeric keys): as JSON.stringify lists
    /// and reads its properties.
    unsafe fn general(
        &mut self,
        object: qjs::JSValue,
        depth: usize,
        to_json: ToJson,
    ) -> Result<Option<Json>, ConvertError> {
        // Its own toJSON or its class's (a Date's, say); this path is rare enough to look.
        if to_json == ToJson::Apply
            && let Some(replaced) = unsafe { self.inherited_to_json(object, depth) }?
        {
            return Ok(replaced);
        }
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
                return Err(self.unreadable(key));
            }
            let converted =
                unsafe { self.convert(item.value, depth + 1) }.map_err(|error| error.within(key.clone()))?;
            if let Some(converted) = converted {
                map.insert(key, converted);
            }
        }
        Ok(Some(Json::Object(map)))
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
        // What toJSON gave is converted as it is: its own toJSON is not asked for.
        unsafe { self.convert_as(replaced.value, depth + 1, ToJson::Skip) }
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
        let name = self.atom_name(atom)?;
        // SAFETY: `atom` is live. Held until `release`: a freed atom's number could name
        // another string later.
        unsafe { qjs::JS_DupAtom(self.raw, atom) };
        self.names.insert(atom, name.clone());
        Ok(name)
    }

    /// The text of a live atom.
    fn atom_name(&self, atom: qjs::JSAtom) -> Result<String, ConvertError> {
        let mut length: usize = 0;
        // SAFETY: the caller's atom is live; the C string is freed below.
        let text: *const c_char = unsafe { qjs::JS_AtomToCStringLen(self.raw, &mut length as *mut usize as _, atom) };
        if text.is_null() {
            return Err(self.exception("has a property name that cannot be read"));
        }
        let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), length) };
        let name = String::from_utf8_lossy(bytes).into_owned();
        unsafe { qjs::JS_FreeCString(self.raw, text) };
        Ok(name)
    }

    fn own(&self, value: qjs::JSValue) -> Owned {
        Owned { ctx: self.raw, value }
    }

    /// A property whose read threw (a getter, say): the pending exception, under its name.
    fn unreadable(&self, key: String) -> ConvertError {
        let problem = self.exception("cannot be read").problem;
        ConvertError::new(format!("cannot be read: {problem}")).within(key)
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
        for shape in self.shapes.keys() {
            // SAFETY: each shape was retained once when it was first met.
            unsafe { JS_FlowstateShapeRelease(self.raw, *shape) };
        }
        self.shapes.clear();
    }
}

// Our additions to QuickJS (`vendor/rquickjs-sys`, marked `flowstate:`; what each does is
// said there).
unsafe extern "C" {
    /// The shape of an ordinary object, or null.
    fn JS_FlowstateShapeOf(object: qjs::JSValue) -> *mut c_void;
    /// How many property slots a shape has: the room `JS_FlowstateShapeKeys` needs.
    fn JS_FlowstateShapeSlots(shape: *mut c_void) -> c_int;
    /// A shape's own enumerable string-keyed data properties (positions and atoms) and its
    /// prototype; how many, or -1 for the general path.
    fn JS_FlowstateShapeKeys(
        ctx: *mut qjs::JSContext,
        shape: *mut c_void,
        indices: *mut u32,
        atoms: *mut qjs::JSAtom,
        prototype: *mut *mut c_void,
    ) -> c_int;
    fn JS_FlowstateShapeRetain(shape: *mut c_void);
    fn JS_FlowstateShapeRelease(ctx: *mut qjs::JSContext, shape: *mut c_void);
    /// The value at a position of an object that still has `shape`: an object duplicated (2),
    /// anything else borrowed (1), or 0 when the object's shape has changed.
    fn JS_FlowstateValueAt(object: qjs::JSValue, shape: *mut c_void, index: u32, value: *mut qjs::JSValue) -> c_int;
    /// A flat Latin-1 string's own bytes (1), or 0 for any other string.
    fn JS_FlowstateLatin1(value: qjs::JSValue, bytes: *mut *const u8, length: *mut usize) -> c_int;
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
