//! Kubernetes resource quantities (`500m`, `4Gi`, `12e6`) as plain numbers, for what the
//! simulated cluster reads of itself: a container's requests and limits, and the usage it
//! reports against them.
//!
//! The sim parses them on its own, from the API's grammar (`<signedNumber><suffix>`, suffix one
//! of the binary `Ki`..`Ei`, the decimal `n u m k M G T P E`, or an exponent `e<n>`), rather
//! than borrowing the dashboard's parser: the dashboard reads the quantities the sim serves, so
//! a parser they shared would agree with itself whatever it got wrong.

/// Binary suffixes: powers of 1024.
const BINARY: [(&str, i32); 6] = [("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];
/// Decimal suffixes: powers of 1000 (`n` and `u` are not in the grammar's comment, but the API
/// server accepts them and metrics-server writes CPU usage in `n`).
const DECIMAL: [(&str, i32); 9] = [("n", -3), ("u", -2), ("m", -1), ("k", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5), ("E", 6)];

/// The quantity's value in base units (cores, bytes): `2432Mi` -> 2550136832, `500m` -> 0.5.
/// `None` for anything that is not a quantity, and for negative ones: no request, limit or
/// usage is below zero, so a minus sign means the object is wrong, not small.
pub fn parse(quantity: &str) -> Option<f64> {
    let s = quantity.trim();
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    let number_len = number_prefix(unsigned)?;
    let (number, suffix) = unsigned.split_at(number_len);
    let factor = suffix_factor(suffix)?;
    let value = number.parse::<f64>().ok()? * factor;
    value.is_finite().then_some(value)
}

/// The length of the leading `digits[.digits]` (either side may be empty, not both).
fn number_prefix(s: &str) -> Option<usize> {
    let digits = |from: usize| s[from..].bytes().take_while(u8::is_ascii_digit).count();
    let whole = digits(0);
    let fraction = if s[whole..].starts_with('.') { Some(digits(whole + 1)) } else { None };
    match fraction {
        None if whole > 0 => Some(whole),
        Some(f) if whole + f > 0 => Some(whole + 1 + f),
        _ => None,
    }
}

/// What a suffix multiplies by; `None` for one the grammar does not have.
fn suffix_factor(suffix: &str) -> Option<f64> {
    if suffix.is_empty() {
        return Some(1.0);
    }
    if let Some((_, power)) = BINARY.iter().find(|(s, _)| *s == suffix) {
        return Some(1024f64.powi(*power));
    }
    if let Some((_, power)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
        return Some(1000f64.powi(*power));
    }
    // An exponent: `e3`, `E-2`, `e+6` (a lone `E` is exa, found above).
    let exponent = suffix.strip_prefix(['e', 'E'])?;
    let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let power: i32 = exponent.parse().ok()?;
    Some(10f64.powi(power))
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn close(got: Option<f64>, expected: f64) -> bool {
        got.is_some_and(|g| (g - expected).abs() <= expected.abs() * 1e-12)
    }

    #[test]
    fn every_suffix_of_the_grammar() {
        assert!(close(parse("4Gi"), 4.0 * 1024.0 * 1024.0 * 1024.0));
        assert!(close(parse("937464Ki"), 937_464.0 * 1024.0));
        assert!(close(parse("2432Mi"), 2_550_136_832.0));
        assert!(close(parse("1Ei"), 2f64.powi(60)));
        assert!(close(parse("500m"), 0.5));
        assert!(close(parse("508234567n"), 0.508_234_567));
        assert!(close(parse("250u"), 0.000_25));
        assert!(close(parse("2k"), 2000.0));
        assert!(close(parse("1G"), 1e9));
        assert!(close(parse("3E"), 3e18), "a lone E is exa");
        assert!(close(parse("12e6"), 12e6));
        assert!(close(parse("5E-1"), 0.5));
        assert!(close(parse("1e+3"), 1000.0));
        assert!(close(parse("1.5"), 1.5));
        assert!(close(parse(".5"), 0.5));
        assert!(close(parse("2."), 2.0));
        assert!(close(parse("+2"), 2.0));
        assert!(close(parse(" 2 "), 2.0));
    }

    #[test]
    fn what_is_not_a_quantity_is_none() {
        for bad in ["", "Mi", ".", "lots", "inf", "NaN", "-1", "1.2.3", "2mi", "2 Gi", "1e", "1e1.5", "1ee3", "++1", "1Gii"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
