//! Declared failures: trials that fail today, each with what actually happened.
//!
//! A declared trial that fails passes; a declared trial that passes fails the run, so
//! this list can only shrink honestly. Never loosen a bound instead.

/// `(trial name, what happened)`.
pub const DECLARED: &[(&str, &str)] = &[
    (
        "cli/boa-wasi/deep_recursion_through_to_string",
        "unbounded toString recursion returns '' (Ok) instead of a RangeError/StackOverflow",
    ),
    (
        "api/boa-wasi/deep_recursion_through_to_string",
        "unbounded toString recursion returns '' (Ok) instead of a RangeError/StackOverflow",
    ),
    (
        "cli/v8/eval_big_sources_loop",
        "MemoryLimit, but at 165-174 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "api/v8/eval_big_sources_loop",
        "MemoryLimit, but at 165-174 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "cli/v8/hole_array_3e7_result",
        "MemoryLimit, but at 248 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "api/v8/hole_array_3e7_result",
        "MemoryLimit, but at 248 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "cli/v8/json_parse_wide",
        "MemoryLimit, but at 287 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "api/v8/json_parse_wide",
        "MemoryLimit, but at 287 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "cli/v8/replace_huge",
        "MemoryLimit after 3.9-4.4 s (3 s timeout) at 157 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "api/v8/replace_huge",
        "MemoryLimit after 3.9-4.4 s (3 s timeout) at 157 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "cli/v8/bigint_squaring",
        "MemoryLimit, but at 157-278 MB resident (32 MB limit; bound 147 MB): the last squaring runs outside the limit",
    ),
    (
        "api/v8/bigint_squaring",
        "MemoryLimit, but at 157-278 MB resident (32 MB limit; bound 147 MB): the last squaring runs outside the limit",
    ),
    (
        "cli/v8/string_flatten_bomb",
        "MemoryLimit, but at 403 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "api/v8/string_flatten_bomb",
        "MemoryLimit, but at 403 MB resident (32 MB limit; bound 146 MB)",
    ),
    (
        "cli/v8/string_join_bomb",
        "MemoryLimit, but only at 276 MB resident: a 256 MB joined string under a 32 MB limit",
    ),
    (
        "api/v8/string_join_bomb",
        "MemoryLimit, but only at 276 MB resident: a 256 MB joined string under a 32 MB limit",
    ),
];

/// Trials that fail on a fast machine and pass on a slow one: the overshoot grows with
/// how far V8 gets before the deadline stops it. Either outcome is accepted and logged,
/// never counted as a pass; the reason stands as for [`DECLARED`].
pub const VARIES: &[(&str, &str)] = &[
    (
        "cli/v8/json_stringify_dag",
        "Timeout at 5.2 s, with 400-510 MB resident (32 MB limit) on an idle machine: the \
         stringify output is not counted; under load V8 gets less far and stays in bounds",
    ),
    (
        "api/v8/json_stringify_dag",
        "Timeout at 5.2 s, with 400-510 MB resident (32 MB limit) on an idle machine: the \
         stringify output is not counted; under load V8 gets less far and stays in bounds",
    ),
];

/// Why `trial`'s outcome varies with the machine's speed, if it does.
pub fn varies(trial: &str) -> Option<&'static str> {
    VARIES
        .iter()
        .find(|(name, _)| *name == trial)
        .map(|(_, why)| *why)
}

/// Why `trial` is declared to fail, if it is.
pub fn reason(trial: &str) -> Option<&'static str> {
    DECLARED
        .iter()
        .find(|(name, _)| *name == trial)
        .map(|(_, why)| *why)
}
