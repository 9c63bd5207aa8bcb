//! Numbers and dates written as JavaScript writes them: `Number.prototype.toString()` and
//! `Date.prototype.toISOString()`.

/// `n` as JavaScript's `String(n)` writes it (ECMA-262 Number::toString, radix 10): the
/// shortest digits that read back as `n`, in exponent form from 1e21 up and below 1e-6.
/// `-0` writes `0`, as in JS; [`inspect_number`] writes it `-0`, as `util.inspect` does.
pub fn js_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n.is_infinite() {
        return if n > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if n < 0.0 {
        return format!("-{}", js_number(-n));
    }
    // Rust's `{:e}` writes the shortest round-trip digits, closest to `n` among them (as
    // ECMA-262 asks): `d[.ddd]e<exp>`.
    let sci = format!("{n:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i64 = exp.parse().unwrap_or(0);
    let k = digits.len() as i64;
    // ECMA-262's n: the decimal point sits after the n-th digit.
    let point = exp + 1;
    if k <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - k) as usize))
    } else if 0 < point && point <= 21 {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{sign}{}", exp.abs())
        } else {
            format!("{first}.{rest}e{sign}{}", exp.abs())
        }
    }
}

/// A number as `util.inspect` writes it: [`js_number`], but `-0` stays `-0`.
pub fn inspect_number(n: f64) -> String {
    if n == 0.0 && n.is_sign_negative() {
        "-0".into()
    } else {
        js_number(n)
    }
}

/// A time value (ms since the epoch) as `Date.prototype.toISOString()` writes it, or
/// `Invalid Date` for NaN or a time outside the Date range.
pub fn iso_date(ms: f64) -> String {
    isovm::iso_date(ms).unwrap_or_else(|| "Invalid Date".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_js() {
        let cases: &[(f64, &str)] = &[
            (3.0, "3"),
            (-0.0, "0"),
            (0.5, "0.5"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e21, "1.5e+21"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.25e-7, "1.25e-7"),
            (-1.5, "-1.5"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (2f64.powi(53), "9007199254740992"),
            (123.456, "123.456"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (n, want) in cases {
            assert_eq!(js_number(*n), *want, "{n:?}");
        }
        assert_eq!(inspect_number(-0.0), "-0");
        assert_eq!(inspect_number(0.0), "0");
    }

    #[test]
    fn dates_print_as_iso_strings() {
        assert_eq!(iso_date(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_date(1_700_000_000_123.0), "2023-11-14T22:13:20.123Z");
        assert_eq!(iso_date(-1.0), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_date(951_782_400_000.0), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso_date(8.64e15), "+275760-09-13T00:00:00.000Z");
        assert_eq!(
            iso_date(-62_198_755_200_000.0),
            "-000001-01-01T00:00:00.000Z"
        );
        assert_eq!(iso_date(f64::NAN), "Invalid Date");
    }
}
