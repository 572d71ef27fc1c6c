//! Kubernetes resource quantities (`500m`, `2`, `4Gi`, `1e3`) as plain numbers: CPU in cores,
//! memory in bytes, the units the metrics API and the charts use.

/// A quantity's value: `2432Mi` -> 2550136832, `500m` -> 0.5, `1.5` -> 1.5, `12e6` -> 12000000.
/// `None` for anything the API server itself would refuse.
pub fn parse(quantity: &str) -> Option<f64> {
    let quantity = quantity.trim();
    const SUFFIXES: [(&str, f64); 15] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let (number, factor) =
        SUFFIXES.iter().find_map(|(suffix, factor)| quantity.strip_suffix(suffix).map(|n| (n, *factor))).unwrap_or((quantity, 1.0));
    // Rust's float parser also takes `inf` and `NaN`, which no quantity is.
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    let value = number.parse::<f64>().ok()? * factor;
    (value.is_finite() && value >= 0.0).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quantities_parse_in_every_form_the_api_server_writes() {
        let cases = [
            ("2432Mi", Some(2432.0 * 1_048_576.0)),
            ("4Gi", Some(4.0 * 1_073_741_824.0)),
            ("937464Ki", Some(937_464.0 * 1024.0)),
            ("1000", Some(1000.0)),
            ("2", Some(2.0)),
            ("500m", Some(0.5)),
            ("508234567n", Some(0.508_234_567)),
            ("1.5", Some(1.5)),
            ("12e6", Some(12e6)),
            ("1G", Some(1e9)),
            ("lots", None),
            ("inf", None),
            ("NaN", None),
            ("", None),
            ("Mi", None),
            ("-1", None),
        ];
        for (quantity, expected) in cases {
            let got = parse(quantity);
            match (got, expected) {
                (Some(g), Some(e)) => assert!((g - e).abs() <= e * 1e-12, "{quantity}: {g} != {e}"),
                _ => assert_eq!(got, expected, "{quantity}"),
            }
        }
    }
}
