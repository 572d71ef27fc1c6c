//! Where each shipper puts an object: its object key, built from the shipper's own settings
//! and defaults rather than from the dashboard's key template, so that a template the dashboard
//! gets wrong fails against keys it did not make.
//!
//! - **Fluent Bit**: `s3_key_format` defaults to `/fluent-bit-logs/$TAG/%Y/%m/%d/%H/%M/%S`,
//!   the key must start with `/` and S3 keeps it without that slash; `$TAG` is the `tail`
//!   input's `kube.*` tag, `kube.` plus the path of `/var/log/containers/<pod>_<namespace>_
//!   <container>-<container id>.log` with dots for slashes; a format without `$UUID` gets `-`
//!   and eight random characters appended when the object goes up by `PutObject`, as small
//!   `upload_timeout` batches do. The time is the first record's.
//! - **Vector**: the `aws_s3` sink's `key_prefix` (here `date=%F/`: Vector's documented way to
//!   make it a directory; its bare default `date=%F` has no slash), then `filename_time_format`
//!   (`%s`), `-` and a UUID v4 (`filename_append_uuid`), and gzip's extension `.log.gz`.
//! - **CRI**: the kubelet's files copied from the node as they rotate:
//!   `pods/<namespace>_<pod>_<uid>/<container>/0.log.<YYYYMMDD-HHMMSS>`, the copier adding the
//!   position of the object's first line (twelve digits) and `.gz`: the sim copies every few
//!   seconds, and two copies within one second must neither overwrite each other nor sort by
//!   chance (this layout spells no time the dashboard can read, so it reads in key order).
//! - **A template** (`--log-key-template`, in the dashboard's documented syntax): `{namespace}`,
//!   `{pod}`, `{container}`, `{app_id}`, `{*}`, `%Y %m %d %H %M %S %F %s`, `%%`. The sim fills
//!   `{*}` with the container id when the key names the pod (the first one) and a token
//!   otherwise, and adds `.gz` after a template that ends in a variable.

use super::record::{ShipFormat, Source};
use jiff::Timestamp;

/// An object key layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyLayout {
    FluentBit,
    Vector,
    Cri,
    Template(Template),
}

/// A parsed `--log-key-template`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
    source: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Namespace,
    Pod,
    Container,
    /// The application id: the shipper does not know it, so it writes `unknown`.
    AppId,
    Any,
    Time(char),
}

/// A template the sim cannot render.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("unknown variable {{{0}}} (use {{namespace}}, {{pod}}, {{container}}, {{app_id}} or {{*}})")]
    Variable(String),
    #[error("unknown time field %{0} (use %Y %m %d %H %M %S %F %s)")]
    Time(char),
    #[error("a % at the end")]
    TrailingPercent,
    #[error("unclosed {{")]
    Unclosed,
}

/// What one object's key is made of.
#[derive(Clone, Copy, Debug)]
pub struct ObjectName<'a> {
    pub source: Source<'a>,
    /// The time of the object's first record.
    pub first: Timestamp,
    /// The position of the object's first line in the container's log.
    pub first_line: u64,
    /// Unique per object: stands for the shipper's random UUID, so a seed replays the same keys.
    pub token: u64,
}

impl KeyLayout {
    /// The format's own default layout.
    pub fn default_for(format: ShipFormat) -> KeyLayout {
        match format {
            ShipFormat::FluentBit => KeyLayout::FluentBit,
            ShipFormat::Vector => KeyLayout::Vector,
            ShipFormat::Cri => KeyLayout::Cri,
        }
    }

    /// A `--log-key-template`.
    pub fn template(template: &str) -> Result<KeyLayout, LayoutError> {
        Template::parse(template).map(KeyLayout::Template)
    }

    /// Whether each object holds one container's lines (Vector's default mixes every pod).
    pub fn per_container(&self) -> bool {
        match self {
            KeyLayout::FluentBit | KeyLayout::Cri => true,
            KeyLayout::Vector => false,
            KeyLayout::Template(t) => t.parts.contains(&Part::Pod),
        }
    }

    /// The object's key.
    pub fn key(&self, name: &ObjectName<'_>) -> String {
        let s = &name.source;
        match self {
            KeyLayout::FluentBit => {
                let tag = format!("kube.var.log.containers.{}_{}_{}-{}.log", s.pod, s.namespace, s.container, s.container_id);
                format!("fluent-bit-logs/{tag}/{}-{}", name.first.strftime("%Y/%m/%d/%H/%M/%S"), alphanumeric8(name.token))
            }
            KeyLayout::Vector => {
                format!("date={}/{}-{}.log.gz", name.first.strftime("%Y-%m-%d"), name.first.as_second(), uuid_v4(name.token))
            }
            KeyLayout::Cri => format!(
                "pods/{}_{}_{}/{}/0.log.{}.{:012}.gz",
                s.namespace,
                s.pod,
                s.pod_uid,
                s.container,
                name.first.strftime("%Y%m%d-%H%M%S"),
                name.first_line
            ),
            KeyLayout::Template(t) => t.render(name),
        }
    }
}

impl Template {
    pub fn parse(s: &str) -> Result<Template, LayoutError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            let part = match c {
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(LayoutError::Unclosed),
                        }
                    }
                    match name.as_str() {
                        "namespace" => Part::Namespace,
                        "pod" => Part::Pod,
                        "container" => Part::Container,
                        "app_id" => Part::AppId,
                        "*" => Part::Any,
                        _ => return Err(LayoutError::Variable(name)),
                    }
                }
                '%' => match chars.next() {
                    Some('%') => {
                        text.push('%');
                        continue;
                    }
                    Some(f @ ('Y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'F' | 's')) => Part::Time(f),
                    Some(other) => return Err(LayoutError::Time(other)),
                    None => return Err(LayoutError::TrailingPercent),
                },
                c => {
                    text.push(c);
                    continue;
                }
            };
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(part);
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts, source: s.to_string() })
    }

    fn render(&self, name: &ObjectName<'_>) -> String {
        let s = &name.source;
        let names_pod = self.parts.contains(&Part::Pod);
        let mut key = String::new();
        let mut anys = 0;
        for part in &self.parts {
            match part {
                Part::Text(t) => key.push_str(t),
                Part::Namespace => key.push_str(s.namespace),
                Part::Pod => key.push_str(s.pod),
                Part::Container => key.push_str(s.container),
                Part::AppId => key.push_str("unknown"),
                Part::Any => {
                    if anys == 0 && names_pod {
                        key.push_str(&s.container_id[..s.container_id.len().min(12)]);
                    } else {
                        key.push_str(&format!("{:08x}", name.token as u32));
                    }
                    anys += 1;
                }
                Part::Time('s') => key.push_str(&name.first.as_second().to_string()),
                Part::Time(f) => key.push_str(&name.first.strftime(&format!("%{f}")).to_string()),
            }
        }
        if self.source.ends_with('}') && !key.ends_with(".gz") {
            key.push_str(".gz");
        }
        key
    }
}

/// Fluent Bit's appended "UUID": eight characters of `[a-z0-9]`, here from the token.
fn alphanumeric8(token: u64) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut n = token;
    (0..8)
        .map(|_| {
            let c = ALPHABET[(n % 36) as usize] as char;
            n /= 36;
            c
        })
        .collect()
}

/// A UUID v4's form (version 4, variant 10) from the token, hyphenated as Vector writes it.
fn uuid_v4(token: u64) -> String {
    let hi = token.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
    let lo = token.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let hi = (hi & !0xf000) | 0x4000;
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
    format!("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & 0xffff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name() -> ObjectName<'static> {
        ObjectName {
            source: Source {
                namespace: "spark-jobs",
                pod: "etl-driver",
                container: "spark-kubernetes-driver",
                container_id: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                pod_uid: "01234567-89ab-4def-8123-456789abcdef",
            },
            first: "2026-11-21T05:10:03.5Z".parse().unwrap(),
            first_line: 42,
            token: 0x1234_5678_9abc,
        }
    }

    #[test]
    fn each_shippers_default_key() {
        let key = KeyLayout::FluentBit.key(&name());
        let tag = "kube.var.log.containers.etl-driver_spark-jobs_spark-kubernetes-driver-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log";
        let (head, suffix) = key.rsplit_once('-').unwrap();
        assert_eq!(head, format!("fluent-bit-logs/{tag}/2026/11/21/05/10/03"));
        assert!(suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{suffix}");

        let key = KeyLayout::Vector.key(&name());
        let uuid = key.strip_prefix("date=2026-11-21/1795237803-").and_then(|k| k.strip_suffix(".log.gz")).expect(&key);
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{uuid}");
        assert_eq!(&uuid[14..15], "4", "version 4");
        assert!(matches!(&uuid[19..20], "8" | "9" | "a" | "b"), "variant 10: {uuid}");

        assert_eq!(
            KeyLayout::Cri.key(&name()),
            "pods/spark-jobs_etl-driver_01234567-89ab-4def-8123-456789abcdef/spark-kubernetes-driver/0.log.20261121-051003.000000000042.gz"
        );
    }

    #[test]
    fn templates_render_in_the_flags_syntax() {
        let layout = KeyLayout::template("logs/%F/%H/{namespace}/{pod}/{container}/%M%S-{*}-{*}").unwrap();
        assert!(layout.per_container());
        assert_eq!(layout.key(&name()), "logs/2026-11-21/05/spark-jobs/etl-driver/spark-kubernetes-driver/1003-0123456789ab-56789abc.gz");
        let mixed = KeyLayout::template("100%%/{app_id}/%s.json.gz").unwrap();
        assert!(!mixed.per_container());
        assert_eq!(mixed.key(&name()), "100%/unknown/1795237803.json.gz");
    }

    #[test]
    fn bad_templates_say_why() {
        assert_eq!(KeyLayout::template("{pods}/x"), Err(LayoutError::Variable("pods".into())));
        assert_eq!(KeyLayout::template("%q"), Err(LayoutError::Time('q')));
        assert_eq!(KeyLayout::template("a/%"), Err(LayoutError::TrailingPercent));
        assert_eq!(KeyLayout::template("a/{pod"), Err(LayoutError::Unclosed));
    }
}
