//! `console.log` and friends inside the sandbox, printed as Node prints them.
//!
//! The guest walks each argument once, with built-ins it took before the script ran
//! (a script that replaces `Object.keys` or `Map.prototype.get` changes nothing here),
//! into a bounded copy (depth 3, 100 items, 1,000 properties, 100,000 values) that
//! crosses as structured data. What cannot cross becomes a marker: functions, symbols,
//! accessors (which are not called), class names, and the count of what was left out.
//! The host formats the copy with the same formatter as results ([`crate::inspect`]).

use std::hash::{BuildHasher, RandomState};

use isovm::{Callback, Context, EvalOptions, Value};

use crate::inspect::{InspectOptions, inspect};
use crate::number::{inspect_number, js_number};

const GUEST: &str = r#"
const send = $0, KEY = $1;
const { getPrototypeOf, keys, getOwnPropertyDescriptor: own, defineProperty } = Object;
const { apply } = Reflect;
const isArray = Array.isArray, isView = ArrayBuffer.isView;
const ObjectProto = Object.prototype, ErrorProto = Error.prototype;
const MapCtor = Map, SetCtor = Set;
const getter = (proto, name) => own(proto, name).get;
const mapSize = getter(Map.prototype, 'size'), setSize = getter(Set.prototype, 'size');
const mapGet = Map.prototype.get, mapSet = Map.prototype.set;
const setAdd = Set.prototype.add;
const mapEntries = Map.prototype.entries, setValues = Set.prototype.values;
const mapNext = getPrototypeOf(new Map().entries()).next;
const setNext = getPrototypeOf(new Set().values()).next;
const dateTime = Date.prototype.getTime;
const regexpSource = getter(RegExp.prototype, 'source');
const bufferLength = getter(ArrayBuffer.prototype, 'byteLength');
const sharedLength = typeof SharedArrayBuffer === 'function'
  ? getter(SharedArrayBuffer.prototype, 'byteLength') : undefined;
const fnToString = Function.prototype.toString, symToString = Symbol.prototype.toString;
const startsWith = String.prototype.startsWith, endsWith = String.prototype.endsWith;
const tagKey = Symbol.toStringTag;
const DEPTH = 2, ITEMS = 100, PROPS = 1000, VALUES = 100000;

const brand = (f, v) => { try { apply(f, v, []); return true; } catch (_) { return false; } };
const put = (o, k, v) => defineProperty(o, k,
  { value: v, writable: true, enumerable: true, configurable: true });
const marker = (kind, fields) => {
  const m = {};
  put(m, KEY, kind);
  const ks = keys(fields);
  for (let i = 0; i < ks.length; i++) put(m, ks[i], fields[ks[i]]);
  return m;
};
const raw = (text) => marker('raw', { text });
const more = (count, noun) => marker('more', { count, noun });
const valueOf = (o, k) => { const d = own(o, k); return d && 'value' in d ? d.value : undefined; };

const fnText = (f) => {
  let src = '';
  try { src = apply(fnToString, f, []); } catch (_) {}
  const name = valueOf(f, 'name');
  const named = typeof name === 'string' && name !== '';
  if (apply(startsWith, src, ['class'])) return named ? `[class ${name}]` : '[class (anonymous)]';
  let kind = 'Function';
  const proto = getPrototypeOf(f);
  const tag = proto && valueOf(proto, tagKey);
  if (typeof tag === 'string' && apply(endsWith, tag, ['Function'])) kind = tag;
  return named ? `[${kind}: ${name}]` : `[${kind} (anonymous)]`;
};

const className = (v) => {
  for (let p = getPrototypeOf(v); p !== null; p = getPrototypeOf(p)) {
    const c = valueOf(p, 'constructor');
    const name = typeof c === 'function' ? valueOf(c, 'name') : undefined;
    if (typeof name === 'string' && name !== '') return name === 'Object' ? '' : name;
  }
  return '[Object: null prototype]';
};

const isError = (v) => {
  for (let p = getPrototypeOf(v); p !== null; p = getPrototypeOf(p)) {
    if (p === ErrorProto) return true;
  }
  return false;
};

// A fresh error with the name, message and stack of `e` (anything else on `e`, or an
// object that only inherits from Error.prototype, stays behind).
const ErrorCtor = Error;
const errorCopy = (e) => {
  const text = (k) => {
    try { const x = e[k]; return typeof x === 'string' ? x : undefined; } catch (_) { return undefined; }
  };
  const message = text('message');
  const copy = new ErrorCtor(message === undefined ? '' : message);
  const hidden = (k, value) => defineProperty(copy, k,
    { value, writable: true, enumerable: false, configurable: true });
  const name = text('name');
  if (name !== undefined) hidden('name', name);
  const stack = text('stack');
  const head = name === undefined ? 'Error' : name;
  hidden('stack', stack !== undefined ? stack
    : message ? (head ? `${head}: ${message}` : message) : head);
  return copy;
};

const walker = () => {
  const memo = new MapCtor();
  let left = VALUES;
  const prop = (o, k, depth) => {
    const d = own(o, k);
    if (d === undefined) return undefined;
    if ('value' in d) return walk(d.value, depth);
    if (d.get && d.set) return raw('[Getter/Setter]');
    return raw(d.get ? '[Getter]' : '[Setter]');
  };
  const walk = (v, depth) => {
    const t = typeof v;
    if (t === 'function') return raw(fnText(v));
    if (t === 'symbol') return raw(apply(symToString, v, []));
    if (t !== 'object' || v === null) return v;
    const done = apply(mapGet, memo, [v]);
    if (done !== undefined) return done;
    if (--left < 0) return raw('[Object]');
    const proto = getPrototypeOf(v);
    // Plain objects and arrays skip the brand checks (each costs a thrown exception).
    const special = !isArray(v) && proto !== ObjectProto && proto !== null;
    // Copied as they are: their copies hold only their own data (bytes, a time, a
    // pattern), which brand checks vouch for.
    if (special && (brand(dateTime, v) || brand(regexpSource, v) || isView(v) || brand(bufferLength, v)
        || (sharedLength && brand(sharedLength, v)))) return v;
    if (special && isError(v)) return errorCopy(v);
    const deep = depth > DEPTH;
    if (isArray(v)) {
      const len = v.length;
      if (deep && len > 0) return raw('[Array]');
      const out = [];
      apply(mapSet, memo, [v, out]);
      const n = len < ITEMS ? len : ITEMS;
      for (let i = 0; i < n && left > 0; i++) put(out, i, prop(v, i, depth + 1));
      if (len > out.length) put(out, out.length, more(len - out.length, 'items'));
      return out;
    }
    if (special && brand(mapSize, v)) {
      const size = apply(mapSize, v, []);
      if (deep && size > 0) return raw('[Map]');
      const out = new MapCtor();
      apply(mapSet, memo, [v, out]);
      const it = apply(mapEntries, v, []);
      let n = 0;
      for (let e = apply(mapNext, it, []); !e.done && n < ITEMS && left > 0;
           e = apply(mapNext, it, []), n++) {
        apply(mapSet, out, [walk(e.value[0], depth + 1), walk(e.value[1], depth + 1)]);
      }
      if (size > n) apply(mapSet, out, [more(size - n, 'items'), undefined]);
      return out;
    }
    if (special && brand(setSize, v)) {
      const size = apply(setSize, v, []);
      if (deep && size > 0) return raw('[Set]');
      const out = new SetCtor();
      apply(mapSet, memo, [v, out]);
      const it = apply(setValues, v, []);
      let n = 0;
      for (let e = apply(setNext, it, []); !e.done && n < ITEMS && left > 0;
           e = apply(setNext, it, []), n++) {
        apply(setAdd, out, [walk(e.value, depth + 1)]);
      }
      if (size > n) apply(setAdd, out, [more(size - n, 'items')]);
      return out;
    }
    const name = proto === ObjectProto ? '' : className(v);
    const ks = keys(v);
    if (deep && ks.length > 0) return raw(apply(startsWith, name, ['[']) ? name : `[${name || 'Object'}]`);
    const copy = {};
    const result = name ? marker('class', { name, value: copy }) : copy;
    apply(mapSet, memo, [v, result]);
    const n = ks.length < PROPS ? ks.length : PROPS;
    let i = 0;
    for (; i < n && left > 0; i++) put(copy, ks[i], prop(v, ks[i], depth + 1));
    if (ks.length > i) put(copy, KEY, more(ks.length - i, 'properties'));
    return result;
  };
  return (v) => walk(v, 0);
};

const plain = (v) => {
  if (typeof v === 'string') return v;
  try { return raw(typeof v === 'function' ? fnText(v) : String(v)); }
  catch (_) { return raw('[object]'); }
};

// Arrays built without the (replaceable) array methods or iterators.
const each = (args, f) => {
  const out = [];
  for (let i = 0; i < args.length; i++) put(out, i, f(args[i]));
  return out;
};
const prepend = (first, rest) => {
  const out = [first];
  for (let i = 0; i < rest.length; i++) put(out, i + 1, rest[i]);
  return out;
};
const one = (a) => (typeof a === 'object' && a !== null ? walker()(a)
  : typeof a === 'function' ? raw(fnText(a))
  : typeof a === 'symbol' ? raw(apply(symToString, a, [])) : a);

const make = (level) => (...args) => {
  let walked;
  try {
    walked = prepend(level, each(args, one));
  } catch (_) {
    walked = undefined;
  }
  if (walked !== undefined) {
    try { apply(send, undefined, walked); return; } catch (_) {}
  }
  // Something in the arguments would not walk or cross (a hostile proxy, an error
  // with a throwing stack): print each as its string.
  apply(send, undefined, prepend(level, each(args, plain)));
};
globalThis.console = {
  log: make('log'), info: make('info'), debug: make('debug'),
  warn: make('warn'), error: make('error'), trace: make('error'),
};
const fail = make('error');
globalThis.console.assert = (ok, ...args) => {
  if (ok) return;
  if (typeof args[0] !== 'string') return apply(fail, undefined, prepend('Assertion failed', args));
  const rest = [];
  for (let i = 1; i < args.length; i++) put(rest, i - 1, args[i]);
  apply(fail, undefined, prepend(`Assertion failed: ${args[0]}`, rest));
};
"#;

/// Installs `console` in `context`; `print(line, to_stderr)` writes each formatted line.
pub fn install(context: &Context, print: fn(&str, bool)) -> isovm::Result<()> {
    let key = marker_key();
    let host_key = key.clone();
    let send = Callback::new(move |args| {
        let level = args.first().and_then(Value::as_str).unwrap_or("log");
        let line = format_args(args.get(1..).unwrap_or(&[]), Some(&host_key));
        print(&line, matches!(level, "warn" | "error"));
        Ok(Value::Undefined)
    });
    context.eval_closure(
        GUEST,
        vec![Value::Callback(send), Value::String(key)],
        &EvalOptions::default(),
    )?;
    Ok(())
}

/// A key no script can guess, for the console's marker objects.
fn marker_key() -> String {
    let n = RandomState::new().hash_one(std::process::id());
    format!("\u{0}isovm:{n:016x}")
}

fn show(v: &Value, depth: usize, key: Option<&str>) -> String {
    let options = InspectOptions {
        depth,
        marker_key: key,
    };
    inspect(v, &options).unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

/// Node's `util.format`: a first string argument's `%s %d %i %f %j %o %O %c %%` take the
/// next arguments; the rest print separated by spaces, strings as they are.
pub fn format_args(args: &[Value], key: Option<&str>) -> String {
    let mut out = String::new();
    let mut next = 0;
    if let [Value::String(only)] = args {
        return only.clone();
    }
    if let Some(Value::String(first)) = args.first() {
        next = 1;
        let mut chars = first.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(&d) = chars.peek() else {
                out.push(c);
                break;
            };
            if d == '%' {
                chars.next();
                out.push('%');
                continue;
            }
            if !"sdifjoOc".contains(d) || next >= args.len() {
                out.push(c);
                continue;
            }
            chars.next();
            let arg = &args[next];
            next += 1;
            out.push_str(&directive(d, arg, key));
        }
    }
    let mut join = next > 0;
    for arg in args.get(next..).unwrap_or(&[]) {
        if join {
            out.push(' ');
        }
        join = true;
        match arg {
            Value::String(s) => out.push_str(s),
            other => out.push_str(&show(other, 2, key)),
        }
    }
    out
}

fn directive(d: char, arg: &Value, key: Option<&str>) -> String {
    let number = |n: f64| inspect_number(n);
    match (d, arg) {
        (_, Value::BigInt(b)) if "sdi".contains(d) => format!("{b}n"),
        ('s', Value::String(s)) => s.clone(),
        ('s', Value::Number(n)) => number(*n),
        ('s', other) => show(other, 0, key),
        ('d', v) => number(to_number(v)),
        ('i', v) => number(parse_int(&to_js_string(v))),
        ('f', v) => number(parse_float(&to_js_string(v))),
        ('j', v) => json(v),
        ('o', v) => show(v, 4, key),
        ('O', v) => show(v, 2, key),
        _ => String::new(), // %c: CSS, ignored
    }
}

/// `Number(v)` for the data a copy holds (objects other than dates are NaN).
fn to_number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Null => 0.0,
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                0.0
            } else if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                u64::from_str_radix(hex, 16).map_or(f64::NAN, |n| n as f64)
            } else if t.contains(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
                && !t.trim_start_matches(['+', '-']).eq("Infinity")
            {
                f64::NAN
            } else {
                t.parse().unwrap_or(f64::NAN)
            }
        }
        Value::Date(ms) => *ms,
        _ => f64::NAN,
    }
}

fn to_js_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => js_number(*n),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Undefined => "undefined".into(),
        _ => "[object Object]".into(),
    }
}

/// `parseInt(s)` (radix 10 or a `0x` prefix).
fn parse_int(s: &str) -> f64 {
    let t = s.trim_start();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    let (radix, t) = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(rest) => (16, rest),
        None => (10, t),
    };
    let digits: String = t.chars().take_while(|c| c.is_digit(radix)).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    let n = digits.chars().fold(0.0, |acc, c| {
        acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
    });
    sign * n
}

/// `parseFloat(s)`: the longest decimal literal at the start.
fn parse_float(s: &str) -> f64 {
    let t = s.trim_start();
    for inf in ["Infinity", "+Infinity"] {
        if t.starts_with(inf) {
            return f64::INFINITY;
        }
    }
    if t.starts_with("-Infinity") {
        return f64::NEG_INFINITY;
    }
    // Try the longest prefix first; literals are short in practice.
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(t.len());
    (1..=end)
        .rev()
        .find_map(|i| t[..i].parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// `JSON.stringify(v)` for `%j` (`[Circular]` for a cycle, as Node prints it).
fn json(v: &Value) -> String {
    if v.is_undefined() {
        return "undefined".into();
    }
    match v.expand_backrefs() {
        Ok(tree) => serde_json::to_string(&tree).unwrap_or_else(|_| "undefined".into()),
        Err(_) => "[Circular]".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    #[test]
    fn format_substitutes_like_node() {
        let args = [s("%s is %d years, %i%%, %f, %j"), s("Bob"), 42.5.into()];
        assert_eq!(format_args(&args, None), "Bob is 42.5 years, %i%, %f, %j");
        let args = [
            s("%i|%f|%d|%s"),
            s("42.9px"),
            s("3.5e2x"),
            s(" 0x10 "),
            (-0.0).into(),
        ];
        assert_eq!(format_args(&args, None), "42|350|16|-0");
        let args = [s("a"), 1.into(), s("b"), Value::object([("k", s("v"))])];
        assert_eq!(format_args(&args, None), "a 1 b { k: 'v' }");
        let args = [1.into(), s("x")];
        assert_eq!(format_args(&args, None), "1 x");
        let args = [
            s("%j %o"),
            Value::object([("a", 1.into())]),
            Value::Array(vec![]),
        ];
        assert_eq!(format_args(&args, None), r#"{"a":1} []"#);
        assert_eq!(format_args(&[s("100%%")], None), "100%%");
        assert_eq!(format_args(&[s("100%%"), 1.into()], None), "100% 1");
    }
}
