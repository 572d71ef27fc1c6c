//! Where a log shipper puts a container's log: the object key template, as configured in the
//! shipper (Fluent Bit's `s3_key_format`, Vector's `key_prefix` + file name).
//!
//! Syntax: `{namespace}`, `{pod}`, `{container}`, `{app_id}` for what the dashboard knows,
//! `{*}` for what it does not (a container id, a UUID, an index), and strftime fields
//! `%Y %m %d %H %M %S %F %s` for the time of the object's first record.
//!
//! Reading a container's log takes: list the longest prefix the template fixes (per hour of the
//! job's life when a time field comes before the pod), keep keys that match the whole template,
//! order them by their time. A template without the pod in it (Vector's default `date=%F/`)
//! still works: its objects are read and their records filtered by the pod they name.

use super::record::Nanos;
use jiff::Timestamp;
use jiff::tz::TimeZone;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(Var),
    Any,
    Time(char),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    Namespace,
    Pod,
    Container,
    AppId,
}

/// A template that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown variable {{{0}}} in the log key template (use {{namespace}}, {{pod}}, {{container}}, {{app_id}} or {{*}})")]
    Variable(String),
    #[error("unknown time field %{0} in the log key template (use %Y %m %d %H %M %S %F %s)")]
    Time(char),
    #[error("unclosed {{ in the log key template")]
    Unclosed,
}

/// What the dashboard knows about the container whose log it wants.
#[derive(Clone, Copy, Debug)]
pub struct KeyVars<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    pub app_id: Option<&'a str>,
}

impl KeyVars<'_> {
    fn get(&self, var: Var) -> Option<&str> {
        match var {
            Var::Namespace => Some(self.namespace),
            Var::Pod => Some(self.pod),
            Var::Container => Some(self.container),
            Var::AppId => self.app_id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyTemplate {
    parts: Vec<Part>,
    source: String,
}

/// Fluent Bit's default `s3_key_format` with its `kube.*` tag: one container file per prefix.
pub const FLUENT_BIT_DEFAULT: &str = "fluent-bit-logs/kube.var.log.containers.{pod}_{namespace}_{container}-{*}.log/%Y/%m/%d/%H/%M/%S-{*}";
/// Raw CRI files copied from the nodes' `/var/log/pods/<ns>_<pod>_<uid>/<container>/N.log`.
pub const CRI_DEFAULT: &str = "pods/{namespace}_{pod}_{*}/{container}/{*}";
/// Vector's defaults (`key_prefix = "date=%F/"`, `%s` file names with a UUID): every pod mixed.
pub const VECTOR_DEFAULT: &str = "date=%F/%s-{*}";

impl KeyTemplate {
    pub fn parse(s: &str) -> Result<KeyTemplate, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = s.chars();
        let flush = |literal: &mut String, parts: &mut Vec<Part>| {
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(literal)));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(TemplateError::Unclosed),
                        }
                    }
                    flush(&mut literal, &mut parts);
                    parts.push(match name.as_str() {
                        "namespace" => Part::Var(Var::Namespace),
                        "pod" => Part::Var(Var::Pod),
                        "container" => Part::Var(Var::Container),
                        "app_id" => Part::Var(Var::AppId),
                        "*" => Part::Any,
                        _ => return Err(TemplateError::Variable(name)),
                    });
                }
                '%' => match chars.next() {
                    Some('%') => literal.push('%'),
                    Some('F') => {
                        flush(&mut literal, &mut parts);
                        parts.extend([
                            Part::Time('Y'),
                            Part::Literal("-".into()),
                            Part::Time('m'),
                            Part::Literal("-".into()),
                            Part::Time('d'),
                        ]);
                    }
                    Some(f @ ('Y' | 'm' | 'd' | 'H' | 'M' | 'S' | 's')) => {
                        flush(&mut literal, &mut parts);
                        parts.push(Part::Time(f));
                    }
                    Some(other) => return Err(TemplateError::Time(other)),
                    None => return Err(TemplateError::Time(' ')),
                },
                c => literal.push(c),
            }
        }
        flush(&mut literal, &mut parts);
        Ok(KeyTemplate { parts, source: s.to_string() })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether keys name the pod, so that objects hold only that pod's lines.
    pub fn names_pod(&self) -> bool {
        self.parts.contains(&Part::Var(Var::Pod))
    }

    /// The prefixes to list for these vars over `[from, to]`: the template up to the first part
    /// the dashboard cannot fill, with leading time fields (up to hours) filled per hour.
    pub fn prefixes(&self, vars: &KeyVars<'_>, from: Timestamp, to: Timestamp) -> Vec<String> {
        let fixed = |t: Option<Timestamp>| -> String {
            let mut prefix = String::new();
            for part in &self.parts {
                match part {
                    Part::Literal(s) => prefix.push_str(s),
                    Part::Var(v) => match vars.get(*v) {
                        Some(value) => prefix.push_str(value),
                        None => break,
                    },
                    Part::Time(f @ ('Y' | 'm' | 'd' | 'H')) if t.is_some() => {
                        prefix.push_str(&format_field(*f, t.unwrap_or(Timestamp::UNIX_EPOCH)));
                    }
                    Part::Time(_) | Part::Any => break,
                }
            }
            prefix
        };
        let plain = fixed(None);
        let has_time_prefix = fixed(Some(from)) != plain;
        if !has_time_prefix || to < from {
            return vec![plain];
        }
        let mut prefixes: Vec<String> = Vec::new();
        let mut hour = from.checked_sub(jiff::SignedDuration::from_secs(from.as_second().rem_euclid(3600))).unwrap_or(from);
        // A month of hours at most: a longer job lists its first month's prefixes and its last.
        let mut steps = 0;
        while hour <= to && steps < 24 * 31 {
            let prefix = fixed(Some(hour));
            if prefixes.last() != Some(&prefix) {
                prefixes.push(prefix);
            }
            hour = hour.checked_add(jiff::SignedDuration::from_hours(1)).unwrap_or(Timestamp::MAX);
            steps += 1;
        }
        let last = fixed(Some(to));
        if !prefixes.contains(&last) {
            prefixes.push(last);
        }
        prefixes
    }

    /// The key a shipper writes for an object whose first record is at `time`; `any` fills each
    /// `{*}` in turn (a container id, a UUID).
    pub fn render(&self, vars: &KeyVars<'_>, time: Timestamp, any: &mut impl FnMut(usize) -> String) -> String {
        let mut key = String::new();
        let mut anys = 0;
        for part in &self.parts {
            match part {
                Part::Literal(s) => key.push_str(s),
                Part::Var(v) => key.push_str(vars.get(*v).unwrap_or("unknown")),
                Part::Any => {
                    key.push_str(&any(anys));
                    anys += 1;
                }
                Part::Time(f) => key.push_str(&format_field(*f, time)),
            }
        }
        key
    }

    /// Whether `key` is this template with these vars; `Some(time)` when it is, the time being
    /// the one its time fields spell (None when it has none).
    pub fn matches(&self, key: &str, vars: &KeyVars<'_>) -> Option<Option<Nanos>> {
        let mut fields = TimeFields::default();
        if !match_parts(&self.parts, key, vars, &mut fields) {
            return None;
        }
        Some(fields.time())
    }
}

fn format_field(f: char, t: Timestamp) -> String {
    let zoned = t.to_zoned(TimeZone::UTC);
    match f {
        's' => t.as_second().to_string(),
        f => zoned.strftime(&format!("%{f}")).to_string(),
    }
}

#[derive(Default, Clone, Copy)]
struct TimeFields {
    year: Option<i16>,
    month: Option<i8>,
    day: Option<i8>,
    hour: i8,
    minute: i8,
    second: i8,
    epoch: Option<i64>,
}

impl TimeFields {
    fn time(&self) -> Option<Nanos> {
        if let Some(epoch) = self.epoch {
            return Some(Nanos(epoch.saturating_mul(1_000_000_000)));
        }
        let date = jiff::civil::date(self.year?, self.month.unwrap_or(1), self.day.unwrap_or(1));
        let datetime = date.at(self.hour, self.minute, self.second, 0);
        datetime.to_zoned(TimeZone::UTC).ok().map(|z| Nanos::of(z.timestamp()))
    }

    fn set(&mut self, f: char, digits: &str) -> bool {
        let Ok(n) = digits.parse::<i64>() else { return false };
        match f {
            'Y' => self.year = i16::try_from(n).ok(),
            'm' => self.month = i8::try_from(n).ok().filter(|m| (1..=12).contains(m)),
            'd' => self.day = i8::try_from(n).ok().filter(|d| (1..=31).contains(d)),
            'H' => self.hour = i8::try_from(n).ok().filter(|h| *h < 24).unwrap_or(-1),
            'M' => self.minute = i8::try_from(n).ok().filter(|m| *m < 60).unwrap_or(-1),
            'S' => self.second = i8::try_from(n).ok().filter(|s| *s < 61).unwrap_or(-1),
            _ => self.epoch = Some(n),
        }
        !matches!((f, self.month, self.day), ('m', None, _) | ('d', _, None)) && self.hour >= 0 && self.minute >= 0 && self.second >= 0
    }
}

/// Matches parts against the key with backtracking over `{*}` (short templates, short keys).
fn match_parts(parts: &[Part], key: &str, vars: &KeyVars<'_>, fields: &mut TimeFields) -> bool {
    let Some((part, rest)) = parts.split_first() else {
        return key.is_empty();
    };
    match part {
        Part::Literal(s) => key.strip_prefix(s.as_str()).is_some_and(|k| match_parts(rest, k, vars, fields)),
        Part::Var(v) => match vars.get(*v) {
            Some(value) => key.strip_prefix(value).is_some_and(|k| match_parts(rest, k, vars, fields)),
            // Not known (no app id yet): anything up to the next separator.
            None => match_any(rest, key, vars, fields),
        },
        Part::Any => match_any(rest, key, vars, fields),
        Part::Time(f) => {
            let width = match f {
                'Y' => 4,
                's' => key.bytes().take_while(u8::is_ascii_digit).count(),
                _ => 2,
            };
            let Some(digits) = key.get(..width).filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) else {
                return false;
            };
            let saved = *fields;
            if fields.set(*f, digits) && match_parts(rest, &key[width..], vars, fields) {
                return true;
            }
            *fields = saved;
            false
        }
    }
}

fn match_any(rest: &[Part], key: &str, vars: &KeyVars<'_>, fields: &mut TimeFields) -> bool {
    key.char_indices().map(|(i, _)| i).chain(std::iter::once(key.len())).any(|i| {
        let saved = *fields;
        let matched = match_parts(rest, &key[i..], vars, fields);
        if !matched {
            *fields = saved;
        }
        matched
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: KeyVars<'static> =
        KeyVars { namespace: "spark-jobs", pod: "etl-driver", container: "spark-kubernetes-driver", app_id: None };

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn fluent_bit_default_lists_one_prefix_per_container() {
        let template = KeyTemplate::parse(FLUENT_BIT_DEFAULT).unwrap();
        assert!(template.names_pod());
        let prefixes = template.prefixes(&VARS, t("2026-11-21T05:10:00Z"), t("2026-11-21T07:00:00Z"));
        assert_eq!(prefixes, ["fluent-bit-logs/kube.var.log.containers.etl-driver_spark-jobs_spark-kubernetes-driver-"]);
        let key =
            "fluent-bit-logs/kube.var.log.containers.etl-driver_spark-jobs_spark-kubernetes-driver-0a1b2c.log/2026/11/21/05/10/03-Xy12AbCd";
        assert_eq!(template.matches(key, &VARS), Some(Some(Nanos::of(t("2026-11-21T05:10:03Z")))));
        let rendered = template.render(&VARS, t("2026-11-21T05:10:03.5Z"), &mut |i| ["0a1b2c", "Xy12AbCd"][i].to_string());
        assert_eq!(rendered, key);
        // Another pod whose name starts the same way is not this one.
        let other = key.replace("etl-driver_", "etl-driver-2_");
        assert_eq!(template.matches(&other, &VARS), None);
    }

    #[test]
    fn time_first_templates_list_per_hour() {
        let template = KeyTemplate::parse("logs/%Y/%m/%d/%H/{namespace}/{pod}/{container}/%M%S-{*}.gz").unwrap();
        let prefixes = template.prefixes(&VARS, t("2026-11-21T22:30:00Z"), t("2026-11-22T00:10:00Z"));
        assert_eq!(
            prefixes,
            [
                "logs/2026/11/21/22/spark-jobs/etl-driver/spark-kubernetes-driver/",
                "logs/2026/11/21/23/spark-jobs/etl-driver/spark-kubernetes-driver/",
                "logs/2026/11/22/00/spark-jobs/etl-driver/spark-kubernetes-driver/"
            ]
        );
        let key = "logs/2026/11/21/23/spark-jobs/etl-driver/spark-kubernetes-driver/5901-abc.gz";
        assert_eq!(template.matches(key, &VARS), Some(Some(Nanos::of(t("2026-11-21T23:59:01Z")))));
        let vector = KeyTemplate::parse(VECTOR_DEFAULT).unwrap();
        assert!(!vector.names_pod());
        assert_eq!(vector.prefixes(&VARS, t("2026-11-21T22:30:00Z"), t("2026-11-22T00:10:00Z")), ["date=2026-11-21/", "date=2026-11-22/"]);
        assert_eq!(vector.matches("date=2026-11-21/1763764200-0f9e.log.gz", &VARS), Some(Some(Nanos(1_763_764_200_000_000_000))));
    }

    #[test]
    fn bad_templates_say_why() {
        assert_eq!(KeyTemplate::parse("{pods}/x").unwrap_err(), TemplateError::Variable("pods".into()));
        assert_eq!(KeyTemplate::parse("%q").unwrap_err(), TemplateError::Time('q'));
        assert_eq!(KeyTemplate::parse("a/{pod").unwrap_err(), TemplateError::Unclosed);
        assert_eq!(
            KeyTemplate::parse("100%%/{pod}").unwrap().prefixes(&VARS, t("2026-01-01T00:00:00Z"), t("2026-01-01T00:00:00Z")),
            ["100%/etl-driver"]
        );
    }
}
