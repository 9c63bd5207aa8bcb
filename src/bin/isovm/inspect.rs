//! Values printed as Node's `util.inspect` prints them, with its defaults: depth 2, 100
//! items of an array, Map or Set, 10,000 characters of a string, lines broken at 80
//! columns (`compact: 3`), cycles as `<ref *1>` / `[Circular *1]`.
//!
//! The console (see `console.rs`) sends values the guest has already bounded, with
//! markers for what does not cross (functions, symbols, accessors, class names); markers
//! are objects whose first key is a key only the console's guest code knows.

use std::collections::HashMap;

use isovm::{Error, TypedArrayKind, Value};

use crate::number::{inspect_number, iso_date};

const MAX_ARRAY_LENGTH: usize = 100;
const MAX_STRING_LENGTH: usize = 10_000;
const BREAK_LENGTH: usize = 80;
const COMPACT: usize = 3;
/// Past this many characters of output, further objects print as `[Object]` (Node has
/// the same kind of budget): a graph of shared objects cannot make the output explode.
const OUTPUT_BUDGET: usize = 1 << 24;

/// How to inspect.
pub struct InspectOptions<'a> {
    /// Objects deeper than this print as `[Object]` (Node's `depth`).
    pub depth: usize,
    /// The first key of a console marker object (`None`: no markers, for results).
    pub marker_key: Option<&'a str>,
}

impl Default for InspectOptions<'_> {
    fn default() -> Self {
        InspectOptions {
            depth: 2,
            marker_key: None,
        }
    }
}

/// `value` as `util.inspect(value)` prints it. Fails only on a malformed copy (a
/// back-reference to nothing).
pub fn inspect(value: &Value, options: &InspectOptions) -> Result<String, Error> {
    value.check_backrefs()?;
    let mut inspector = Inspector::new(value, options);
    Ok(inspector.value(value, 0))
}

/// What one number of a copy stands for (see `Value`'s identity docs).
#[derive(Clone, Copy)]
enum Slot<'v> {
    Object(&'v Value),
    /// The buffer of a `Value::TypedArray` (its second number).
    BufferOf(&'v [u8]),
}

/// A console marker, read from its object.
enum Marker<'v> {
    /// Printed as it is (`[Function: f]`, `Symbol(s)`, `[Getter]`, `[Object]`).
    Raw(&'v str),
    /// `count` entries left out (`... 3 more items`).
    More { count: u64, noun: &'v str },
    /// An instance of a class, or an object without prototype: `Foo { a: 1 }`.
    Class {
        name: &'v str,
        props: &'v [(String, Value)],
    },
}

/// How a container prints: the brackets, what it is called once too deep, and whether
/// it is array-like (its items are grouped into columns).
struct Shape {
    open: String,
    close: &'static str,
    name: String,
    array_like: bool,
    numeric: bool,
}

struct Inspector<'v, 'o> {
    slots: Vec<Slot<'v>>,
    numbers: HashMap<*const Value, u32>,
    /// Numbers of the objects being printed (their children meeting them is a cycle).
    seen: Vec<u32>,
    /// Numbers of the objects a cycle closes on, in the order met (`*1`, `*2`, ..).
    circular: Vec<u32>,
    indentation: usize,
    current_depth: usize,
    depth: usize,
    produced: usize,
    exhausted: bool,
    marker_key: Option<&'o str>,
}

fn children(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) | Value::Set(items) => items.iter().collect(),
        Value::Object(props) => props.iter().map(|(_, v)| v).collect(),
        Value::Map(entries) => entries.iter().flat_map(|(k, v)| [k, v]).collect(),
        _ => Vec::new(),
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn remaining_text(n: u64, noun: &str) -> String {
    let (one, many) = match noun {
        "properties" => ("property", "properties"),
        _ => ("item", "items"),
    };
    format!("... {n} more {}", if n > 1 { many } else { one })
}

impl<'v, 'o> Inspector<'v, 'o> {
    fn new(root: &'v Value, options: &InspectOptions<'o>) -> Self {
        let mut slots = Vec::new();
        let mut numbers = HashMap::new();
        // Numbered in the copy's visit order, without recursion (a copy nests up to
        // MAX_TRANSFER_DEPTH).
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            match v {
                Value::TypedArray { bytes, .. } => {
                    slots.push(Slot::Object(v));
                    slots.push(Slot::BufferOf(bytes));
                }
                Value::Array(_) | Value::Object(_) | Value::Map(_) | Value::Set(_) => {
                    numbers.insert(v as *const Value, slots.len() as u32);
                    slots.push(Slot::Object(v));
                    stack.extend(children(v).into_iter().rev());
                }
                other if other.object_numbers() == 1 => slots.push(Slot::Object(other)),
                _ => {}
            }
        }
        Inspector {
            slots,
            numbers,
            seen: Vec::new(),
            circular: Vec::new(),
            indentation: 0,
            current_depth: 0,
            depth: options.depth,
            produced: 0,
            exhausted: false,
            marker_key: options.marker_key,
        }
    }

    /// Node's `formatValue`; `rt` is its `recurseTimes` (0 at the top).
    fn value(&mut self, v: &'v Value, rt: usize) -> String {
        match v {
            Value::Undefined => "undefined".into(),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => inspect_number(*n),
            Value::BigInt(b) => format!("{b}n"),
            Value::String(s) => self.string(s),
            Value::Backref(n) => match self.slots.get(*n as usize).copied() {
                Some(Slot::Object(target)) => self.object(target, rt),
                Some(Slot::BufferOf(bytes)) => self.buffer("ArrayBuffer", bytes, bytes.len(), rt),
                // check_backrefs refused these before printing began.
                None => "[Unknown]".into(),
            },
            other => self.object(other, rt),
        }
    }

    fn marker(&self, v: &'v Value) -> Option<Marker<'v>> {
        let key = self.marker_key?;
        let Value::Object(props) = v else { return None };
        let (first, Value::String(kind)) = props.first()? else {
            return None;
        };
        if first != key {
            return None;
        }
        let field = |name: &str| props.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        match kind.as_str() {
            "raw" => Some(Marker::Raw(field("text")?.as_str()?)),
            "more" => Some(Marker::More {
                count: field("count")?.as_f64()? as u64,
                noun: field("noun").and_then(Value::as_str).unwrap_or("items"),
            }),
            "class" => match field("value")? {
                Value::Object(props) => Some(Marker::Class {
                    name: field("name")?.as_str()?,
                    props,
                }),
                _ => None,
            },
            _ => None,
        }
    }

    fn object(&mut self, v: &'v Value, rt: usize) -> String {
        let number = self.numbers.get(&(v as *const Value)).copied();
        if let Some(n) = number.filter(|n| self.seen.contains(n)) {
            let index = match self.circular.iter().position(|c| *c == n) {
                Some(i) => i,
                None => {
                    self.circular.push(n);
                    self.circular.len() - 1
                }
            };
            return format!("[Circular *{}]", index + 1);
        }
        if let Some(marker) = self.marker(v) {
            return match marker {
                Marker::Raw(text) => text.to_owned(),
                Marker::More { count, noun } => remaining_text(count, noun),
                Marker::Class { name, props: [] } => format!("{name} {{}}"),
                Marker::Class { name, props } => self.props(name, props, number, rt),
            };
        }
        match v {
            Value::Array(items) => self.array(items, number, rt),
            Value::Object(props) if props.is_empty() => "{}".into(),
            Value::Object(props) => self.props("", props, number, rt),
            Value::Map(entries) => self.map(entries, number, rt),
            Value::Set(items) => self.set(items, number, rt),
            Value::Date(ms) => iso_date(*ms),
            Value::RegExp { source, flags } => format!("/{source}/{flags}"),
            Value::Error(e) => self.error(&e.name, &e.message, e.stack.as_deref()),
            Value::ArrayBuffer(bytes) => self.buffer("ArrayBuffer", bytes, bytes.len(), rt),
            Value::SharedArrayBuffer(shared) => {
                let cells = shared.arc();
                let head: Vec<u8> = cells
                    .iter()
                    .take(MAX_ARRAY_LENGTH)
                    .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
                    .collect();
                self.buffer("SharedArrayBuffer", &head, shared.len(), rt)
            }
            Value::TypedArray { kind, bytes } => self.typed(*kind, bytes, bytes, 0, rt),
            Value::TypedArrayView {
                kind,
                buffer,
                byte_offset,
                byte_length,
            } => {
                let whole: &[u8] = match self.slots.get(*buffer as usize).copied() {
                    Some(Slot::BufferOf(b)) => b,
                    Some(Slot::Object(Value::ArrayBuffer(b))) => b,
                    _ => &[],
                };
                let end = byte_offset.saturating_add(*byte_length).min(whole.len());
                let view = whole.get(*byte_offset..end).unwrap_or(&[]);
                self.typed(*kind, view, whole, *byte_offset, rt)
            }
            Value::Callback(_) => "[Function: host]".into(),
            Value::Reference(_) | Value::DerefInto(_) => "[Reference]".into(),
            Value::ExternalCopy(_) | Value::CopyInto(_) => "[ExternalCopy]".into(),
            _ => "[Unknown]".into(),
        }
    }

    /// Node's `formatRaw` from its depth check on: the entries, then one line or many.
    fn container(
        &mut self,
        number: Option<u32>,
        shape: Shape,
        rt: usize,
        entries: impl FnOnce(&mut Self, usize) -> Vec<String>,
    ) -> String {
        if rt > self.depth || self.exhausted {
            return format!("[{}]", shape.name);
        }
        let rt = rt + 1;
        if let Some(n) = number {
            self.seen.push(n);
        }
        self.current_depth = rt;
        let output = entries(self, rt);
        let mut base = String::new();
        if let Some(n) = number {
            self.seen.pop();
            if let Some(i) = self.circular.iter().position(|c| *c == n) {
                base = format!("<ref *{}>", i + 1);
            }
        }
        let out = self.reduce(output, &base, &shape, rt);
        self.produced += out.len();
        self.exhausted |= self.produced > OUTPUT_BUDGET;
        out
    }

    /// Whether the entries so far ran past the output budget.
    fn over_budget(&self, output: &[String]) -> bool {
        self.produced + output.iter().map(String::len).sum::<usize>() > OUTPUT_BUDGET
    }

    /// Node's `reduceToSingleString` (with `compact: 3`).
    fn reduce(&self, output: Vec<String>, base: &str, shape: &Shape, rt: usize) -> String {
        let entries = output.len();
        let output = if shape.array_like && entries > 6 {
            self.group(output, shape.numeric)
        } else {
            output
        };
        let base = if base.is_empty() {
            String::new()
        } else {
            format!("{base} ")
        };
        if self.current_depth.saturating_sub(rt) < COMPACT && entries == output.len() {
            let start = output.len() + self.indentation + width(&shape.open) + base.len() + 10;
            if below_break_length(&output, start, &base) {
                let joined = output.join(", ");
                if !joined.contains('\n') {
                    return format!("{base}{} {joined} {}", shape.open, shape.close);
                }
            }
        }
        let indent = format!("\n{}", " ".repeat(self.indentation));
        let joined = output.join(&format!(",{indent}  "));
        format!(
            "{base}{}{indent}  {joined}{indent}{}",
            shape.open, shape.close
        )
    }

    /// Node's `groupArrayElements`: many short items in aligned columns.
    fn group(&self, output: Vec<String>, numeric: bool) -> Vec<String> {
        let has_more = output.len() > MAX_ARRAY_LENGTH;
        let len = output.len() - usize::from(has_more);
        const SEP: usize = 2;
        let data_len: Vec<usize> = output[..len].iter().map(|s| width(s)).collect();
        let total: usize = data_len.iter().map(|l| l + SEP).sum();
        let max_len = data_len.iter().copied().max().unwrap_or(0);
        let actual_max = max_len + SEP;
        if actual_max * 3 + self.indentation >= BREAK_LENGTH
            || !(total as f64 / actual_max as f64 > 5.0 || max_len <= 6)
        {
            return output;
        }
        let average_bias = (actual_max as f64 - total as f64 / output.len() as f64).sqrt();
        let biased_max = (actual_max as f64 - 3.0 - average_bias).max(1.0);
        let columns = [
            ((2.5 * biased_max * len as f64).sqrt() / biased_max).round() as usize,
            (BREAK_LENGTH - self.indentation) / actual_max,
            COMPACT * 4,
            15,
        ]
        .into_iter()
        .min()
        .unwrap_or(1);
        if columns <= 1 {
            return output;
        }
        let max_line: Vec<usize> = (0..columns)
            .map(|i| {
                let widest = (i..len).step_by(columns).map(|j| data_len[j]).max();
                widest.unwrap_or(0) + SEP
            })
            .collect();
        let mut rows = Vec::new();
        for i in (0..len).step_by(columns) {
            let end = (i + columns).min(len);
            let mut row = String::new();
            for j in i..end - 1 {
                let cell = format!("{}, ", output[j]);
                row.push_str(&pad(&cell, max_line[j - i], numeric));
            }
            let last = &output[end - 1];
            if numeric {
                row.push_str(&pad(last, max_line[end - 1 - i] - SEP, true));
            } else {
                row.push_str(last);
            }
            rows.push(row);
        }
        if has_more {
            rows.push(output[len].clone());
        }
        rows
    }

    fn array(&mut self, items: &'v [Value], number: Option<u32>, rt: usize) -> String {
        let (items, more) = match items.split_last() {
            Some((last, rest)) if matches!(self.marker(last), Some(Marker::More { .. })) => {
                (rest, Some(last))
            }
            _ => (items, None),
        };
        if items.is_empty() && more.is_none() {
            return "[]".into();
        }
        let shown = items.len().min(MAX_ARRAY_LENGTH);
        let checked = (shown + 1).min(items.len());
        let numeric = items[..checked]
            .iter()
            .all(|v| matches!(v, Value::Number(_) | Value::BigInt(_)));
        let shape = Shape {
            open: "[".into(),
            close: "]",
            name: "Array".into(),
            array_like: true,
            numeric,
        };
        self.container(number, shape, rt, |cx, rt| {
            let mut out = Vec::new();
            for v in &items[..shown] {
                if cx.over_budget(&out) {
                    cx.exhausted = true;
                    break;
                }
                cx.indentation += 2;
                out.push(cx.value(v, rt));
                cx.indentation -= 2;
            }
            let left = (items.len() - out.len()) as u64;
            if left > 0 {
                out.push(remaining_text(left, "items"));
            } else if let Some(more) = more {
                out.push(cx.value(more, rt));
            }
            out
        })
    }

    /// An object's properties; `name` is a class name (`Foo {`), or empty.
    fn props(
        &mut self,
        name: &str,
        props: &'v [(String, Value)],
        number: Option<u32>,
        rt: usize,
    ) -> String {
        let shape = Shape {
            open: if name.is_empty() {
                "{".into()
            } else {
                format!("{name} {{")
            },
            close: "}",
            name: if name.is_empty() { "Object" } else { name }.into(),
            array_like: false,
            numeric: false,
        };
        let marker_key = self.marker_key;
        self.container(number, shape, rt, |cx, rt| {
            let mut out = Vec::new();
            for (i, (key, v)) in props.iter().enumerate() {
                if cx.over_budget(&out) {
                    cx.exhausted = true;
                    out.push(remaining_text((props.len() - i) as u64, "properties"));
                    break;
                }
                cx.indentation += 2;
                let shown = cx.value(v, rt);
                cx.indentation -= 2;
                if Some(key.as_str()) == marker_key {
                    out.push(shown); // the console's "N more properties"
                } else {
                    out.push(format!("{}: {shown}", property_key(key)));
                }
            }
            out
        })
    }

    fn map(&mut self, entries: &'v [(Value, Value)], number: Option<u32>, rt: usize) -> String {
        let more = entries.last().and_then(|(k, _)| match self.marker(k) {
            Some(Marker::More { count, .. }) => Some(count),
            _ => None,
        });
        let size = entries.len() as u64 - u64::from(more.is_some()) + more.unwrap_or(0);
        if size == 0 {
            return "Map(0) {}".into();
        }
        let shape = Shape {
            open: format!("Map({size}) {{"),
            close: "}",
            name: "Map".into(),
            array_like: false,
            numeric: false,
        };
        self.container(number, shape, rt, |cx, rt| {
            let mut out = Vec::new();
            cx.indentation += 2;
            for (k, v) in entries.iter().take(MAX_ARRAY_LENGTH) {
                if cx.over_budget(&out) {
                    cx.exhausted = true;
                    break;
                }
                if matches!(cx.marker(k), Some(Marker::More { .. })) {
                    break;
                }
                let k = cx.value(k, rt);
                let v = cx.value(v, rt);
                out.push(format!("{k} => {v}"));
            }
            cx.indentation -= 2;
            let left = size - out.len() as u64;
            if left > 0 {
                out.push(remaining_text(left, "items"));
            }
            out
        })
    }

    fn set(&mut self, items: &'v [Value], number: Option<u32>, rt: usize) -> String {
        let more = items.last().and_then(|v| match self.marker(v) {
            Some(Marker::More { count, .. }) => Some(count),
            _ => None,
        });
        let listed = &items[..items.len() - usize::from(more.is_some())];
        let size = listed.len() as u64 + more.unwrap_or(0);
        if size == 0 {
            return "Set(0) {}".into();
        }
        let shape = Shape {
            open: format!("Set({size}) {{"),
            close: "}",
            name: "Set".into(),
            array_like: false,
            numeric: false,
        };
        self.container(number, shape, rt, |cx, rt| {
            let mut out = Vec::new();
            cx.indentation += 2;
            for v in listed.iter().take(MAX_ARRAY_LENGTH) {
                if cx.over_budget(&out) {
                    cx.exhausted = true;
                    break;
                }
                out.push(cx.value(v, rt));
            }
            cx.indentation -= 2;
            let left = size - out.len() as u64;
            if left > 0 {
                out.push(remaining_text(left, "items"));
            }
            out
        })
    }

    /// Node's `formatError`: the stack when it has frames, else `[Name: message]`;
    /// continuation lines indented to where the error is printed.
    fn error(&self, name: &str, message: &str, stack: Option<&str>) -> String {
        let stack = match stack.filter(|s| !s.is_empty()) {
            Some(s) => s.to_owned(),
            None if message.is_empty() => name.to_owned(),
            None if name.is_empty() => message.to_owned(),
            None => format!("{name}: {message}"),
        };
        let from = match stack.find(message) {
            Some(p) if p > 0 && !message.is_empty() => p + message.len(),
            _ => 0,
        };
        let text = if stack[from..].contains("\n    at") {
            stack
        } else {
            format!("[{stack}]")
        };
        if self.indentation == 0 {
            text
        } else {
            text.replace('\n', &format!("\n{}", " ".repeat(self.indentation)))
        }
    }

    /// `ArrayBuffer { [Uint8Contents]: <01 02>, byteLength: 2 }`; `head` holds at least
    /// the first 100 bytes of `len`.
    fn buffer(&mut self, name: &str, head: &[u8], len: usize, rt: usize) -> String {
        let shape = Shape {
            open: format!("{name} {{"),
            close: "}",
            name: name.into(),
            array_like: false,
            numeric: false,
        };
        self.container(None, shape, rt, |_, _| {
            let hex: Vec<String> = head
                .iter()
                .take(MAX_ARRAY_LENGTH)
                .map(|b| format!("{b:02x}"))
                .collect();
            let mut contents = hex.join(" ");
            if len > MAX_ARRAY_LENGTH {
                let left = len - MAX_ARRAY_LENGTH;
                contents.push_str(&format!(
                    " ... {left} more byte{}",
                    if left > 1 { "s" } else { "" }
                ));
            }
            vec![
                format!("[Uint8Contents]: <{contents}>"),
                format!("byteLength: {len}"),
            ]
        })
    }

    /// A typed array (`Uint8Array(2) [ 1, 2 ]`) or a `DataView` over `view`, which starts
    /// at `offset` in `buffer`.
    fn typed(
        &mut self,
        kind: TypedArrayKind,
        view: &[u8],
        buffer: &[u8],
        offset: usize,
        rt: usize,
    ) -> String {
        if kind == TypedArrayKind::DataView {
            let shape = Shape {
                open: "DataView {".into(),
                close: "}",
                name: "DataView".into(),
                array_like: false,
                numeric: false,
            };
            return self.container(None, shape, rt, |cx, rt| {
                cx.indentation += 2;
                let buffer = cx.buffer("ArrayBuffer", buffer, buffer.len(), rt);
                cx.indentation -= 2;
                vec![
                    format!("byteLength: {}", view.len()),
                    format!("byteOffset: {offset}"),
                    format!("buffer: {buffer}"),
                ]
            });
        }
        let size = kind.element_size();
        let length = view.len() / size;
        let name = kind.name();
        if length == 0 {
            return format!("{name}(0) []");
        }
        let shape = Shape {
            open: format!("{name}({length}) ["),
            close: "]",
            name: name.into(),
            array_like: true,
            numeric: true,
        };
        self.container(None, shape, rt, |_, _| {
            let mut out: Vec<String> = view
                .chunks_exact(size)
                .take(MAX_ARRAY_LENGTH)
                .map(|c| element(kind, c))
                .collect();
            if length > MAX_ARRAY_LENGTH {
                out.push(remaining_text((length - MAX_ARRAY_LENGTH) as u64, "items"));
            }
            out
        })
    }

    /// A string inside a value: quoted, cut at 10,000 characters, and split at its line
    /// breaks when it is long (Node's `formatPrimitive`).
    fn string(&self, s: &str) -> String {
        let mut units = 0;
        let mut cut = s.len();
        for (i, c) in s.char_indices() {
            if units + c.len_utf16() > MAX_STRING_LENGTH {
                cut = i;
                break;
            }
            units += c.len_utf16();
        }
        let (s, trailer) = if cut < s.len() {
            let left = s.encode_utf16().count() - units;
            let plural = if left > 1 { "s" } else { "" };
            (&s[..cut], format!("... {left} more character{plural}"))
        } else {
            (s, String::new())
        };
        let len = units;
        if len > 16 && (len as isize) > BREAK_LENGTH as isize - self.indentation as isize - 4 {
            let glue = format!(" +\n{}", " ".repeat(self.indentation + 2));
            let lines: Vec<String> = s.split_inclusive('\n').map(quote).collect();
            return lines.join(&glue) + &trailer;
        }
        quote(s) + &trailer
    }
}

/// Node's `isBelowBreakLength`.
fn below_break_length(output: &[String], start: usize, base: &str) -> bool {
    let mut total = output.len() + start;
    if total + output.len() > BREAK_LENGTH {
        return false;
    }
    for entry in output {
        total += width(entry);
        if total > BREAK_LENGTH {
            return false;
        }
    }
    base.is_empty() || !base.contains('\n')
}

fn pad(s: &str, to: usize, at_start: bool) -> String {
    let fill = " ".repeat(to.saturating_sub(width(s)));
    if at_start {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// One element of a typed array (little-endian, as every engine here stores them).
fn element(kind: TypedArrayKind, b: &[u8]) -> String {
    use TypedArrayKind::*;
    let n = |bytes: &[u8]| -> [u8; 8] {
        let mut a = [0; 8];
        a[..bytes.len()].copy_from_slice(bytes);
        a
    };
    let a = n(b);
    match kind {
        Int8 => inspect_number(f64::from(b[0] as i8)),
        Uint8 | Uint8Clamped | DataView => inspect_number(f64::from(b[0])),
        Int16 => inspect_number(f64::from(i16::from_le_bytes([a[0], a[1]]))),
        Uint16 => inspect_number(f64::from(u16::from_le_bytes([a[0], a[1]]))),
        Int32 => inspect_number(f64::from(i32::from_le_bytes([a[0], a[1], a[2], a[3]]))),
        Uint32 => inspect_number(f64::from(u32::from_le_bytes([a[0], a[1], a[2], a[3]]))),
        Float32 => inspect_number(f64::from(f32::from_le_bytes([a[0], a[1], a[2], a[3]]))),
        Float64 => inspect_number(f64::from_le_bytes(a)),
        BigInt64 => format!("{}n", i64::from_le_bytes(a)),
        BigUint64 => format!("{}n", u64::from_le_bytes(a)),
    }
}

/// A property name: bare when it is an identifier (`a`, `_b1`), quoted otherwise.
fn property_key(key: &str) -> String {
    let mut chars = key.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident { key.to_owned() } else { quote(key) }
}

/// Node's `strEscape`: single quotes, or double quotes or backticks when that avoids
/// escaping a `'`; control characters escaped.
pub fn quote(s: &str) -> String {
    let q = if !s.contains('\'') {
        '\''
    } else if !s.contains('"') {
        '"'
    } else if !s.contains('`') && !s.contains("${") {
        '`'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(q);
    for c in s.chars() {
        match c {
            '\'' if q == '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(v: &Value) -> String {
        inspect(v, &InspectOptions::default()).unwrap()
    }

    #[test]
    fn strings_quote_and_escape_as_node_does() {
        assert_eq!(quote("a"), "'a'");
        assert_eq!(quote("it's"), "\"it's\"");
        assert_eq!(quote("it's \"x\""), "`it's \"x\"`");
        assert_eq!(quote("'\"`"), "'\\'\"`'");
        assert_eq!(quote("a\nb\t\\\u{1}\u{7f}"), "'a\\nb\\t\\\\\\x01\\x7F'");
        assert_eq!(property_key("a_1"), "a_1");
        assert_eq!(property_key("1a"), "'1a'");
        assert_eq!(property_key("$"), "'$'");
        // A long string with line breaks, inside an array, splits at them.
        let long = Value::Array(vec![Value::String(format!(
            "{}\n{}",
            "x".repeat(40),
            "y".repeat(40)
        ))]);
        assert_eq!(
            show(&long),
            format!(
                "[\n  '{}\\n' +\n    '{}'\n]",
                "x".repeat(40),
                "y".repeat(40)
            )
        );
    }

    #[test]
    fn binary_data_and_errors_print_as_node_does() {
        let bytes = vec![1, 0, 2, 0];
        let typed = Value::TypedArray {
            kind: TypedArrayKind::Uint16,
            bytes: bytes.clone(),
        };
        assert_eq!(show(&typed), "Uint16Array(2) [ 1, 2 ]");
        let view = Value::Array(vec![
            Value::ArrayBuffer(bytes),
            Value::TypedArrayView {
                kind: TypedArrayKind::Int8,
                buffer: 1,
                byte_offset: 2,
                byte_length: 2,
            },
        ]);
        assert_eq!(
            show(&view),
            "[ ArrayBuffer { [Uint8Contents]: <01 00 02 00>, byteLength: 4 }, Int8Array(2) [ 2, 0 ] ]"
                .replace("[ ArrayBuffer", "[\n  ArrayBuffer")
                .replace(", Int8Array", ",\n  Int8Array")
                .replace("0 ] ]", "0 ]\n]")
        );
        let e = Value::Error(isovm::ErrorValue {
            name: "RangeError".into(),
            message: "no".into(),
            stack: None,
        });
        assert_eq!(show(&e), "[RangeError: no]");
        assert_eq!(show(&Value::Date(f64::NAN)), "Invalid Date");
    }

    #[test]
    fn console_markers_print_only_with_their_key() {
        let key = "\u{0}k";
        let marker = |kind: &str, fields: Vec<(&str, Value)>| {
            let mut props = vec![(key.to_owned(), Value::from(kind))];
            props.extend(fields.into_iter().map(|(k, v)| (k.to_owned(), v)));
            Value::Object(props)
        };
        let more = marker("more", vec![("count", 5.into()), ("noun", "items".into())]);
        let set = Value::Set(vec![1.into(), more.clone()]);
        let map = Value::Map(vec![(1.into(), 2.into()), (more, Value::Undefined)]);
        let f = marker("raw", vec![("text", "[Function: f]".into())]);
        let class = marker(
            "class",
            vec![
                ("name", "P".into()),
                ("value", Value::object([("x", 1.into())])),
            ],
        );
        let all = Value::Array(vec![set, map, f, class]);
        let options = InspectOptions {
            depth: 2,
            marker_key: Some(key),
        };
        assert_eq!(
            inspect(&all, &options).unwrap(),
            "[\n  Set(6) { 1, ... 5 more items },\n  Map(6) { 1 => 2, ... 5 more items },\n  \
             [Function: f],\n  P { x: 1 }\n]"
        );
        // Without the key (a result), the same objects are plain data.
        assert!(show(&all).contains("'\\x00k': 'raw'"), "{}", show(&all));
    }
}
