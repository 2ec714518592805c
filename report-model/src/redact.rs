//! Secret redaction: well-known secret forms (and the user's patterns) become `[redacted:<kind>]` before anything is written.
//!
//! The rules run in order over a string, each on what the ones before left; a replaced value
//! starts with `[`, which no built-in value may start with, and a match that starts with
//! `[redacted:` is never replaced, so nothing is counted twice. Bytes that are not UTF-8 are
//! redacted as text too. What was replaced is tallied by place (e.g. `run.json:command`) and
//! kind, never by value.

use std::borrow::Cow;
use std::collections::BTreeMap;

use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use regex::{Regex, RegexSet};

use crate::bundle::{self, Limits, Member, MANIFEST};
use crate::schema::experiment::Experiment;
use crate::schema::kernel_event::{EventDetail, KernelEvent};
use crate::schema::manifest::Manifest;
use crate::schema::run::{Redacted, Redaction};
use crate::schema::{parse_json, Versioned};
use crate::ModelError;

/// A value after `=` or `:`: up to a space, quote, backslash or separator, never starting
/// with `[` (so a `[redacted:…]` is not taken again).
const VALUE: &str = r#"[^\s"'\\,;&\[][^\s"'\\,;&]*"#;

/// A value after a space (`--token VALUE` inside one string): as [`VALUE`], and not
/// starting with `-` either (that is the next option, not a value).
const SPACED_VALUE: &str = r#"[^\s"'\\,;&\[-][^\s"'\\,;&]*"#;

/// An opening quote before a value, plain or JSON-escaped (`"`, `'`, `\"`).
const QUOTE: &str = r#"(?:\\?["'])?"#;

/// The option names that hold a secret (after `-` or `--`, with any `word-` prefix).
const SECRET_NAMES: &str = "password|passwd|token|secret|api-?key|apikey";

/// The kind of a user's `--redact` pattern.
pub const CUSTOM: &str = "custom";

/// Where [`Settings`] are kept in a results directory (never in its bundle).
pub const SETTINGS_FILE: &str = "redact.json";

/// The built-in forms: (kind, pattern). Where a pattern has a group, only the group is
/// replaced (the name of the option, header or key stays, so the reader sees what was there).
fn builtin() -> Vec<(&'static str, String)> {
    vec![
        (
            // An OTLP attribute whose key names a secret (`db.password`, `x-api-key`): its
            // string value, whole (escapes included), before any rule takes a part of it.
            "secret-attribute",
            r#"(?i)"key"\s*:\s*"[^"\\]*(?:password|passwd|secret|token|authorization|api[-_.]?key|apikey)"\s*,\s*"value"\s*:\s*\{\s*"stringValue"\s*:\s*"((?:[^"\\]|\\.)+)""#.into(),
        ),
        (
            // A PEM private key's body (headers and base64, raw or with JSON/TOML `\n`
            // escapes), up to its END line or the first character no body holds.
            "private-key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----((?:[A-Za-z0-9+/=\s:,.]|\\[nrt/]|-[A-Za-z0-9])+)".into(),
        ),
        (
            // `scheme://user:pw@`, also JSON-escaped (`scheme:\/\/user:pw@`).
            "url-userinfo",
            r#"(?i)\b[a-z][a-z0-9+.-]*:(?://|\\/\\/)([^\s/?#@"'\\\[][^\s/?#@"'\\]*)@"#.into(),
        ),
        (
            "authorization",
            format!(r"(?i)\bauthorization\s*[:=]\s*(?:(?:bearer|basic|token|digest)\s+)?({VALUE})"),
        ),
        ("bearer", r"(?i)\bbearer\s+([A-Za-z0-9._~+/=-]{8,})".into()),
        (
            "github-token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b".into(),
        ),
        ("gitlab-token", r"\bglpat-[A-Za-z0-9_-]{20,}".into()),
        (
            "aws-access-key",
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b".into(),
        ),
        (
            "jwt",
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*".into(),
        ),
        (
            "secret-option",
            format!(r"(?i)--?(?:[a-z0-9]+[-_])*(?:{SECRET_NAMES})={QUOTE}({VALUE})"),
        ),
        (
            // `--token VALUE` inside one string (an `sh -c` command line): the option
            // starts the string or follows a space or quote.
            "secret-option",
            format!(
                r#"(?i)(?:^|[\s"'])--?(?:[a-z0-9]+[-_])*(?:{SECRET_NAMES})\s+{QUOTE}({SPACED_VALUE})"#
            ),
        ),
        (
            "secret-assignment",
            format!(r"(?i)\b[a-z0-9_]*(?:_key|token|secret|password|passwd)=({VALUE})"),
        ),
    ]
}

/// An argv element that names a secret whose value is the next element (`--token VALUE`).
const SECRET_FLAG: &str = r"(?i)^--?(?:[a-z0-9]+[-_])*(?:password|passwd|token|secret|api-?key)$";

/// Literals that every built-in match contains (ASCII case-insensitive). A string with none
/// of them is clean without a pattern compiled or run: most captures never compile one
/// (compiling them all costs ~4 ms).
const NEEDLES: &[&str] = &[
    "://",
    r":\/\/",
    "authorization",
    "bearer",
    "gh",
    "github_pat_",
    "glpat-",
    "akia",
    "asia",
    "abia",
    "acca",
    "eyj",
    "password",
    "passwd",
    "token",
    "secret",
    "_key",
    "api-key",
    "api.key",
    "apikey",
    "private key",
];

/// One rule: what it is called and what it matches.
#[derive(Debug, Clone)]
struct Rule {
    kind: &'static str,
    re: Regex,
}

/// The patterns, compiled on first need.
#[derive(Debug)]
struct Compiled {
    rules: Vec<Rule>,
    /// All the rules at once: a string none of them matches is passed over in one scan.
    any: RegexSet,
    flag: Regex,
}

/// What to redact. Cheap to clone (the compiled patterns are shared).
#[derive(Debug, Clone)]
pub struct Redactor {
    enabled: bool,
    /// The user's patterns (already checked to compile).
    custom: Vec<String>,
    needles: AhoCorasick,
    compiled: Arc<OnceLock<Compiled>>,
    custom_patterns: u32,
}

/// `redact.json` (`tare.redact.v1`): the redaction a bench ran with, kept in its results
/// directory so that every later rebuild of the bundle (`tare report DIR`, `tare view DIR`)
/// redacts the same. It holds the `--redact` patterns, which may name secrets: it is never
/// put in a bundle, and only its owner may read it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub schema: String,
    /// False under `--no-redact`.
    pub enabled: bool,
    /// The `--redact` patterns, as given.
    #[serde(default)]
    pub patterns: Vec<String>,
}

impl Versioned for Settings {
    const SCHEMA: &'static str = "tare.redact.v1";
}

/// A pattern given with `--redact` that is not a regular expression.
#[derive(Debug, thiserror::Error)]
#[error("--redact {pattern:?} is not a regular expression: {reason}")]
pub struct BadPattern {
    pub pattern: String,
    pub reason: String,
}

impl Redactor {
    /// The built-in forms plus `custom` patterns (each replaced whole, or its first group).
    /// Only the custom patterns are compiled here (to refuse a bad one at once).
    pub fn new(custom: &[String]) -> Result<Redactor, BadPattern> {
        for p in custom {
            Regex::new(p).map_err(|e| BadPattern {
                pattern: p.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(Redactor {
            enabled: true,
            custom: custom.to_vec(),
            needles: AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(NEEDLES)
                .expect("the needles build"),
            compiled: Arc::new(OnceLock::new()),
            custom_patterns: custom.len() as u32,
        })
    }

    /// `--no-redact`: every value is kept as it was.
    pub fn off() -> Redactor {
        let mut r = Redactor::new(&[]).expect("no custom pattern to refuse");
        r.enabled = false;
        r
    }

    fn compiled(&self) -> &Compiled {
        self.compiled.get_or_init(|| {
            let mut rules: Vec<Rule> = builtin()
                .into_iter()
                .map(|(kind, p)| Rule {
                    kind,
                    re: Regex::new(&p).expect("built-in redaction patterns compile"),
                })
                .collect();
            for p in &self.custom {
                let re = Regex::new(p).expect("checked in Redactor::new");
                rules.push(Rule { kind: CUSTOM, re });
            }
            let any = RegexSet::new(rules.iter().map(|r| r.re.as_str()))
                .expect("patterns that compiled alone compile as a set");
            Compiled {
                rules,
                any,
                flag: Regex::new(SECRET_FLAG).expect("the secret-flag pattern compiles"),
            }
        })
    }

    /// Whether `s` could hold something to replace, without compiling a pattern.
    fn maybe(&self, s: &str) -> bool {
        self.enabled && (!self.custom.is_empty() || self.needles.is_match(s))
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether anything in `s` would be replaced (one scan for all the rules).
    pub fn matches(&self, s: &str) -> bool {
        self.maybe(s) && self.compiled().any.is_match(s)
    }

    /// `s` with every secret replaced; each replacement is tallied under `place`.
    pub fn text<'a>(&self, place: &str, s: &'a str, tally: &mut Tally) -> Cow<'a, str> {
        if !self.matches(s) {
            return Cow::Borrowed(s);
        }
        let mut out = Cow::Borrowed(s);
        for rule in &self.compiled().rules {
            if let Some(replaced) = replace(rule, &out) {
                tally.add(place, rule.kind, replaced.1);
                out = Cow::Owned(replaced.0);
            }
        }
        out
    }

    /// As [`Redactor::text`], in place.
    pub fn string(&self, place: &str, s: &mut String, tally: &mut Tally) {
        if let Cow::Owned(r) = self.text(place, s, tally) {
            *s = r;
        }
    }

    /// An argv: each element as text, and the element after a secret-naming option
    /// (`--password VALUE`) replaced whole.
    pub fn argv(&self, place: &str, argv: &[String], tally: &mut Tally) -> Vec<String> {
        let mut out = Vec::with_capacity(argv.len());
        let mut next_is_secret = false;
        for a in argv {
            if self.enabled && next_is_secret && !a.starts_with('[') {
                tally.add(place, "secret-option", 1);
                out.push(marker("secret-option"));
                next_is_secret = false;
                continue;
            }
            next_is_secret = self.maybe(a) && self.compiled().flag.is_match(a);
            out.push(self.text(place, a, tally).into_owned());
        }
        out
    }

    /// Bytes redacted as text, whether or not they are UTF-8. Valid UTF-8 comes out exactly
    /// as [`Redactor::text`] gives it. In other bytes each byte that is not UTF-8 stands for
    /// a character no rule stops at or takes for a word (so `\xff ghp_…` is still a token, and
    /// `password=\xffabc` a value, whole), and is put back as it was.
    pub fn bytes<'a>(&self, place: &str, data: &'a [u8], tally: &mut Tally) -> Cow<'a, [u8]> {
        if let Ok(s) = std::str::from_utf8(data) {
            return match self.text(place, s, tally) {
                Cow::Borrowed(_) => Cow::Borrowed(data),
                Cow::Owned(r) => Cow::Owned(r.into_bytes()),
            };
        }
        if !self.enabled || (self.custom.is_empty() && !self.needles.is_match(data)) {
            return Cow::Borrowed(data);
        }
        let Some(escaped) = escape_invalid(data) else {
            // The text already holds the stand-in characters (never seen in practice): each
            // UTF-8 run between the bytes that are not is redacted on its own.
            return self.runs(place, data, tally);
        };
        match self.text(place, &escaped, tally) {
            Cow::Borrowed(_) => Cow::Borrowed(data),
            Cow::Owned(r) => Cow::Owned(unescape_invalid(&r)),
        }
    }

    /// Each UTF-8 run of `data` redacted as text; the bytes between them kept.
    fn runs<'a>(&self, place: &str, data: &'a [u8], tally: &mut Tally) -> Cow<'a, [u8]> {
        let mut out = Vec::with_capacity(data.len());
        let mut changed = false;
        for chunk in data.utf8_chunks() {
            let t = self.text(place, chunk.valid(), tally);
            changed |= matches!(t, Cow::Owned(_));
            out.extend_from_slice(t.as_bytes());
            out.extend_from_slice(chunk.invalid());
        }
        if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(data)
        }
    }

    /// The redaction to remember beside a results directory (see [`Settings`]).
    pub fn settings(&self) -> Settings {
        Settings {
            schema: Settings::SCHEMA.into(),
            enabled: self.enabled,
            patterns: self.custom.clone(),
        }
    }

    /// The redactor that `settings` describe.
    pub fn from_settings(settings: &Settings) -> Result<Redactor, BadPattern> {
        if !settings.enabled {
            return Ok(Redactor::off());
        }
        Redactor::new(&settings.patterns)
    }

    /// What run.json records: on or off, how many user patterns, and what was replaced.
    pub fn report(&self, tally: &Tally) -> Redaction {
        Redaction {
            enabled: self.enabled,
            custom_patterns: self.custom_patterns,
            replaced: tally.rows(),
        }
    }
}

/// A kernel event with its strings (command name, exec filename, paths) redacted; places
/// are `kernel.ndjson:<field>`. Borrowed, with no copy, when nothing matched. `comm_clean`
/// says the caller already knows the command name holds nothing to redact (it changes only
/// at exec, and checking it on every event costs a scan).
pub fn event<'a>(
    r: &Redactor,
    ev: &'a KernelEvent,
    comm_clean: bool,
    tally: &mut Tally,
) -> Cow<'a, KernelEvent> {
    if !r.enabled {
        return Cow::Borrowed(ev);
    }
    let fields: [(&str, Option<&String>); 2] = match &ev.detail {
        EventDetail::Exec { filename }
        | EventDetail::ExecFailed { filename, .. }
        | EventDetail::CompatExec { filename, .. } => [("filename", Some(filename)), ("", None)],
        EventDetail::Open { path, .. } | EventDetail::Unlink { path, .. } => {
            [("path", Some(path)), ("", None)]
        }
        EventDetail::Rename { from, to, .. } => [("from", Some(from)), ("to", Some(to))],
        EventDetail::Connect { .. }
        | EventDetail::Fork { .. }
        | EventDetail::Exit { .. }
        | EventDetail::Write { .. }
        | EventDetail::IoUring { .. } => [("", None), ("", None)],
    };
    let dirty = |s: &str| r.matches(s);
    if (comm_clean || !dirty(&ev.comm)) && !fields.iter().any(|(_, f)| f.is_some_and(|s| dirty(s)))
    {
        return Cow::Borrowed(ev);
    }
    let mut out = ev.clone();
    r.string("kernel.ndjson:comm", &mut out.comm, tally);
    match &mut out.detail {
        EventDetail::Exec { filename }
        | EventDetail::ExecFailed { filename, .. }
        | EventDetail::CompatExec { filename, .. } => {
            r.string("kernel.ndjson:filename", filename, tally)
        }
        EventDetail::Open { path, .. } | EventDetail::Unlink { path, .. } => {
            r.string("kernel.ndjson:path", path, tally)
        }
        EventDetail::Rename { from, to, .. } => {
            r.string("kernel.ndjson:from", from, tally);
            r.string("kernel.ndjson:to", to, tally);
        }
        EventDetail::Connect { .. }
        | EventDetail::Fork { .. }
        | EventDetail::Exit { .. }
        | EventDetail::Write { .. }
        | EventDetail::IoUring { .. } => {}
    }
    Cow::Owned(out)
}

/// The experiment as a results directory keeps it (experiment.toml): its name and arm
/// commands redacted (places `experiment.toml:name`, `experiment.toml:commands`). The commands
/// that run are the caller's own, unredacted.
pub fn experiment(r: &Redactor, e: &Experiment, tally: &mut Tally) -> Experiment {
    let mut out = e.clone();
    r.string("experiment.toml:name", &mut out.name, tally);
    for cmd in out.commands.values_mut() {
        r.string("experiment.toml:commands", cmd, tally);
    }
    out
}

/// The bundle writer's second look: every text member redacted as text, and every archive
/// member (`*.tar.gz`) read, its text members redacted, and packed again with a fresh manifest
/// if anything changed. An archive that cannot be read is left out, since it cannot be
/// checked. Places are member paths (`samples/x.tar.gz:run.json`). Returns why any member
/// was left out.
pub fn members(r: &Redactor, members: &mut Vec<Member>, tally: &mut Tally) -> Vec<String> {
    let mut left_out = Vec::new();
    if !r.enabled {
        return left_out;
    }
    members.retain_mut(|m| {
        if !m.path.ends_with(".tar.gz") {
            if let Cow::Owned(d) = r.bytes(&m.path, &m.data, tally) {
                m.data = d;
            }
            return true;
        }
        match archive(r, &m.path, &m.data, tally) {
            Ok(Some(repacked)) => {
                m.data = repacked;
                true
            }
            Ok(None) => true,
            Err(e) => {
                left_out.push(format!(
                    "{} left out: it could not be checked for secrets ({e})",
                    m.path
                ));
                false
            }
        }
    });
    left_out
}

/// One archive's text members redacted; the repacked archive if anything was replaced.
fn archive(
    r: &Redactor,
    path: &str,
    data: &[u8],
    tally: &mut Tally,
) -> Result<Option<Vec<u8>>, ModelError> {
    let inner = bundle::read_tar_gz(path, data, &Limits::default())?;
    let manifest: Manifest = match inner.iter().find(|m| m.path == MANIFEST) {
        Some(m) => parse_json(
            &format!("{path}:{MANIFEST}"),
            &String::from_utf8_lossy(&m.data),
        )?,
        None => return Err(ModelError::container(path, "no manifest.json member")),
    };
    let mut found = Tally::default();
    let mut out = Vec::with_capacity(inner.len());
    for m in inner.into_iter().filter(|m| m.path != MANIFEST) {
        let place = format!("{path}:{}", m.path);
        let data = match r.bytes(&place, &m.data, &mut found) {
            Cow::Owned(d) => d,
            Cow::Borrowed(_) => m.data,
        };
        out.push(Member::new(m.path, data));
    }
    if found.total() == 0 {
        return Ok(None);
    }
    tally.absorb(&found);
    bundle::pack(path, manifest.kind, &manifest.id, out, manifest.notes).map(Some)
}

/// `[redacted:<kind>]`.
pub fn marker(kind: &str) -> String {
    format!("[redacted:{kind}]")
}

/// Where the bytes that are not UTF-8 stand while bytes are redacted as text: U+10FF00 + the
/// byte, private-use characters that no rule stops at or counts as a word character.
const STAND_IN: u32 = 0x10_FF00;

fn is_stand_in(c: char) -> bool {
    (STAND_IN..=STAND_IN + 0xFF).contains(&(c as u32))
}

/// `data` as text, each byte that is not UTF-8 replaced by its stand-in; `None` if the
/// UTF-8 in it already holds a stand-in (it could not be told apart when put back).
fn escape_invalid(data: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(data.len() + data.len() / 8);
    for chunk in data.utf8_chunks() {
        if chunk.valid().chars().any(is_stand_in) {
            return None;
        }
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push(char::from_u32(STAND_IN + u32::from(b))?);
        }
    }
    Some(out)
}

/// [`escape_invalid`] undone: every stand-in is its byte again.
fn unescape_invalid(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in s.chars() {
        if is_stand_in(c) {
            out.push((c as u32 - STAND_IN) as u8);
        } else {
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

/// `s` with `rule`'s matches (or their first group) replaced, and how many; `None` if none.
fn replace(rule: &Rule, s: &str) -> Option<(String, u64)> {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut n = 0u64;
    for caps in rule.re.captures_iter(s) {
        let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
            continue;
        };
        if m.is_empty() || m.as_str().starts_with("[redacted:") {
            continue;
        }
        out.push_str(&s[last..m.start()]);
        out.push_str(&marker(rule.kind));
        last = m.end();
        n += 1;
    }
    if n == 0 {
        return None;
    }
    out.push_str(&s[last..]);
    Some((out, n))
}

/// Counts of replaced values by (place, kind).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(BTreeMap<(String, String), u64>);

impl Tally {
    pub fn add(&mut self, place: &str, kind: &str, n: u64) {
        *self.0.entry((place.into(), kind.into())).or_default() += n;
    }

    /// Adds another tally's counts to this one.
    pub fn absorb(&mut self, other: &Tally) {
        for ((p, k), n) in &other.0 {
            self.add(p, k, *n);
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn rows(&self) -> Vec<Redacted> {
        self.0
            .iter()
            .map(|((place, kind), &count)| Redacted {
                place: place.clone(),
                kind: kind.clone(),
                count,
            })
            .collect()
    }
}

impl From<&[Redacted]> for Tally {
    fn from(rows: &[Redacted]) -> Tally {
        let mut t = Tally::default();
        for r in rows {
            t.add(&r.place, &r.kind, r.count);
        }
        t
    }
}

/// "3 values redacted (run.json:command 1, kernel.ndjson:path 2)", or that redaction was off.
pub fn describe(r: &Redaction) -> String {
    if !r.enabled {
        return "redaction off (--no-redact): secrets, if any, were kept".into();
    }
    let total: u64 = r.replaced.iter().map(|x| x.count).sum();
    if total == 0 {
        return "no secrets found to redact".into();
    }
    let mut by_place: BTreeMap<&str, u64> = BTreeMap::new();
    for x in &r.replaced {
        *by_place.entry(&x.place).or_default() += x.count;
    }
    let places: Vec<String> = by_place.iter().map(|(p, n)| format!("{p} {n}")).collect();
    format!(
        "{total} value{} redacted ({})",
        if total == 1 { "" } else { "s" },
        places.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(s: &str) -> (String, Tally) {
        let mut t = Tally::default();
        let r = Redactor::new(&[]).unwrap();
        let out = r.text("p", s, &mut t).into_owned();
        (out, t)
    }

    fn kinds(t: &Tally) -> Vec<String> {
        t.rows().into_iter().map(|r| r.kind).collect()
    }

    #[test]
    fn github_tokens() {
        let classic = format!("x --header=ghp_{}", "a1B2".repeat(9));
        let (out, t) = red(&classic);
        assert_eq!(out, "x --header=[redacted:github-token]");
        assert_eq!(kinds(&t), ["github-token"]);
        let fine = format!("GH github_pat_{} done", "Ab9_".repeat(20));
        assert_eq!(red(&fine).0, "GH [redacted:github-token] done");
        // Too short to be a token: kept.
        assert_eq!(red("ghp_short").0, "ghp_short");
    }

    #[test]
    fn gitlab_tokens() {
        let (out, t) = red("push glpat-AbCdEfGhIjKlMnOpQrSt12 now");
        assert_eq!(out, "push [redacted:gitlab-token] now");
        assert_eq!(kinds(&t), ["gitlab-token"]);
    }

    #[test]
    fn aws_access_keys() {
        let (out, t) = red("aws AKIAIOSFODNN7EXAMPLE s3 ls");
        assert_eq!(out, "aws [redacted:aws-access-key] s3 ls");
        assert_eq!(kinds(&t), ["aws-access-key"]);
        assert_eq!(red("AKIA_not_a_key").0, "AKIA_not_a_key");
    }

    #[test]
    fn jwts() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let (out, t) = red(&format!("/tmp/{jwt}/x"));
        assert_eq!(out, "/tmp/[redacted:jwt]/x");
        assert_eq!(kinds(&t), ["jwt"]);
    }

    #[test]
    fn authorization_and_bearer_values() {
        let (out, t) = red("Authorization: Bearer abc.def-ghi_123");
        assert_eq!(out, "Authorization: Bearer [redacted:authorization]");
        assert_eq!(kinds(&t), ["authorization"]);
        let (out, t) = red("authorization=Basic dXNlcjpwYXNz");
        assert_eq!(out, "authorization=Basic [redacted:authorization]");
        assert_eq!(t.total(), 1);
        let (out, t) = red("curl -H 'X-Auth: Bearer s3cr3t-v4lue' url");
        assert_eq!(out, "curl -H 'X-Auth: Bearer [redacted:bearer]' url");
        assert_eq!(kinds(&t), ["bearer"]);
    }

    #[test]
    fn secret_options_and_assignments() {
        let (out, t) = red("--password=hunter2 --token=abc --client-secret=xyz --name=ok");
        assert_eq!(
            out,
            "--password=[redacted:secret-option] --token=[redacted:secret-option] --client-secret=[redacted:secret-option] --name=ok"
        );
        assert_eq!(t.total(), 3);
        assert_eq!(kinds(&t), ["secret-option"]);
        let (out, t) = red("env OPENAI_API_KEY=sk-123 GH_TOKEN=zz HOME=/root monkey=1");
        assert_eq!(
            out,
            "env OPENAI_API_KEY=[redacted:secret-assignment] GH_TOKEN=[redacted:secret-assignment] HOME=/root monkey=1"
        );
        assert_eq!(t.total(), 2);
        let (out, _) = red("https://h/x?access_token=abc&page=2");
        assert_eq!(
            out,
            "https://h/x?access_token=[redacted:secret-assignment]&page=2"
        );
    }

    #[test]
    fn url_userinfo() {
        let (out, t) = red("git clone https://bob:p4ss@example.com/r.git");
        assert_eq!(
            out,
            "git clone https://[redacted:url-userinfo]@example.com/r.git"
        );
        assert_eq!(kinds(&t), ["url-userinfo"]);
        assert_eq!(red("mail me@example.com").0, "mail me@example.com");
    }

    #[test]
    fn argv_option_with_its_value_in_the_next_element() {
        let r = Redactor::new(&[]).unwrap();
        let mut t = Tally::default();
        let argv: Vec<String> = ["tool", "--password", "hunter2", "--api-key", "k", "file"]
            .map(String::from)
            .into();
        let out = r.argv("run.json:command", &argv, &mut t);
        assert_eq!(
            out,
            [
                "tool",
                "--password",
                "[redacted:secret-option]",
                "--api-key",
                "[redacted:secret-option]",
                "file"
            ]
        );
        assert_eq!(t.total(), 2);
    }

    #[test]
    fn custom_patterns_and_their_groups() {
        let r = Redactor::new(&[r"corp-[0-9a-f]{8}".into(), r"pin:(\d+)".into()]).unwrap();
        let mut t = Tally::default();
        let out = r.text("p", "id corp-deadbeef pin:1234", &mut t);
        assert_eq!(out, "id [redacted:custom] pin:[redacted:custom]");
        assert_eq!(t.total(), 2);
        let err = Redactor::new(&["(".into()]).unwrap_err();
        assert!(err.to_string().contains("--redact \"(\""), "{err}");
    }

    #[test]
    fn off_keeps_everything_and_says_so() {
        let r = Redactor::off();
        let mut t = Tally::default();
        let argv = vec!["--token=abc".to_string(), "--password".into(), "x".into()];
        assert_eq!(r.argv("p", &argv, &mut t), argv);
        assert_eq!(t.total(), 0);
        assert!(describe(&r.report(&t)).contains("--no-redact"));
    }

    #[test]
    fn nothing_is_counted_twice_and_clean_text_is_borrowed() {
        let r = Redactor::new(&[]).unwrap();
        let mut t = Tally::default();
        let once = r.text(
            "p",
            "--token=ghp_0123456789abcdef0123456789abcdef0123",
            &mut t,
        );
        let twice = r.text("p", &once, &mut t).into_owned();
        assert_eq!(twice, once);
        assert_eq!(t.total(), 1);
        assert!(matches!(
            r.text("p", "/usr/lib/x86_64-linux-gnu/libc.so.6", &mut t),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn kernel_event_strings() {
        let r = Redactor::new(&[]).unwrap();
        let mut t = Tally::default();
        let mut ev = KernelEvent {
            seq: 0,
            ts_ns: 1,
            pid: 2,
            tid: 2,
            ppid: None,
            comm: "sh".into(),
            cgroup_id: 3,
            detail: EventDetail::Rename {
                from: "/tmp/a".into(),
                to: "/tmp/GH_TOKEN=zzz".into(),
                result: 0,
            },
        };
        let before = ev.clone();
        let out = event(&r, &ev, false, &mut t).into_owned();
        assert!(matches!(
            event(&r, &before.clone(), true, &mut Tally::default()),
            Cow::Owned(_)
        ));
        ev.detail = EventDetail::Write {
            fd: 1,
            requested: 1,
            result: 1,
        };
        assert!(matches!(
            event(&r, &ev, false, &mut Tally::default()),
            Cow::Borrowed(_)
        ));
        ev.comm = "GH_TOKEN=x".into();
        assert!(matches!(
            event(&r, &ev, true, &mut Tally::default()),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            event(&r, &ev, false, &mut Tally::default()),
            Cow::Owned(_)
        ));
        assert_eq!(
            out.detail,
            EventDetail::Rename {
                from: "/tmp/a".into(),
                to: "/tmp/GH_TOKEN=[redacted:secret-assignment]".into(),
                result: 0
            }
        );
        assert_eq!(t.rows()[0].place, "kernel.ndjson:to");
    }

    #[test]
    fn bundle_members_and_the_archives_inside_are_checked_again() {
        use crate::schema::manifest::ContainerKind;
        let r = Redactor::new(&[]).unwrap();
        let secret = "--token=abc123";
        let inner = bundle::pack(
            "a",
            ContainerKind::Archive,
            "run-1",
            vec![Member::new(
                "run.json",
                format!("{{\"command\":[\"{secret}\"]}}"),
            )],
            vec!["timed out".into()],
        )
        .unwrap();
        let clean = bundle::pack(
            "b",
            ContainerKind::Archive,
            "run-2",
            vec![Member::new("run.json", "{}")],
            vec![],
        )
        .unwrap();
        let mut ms = vec![
            Member::new("experiment.toml", format!("cmd = \"x {secret}\"")),
            Member::new("samples/a.tar.gz", inner),
            Member::new("samples/b.tar.gz", clean.clone()),
            Member::new("samples/c.tar.gz", b"not gzip".to_vec()),
        ];
        let mut t = Tally::default();
        let left = members(&r, &mut ms, &mut t);
        assert_eq!(ms.len(), 3, "the unreadable archive is left out");
        assert!(left[0].starts_with("samples/c.tar.gz left out"), "{left:?}");
        assert_eq!(
            std::str::from_utf8(&ms[0].data).unwrap(),
            "cmd = \"x --token=[redacted:secret-option]\""
        );
        // The repacked archive verifies, keeps its id and notes, and holds no secret.
        let back = bundle::read_tar_gz("a", &ms[1].data, &Limits::default()).unwrap();
        let manifest = bundle::verify("a", &back).unwrap();
        assert_eq!((manifest.id.as_str(), manifest.notes.len()), ("run-1", 1));
        let run = back.iter().find(|m| m.path == "run.json").unwrap();
        assert!(!String::from_utf8_lossy(&run.data).contains("abc123"));
        assert_eq!(ms[2].data, clean, "a clean archive is kept byte for byte");
        let places: Vec<String> = t.rows().into_iter().map(|x| x.place).collect();
        assert_eq!(places, ["experiment.toml", "samples/a.tar.gz:run.json"]);
    }

    #[test]
    fn clean_strings_compile_no_pattern() {
        let r = Redactor::new(&[]).unwrap();
        let mut t = Tally::default();
        let argv: Vec<String> = ["make", "-j2", "/usr/lib/x86_64-linux-gnu/libc.so.6"]
            .map(String::from)
            .into();
        assert_eq!(r.argv("p", &argv, &mut t), argv);
        assert!(r.compiled.get().is_none(), "nothing was compiled");
        // Every built-in form's example holds a needle: the prefilter never hides one.
        for (kind, _) in builtin() {
            let example = match kind {
                "url-userinfo" => "https://u:p@h",
                "authorization" => "Authorization: x",
                "bearer" => "Bearer abcdefgh",
                "github-token" => "github_pat_abcdefghijklmnopqrstuvwxyz",
                "gitlab-token" => "glpat-abcdefghijklmnopqrst",
                "aws-access-key" => "ASIAIOSFODNN7EXAMPLE",
                "jwt" => "eyJabcd.eyJabcd.sig",
                "secret-option" => "--passwd=x",
                "secret-assignment" => "MY_KEY=x",
                "secret-attribute" => r#"{"key":"x-api-key","value":{"stringValue":"v"}}"#,
                "private-key" => "-----BEGIN PRIVATE KEY-----\nMIIE",
                other => panic!("no example for {other}"),
            };
            assert!(r.matches(example), "{kind}: {example}");
        }
        assert!(r.compiled.get().is_some());
        // The new forms' clean look-alikes hold no needle either: nothing compiles for them.
        let r = Redactor::new(&[]).unwrap();
        let mut t = Tally::default();
        for clean in [
            r#"{"key":"db.name","value":{"stringValue":"orders"}}"#,
            "-----BEGIN CERTIFICATE-----\nMIIB",
            "curl --verbose -o out x",
        ] {
            assert!(matches!(r.text("p", clean, &mut t), Cow::Borrowed(_)));
            assert!(matches!(
                r.bytes("p", &[clean.as_bytes(), b"\xff"].concat(), &mut t),
                Cow::Borrowed(_)
            ));
        }
        assert!(r.compiled.get().is_none(), "nothing was compiled");
    }

    /// `text` of `s` twice: the second pass finds nothing more (nothing counted twice).
    fn red_once(s: &str) -> (String, Tally) {
        let (out, t) = red(s);
        let (again, t2) = red(&out);
        assert_eq!(again, out, "a second pass changes nothing");
        assert_eq!(t2.total(), 0, "a second pass counts nothing: {again}");
        (out, t)
    }

    #[test]
    fn bytes_that_are_not_utf8_are_redacted_too() {
        let r = Redactor::new(&[]).unwrap();
        let token = format!("ghp_{}", "a1B2".repeat(9));
        let mut data = br#"{"stringValue":""#.to_vec();
        data.push(0xff);
        data.extend_from_slice(format!(" {token} AKIAIOSFODNN7EXAMPLE").as_bytes());
        data.push(0xfe);
        data.extend_from_slice(format!("{token}\"}}").as_bytes());
        let mut t = Tally::default();
        let out = r.bytes("trace.json", &data, &mut t).into_owned();
        let mut want = br#"{"stringValue":""#.to_vec();
        want.push(0xff);
        want.extend_from_slice(b" [redacted:github-token] [redacted:aws-access-key]");
        want.push(0xfe);
        want.extend_from_slice(b"[redacted:github-token]\"}");
        assert_eq!(out, want, "{}", String::from_utf8_lossy(&out));
        let rows: Vec<(String, u64)> = t.rows().into_iter().map(|x| (x.kind, x.count)).collect();
        assert_eq!(
            rows,
            [("aws-access-key".into(), 1), ("github-token".into(), 2)]
        );
        // A value with a byte that is not UTF-8 inside is taken whole.
        let mut t = Tally::default();
        let out = r
            .bytes("p", b"x --password=ab\xe4cd y", &mut t)
            .into_owned();
        assert_eq!(out, b"x --password=[redacted:secret-option] y");
        // Other bytes are kept as they were, and a clean buffer is borrowed.
        let odd = b"\xc3(\xff\xfe plain \xe2\x82 text \xf0\x9f\x98\x80";
        assert!(matches!(r.bytes("p", odd, &mut t), Cow::Borrowed(_)));
        let mut t = Tally::default();
        let mut with_key = odd.to_vec();
        with_key.extend_from_slice(b" --token=zz");
        let mut want = odd.to_vec();
        want.extend_from_slice(b" --token=[redacted:secret-option]");
        assert_eq!(r.bytes("p", &with_key, &mut t).into_owned(), want);
        assert_eq!(t.total(), 1);
    }

    #[test]
    fn valid_utf8_bytes_come_out_as_text_gives() {
        let r = Redactor::new(&[r"corp-\d+".into()]).unwrap();
        for s in [
            "é --token s3cr3t https://u:p@h corp-12 \u{10FF80}",
            "clean ünïcode",
            "GH_TOKEN=x\u{a0}y",
        ] {
            let (mut t1, mut t2) = (Tally::default(), Tally::default());
            assert_eq!(
                r.bytes("p", s.as_bytes(), &mut t1).as_ref(),
                r.text("p", s, &mut t2).as_bytes()
            );
            assert_eq!(t1, t2);
        }
    }

    #[test]
    fn text_already_holding_a_stand_in_is_redacted_run_by_run() {
        let r = Redactor::new(&[]).unwrap();
        let mut t = Tally::default();
        let mut data = "\u{10FF41} AKIAIOSFODNN7EXAMPLE".as_bytes().to_vec();
        data.push(0xff);
        let mut want = "\u{10FF41} [redacted:aws-access-key]".as_bytes().to_vec();
        want.push(0xff);
        assert_eq!(r.bytes("p", &data, &mut t).into_owned(), want);
        assert_eq!(t.total(), 1);
    }

    #[test]
    fn a_secret_option_and_its_value_inside_one_string() {
        let (out, t) =
            red_once(r#"curl --token s3cr3t x && tool -password 'hunter2' --api-key "k-1""#);
        assert_eq!(
            out,
            r#"curl --token [redacted:secret-option] x && tool -password '[redacted:secret-option]' --api-key "[redacted:secret-option]""#
        );
        assert_eq!(kinds(&t), ["secret-option"]);
        assert_eq!(t.total(), 3);
        // JSON-escaped quotes, and `=` with a quote.
        let (out, _) = red_once(r#"["sh","-c","x --client-secret \"v\" --token='w'"]"#);
        assert_eq!(
            out,
            r#"["sh","-c","x --client-secret \"[redacted:secret-option]\" --token='[redacted:secret-option]'"]"#
        );
        // Look-alikes are kept: an option after the name, a name inside a word, prose.
        for clean in [
            "tool --token --verbose",
            "tool --no-token-check file",
            "cp my-token file",
            "a token here",
            "--passwords-file f",
        ] {
            assert_eq!(red(clean).0, clean);
        }
    }

    #[test]
    fn pem_private_key_bodies() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,9F3A\n\nMIIEpAIBAAKCAQEA0Z3+/x=\n-----END RSA PRIVATE KEY-----\n";
        let (out, t) = red_once(&format!("key: {pem}tail"));
        assert_eq!(
            out,
            "key: -----BEGIN RSA PRIVATE KEY-----[redacted:private-key]-----END RSA PRIVATE KEY-----\ntail"
        );
        assert_eq!(kinds(&t), ["private-key"]);
        // Inside a JSON string, with `\n` (and `\/`) escapes.
        let json = r#"{"k":"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\/NzaC1r\n-----END OPENSSH PRIVATE KEY-----\n"}"#;
        let (out, t) = red_once(json);
        assert_eq!(
            out,
            r#"{"k":"-----BEGIN OPENSSH PRIVATE KEY-----[redacted:private-key]-----END OPENSSH PRIVATE KEY-----\n"}"#
        );
        assert_eq!(t.total(), 1);
        // Cut short (no END line): the body up to where no body goes on.
        let (out, _) = red_once(r#"{"k":"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE","n":1}"#);
        assert_eq!(
            out,
            r#"{"k":"-----BEGIN EC PRIVATE KEY-----[redacted:private-key]","n":1}"#
        );
        // Public keys and certificates are kept.
        for clean in [
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "the private key is in the vault",
        ] {
            assert_eq!(red(clean).0, clean);
        }
    }

    #[test]
    fn otlp_attributes_whose_key_names_a_secret() {
        for key in [
            "password",
            "db.password",
            "secret",
            "client_secret",
            "token",
            "http.request.header.x-auth-token",
            "authorization",
            "x-api-key",
            "API_KEY",
        ] {
            let attr = format!(r#"{{"key":"{key}","value":{{"stringValue":"hun\"ter 2"}}}}"#);
            let (out, t) = red_once(&attr);
            assert_eq!(
                out,
                format!(
                    r#"{{"key":"{key}","value":{{"stringValue":"[redacted:secret-attribute]"}}}}"#
                ),
                "{key}"
            );
            assert_eq!(kinds(&t), ["secret-attribute"], "{key}");
            assert_eq!(t.total(), 1, "{key}");
        }
        // Spaced JSON, and a value other rules would take a part of: replaced whole, once.
        let (out, t) =
            red_once(r#"{ "key" : "db.password", "value" : { "stringValue" : "--token=abc" } }"#);
        assert_eq!(
            out,
            r#"{ "key" : "db.password", "value" : { "stringValue" : "[redacted:secret-attribute]" } }"#
        );
        assert_eq!(t.total(), 1);
        // Keys that only contain the word, other values and other types are kept.
        for clean in [
            r#"{"key":"gen_ai.usage.input_tokens","value":{"stringValue":"5"}}"#,
            r#"{"key":"password.length","value":{"stringValue":"12"}}"#,
            r#"{"key":"db.password","value":{"intValue":"12"}}"#,
            r#"{"key":"token","value":{"stringValue":""}}"#,
        ] {
            assert_eq!(red(clean).0, clean);
        }
    }

    #[test]
    fn url_userinfo_json_escaped() {
        let (out, t) = red_once(r#"{"url":"postgres:\/\/admin:PW@db:5432\/app"}"#);
        assert_eq!(
            out,
            r#"{"url":"postgres:\/\/[redacted:url-userinfo]@db:5432\/app"}"#
        );
        assert_eq!(kinds(&t), ["url-userinfo"]);
        for clean in [
            r#"{"url":"http:\/\/example.com\/a@b"}"#,
            r#"{"url":"https:\/\/example.com\/"}"#,
        ] {
            assert_eq!(red(clean).0, clean);
        }
    }

    #[test]
    fn the_experiment_kept_has_its_name_and_commands_redacted() {
        let text = r#"schema = "tare.experiment.v1"
name = "e GH_TOKEN=abc"
n = 1
timeout_s = 5
arms = ["a"]
[[cells]]
id = "k0"
[commands]
a = "curl --token s3cr3t x; echo corp-1"
"#;
        let e: Experiment = crate::schema::parse_toml("e", text).unwrap();
        let r = Redactor::new(&[r"corp-\d".into()]).unwrap();
        let mut t = Tally::default();
        let kept = experiment(&r, &e, &mut t);
        assert_eq!(kept.name, "e GH_TOKEN=[redacted:secret-assignment]");
        assert_eq!(
            kept.commands.values().collect::<Vec<_>>(),
            ["curl --token [redacted:secret-option] x; echo [redacted:custom]"]
        );
        assert_eq!((kept.cells.clone(), kept.n), (e.cells.clone(), e.n));
        let places: Vec<(String, u64)> = t.rows().into_iter().map(|x| (x.place, x.count)).collect();
        assert_eq!(
            places,
            [
                ("experiment.toml:commands".into(), 1),
                ("experiment.toml:commands".into(), 1),
                ("experiment.toml:name".into(), 1)
            ]
        );
    }

    #[test]
    fn settings_give_back_the_same_redactor() {
        let r = Redactor::new(&[r"corp-\d+".into()]).unwrap();
        let s = r.settings();
        assert_eq!((s.schema.as_str(), s.enabled), ("tare.redact.v1", true));
        let back: Settings =
            parse_json(SETTINGS_FILE, &serde_json::to_string(&s).unwrap()).unwrap();
        let again = Redactor::from_settings(&back).unwrap();
        assert_eq!(again.report(&Tally::default()).custom_patterns, 1);
        let mut t = Tally::default();
        assert_eq!(
            again.text("p", "id corp-42", &mut t),
            "id [redacted:custom]"
        );
        let off = Redactor::from_settings(&Redactor::off().settings()).unwrap();
        assert!(!off.enabled());
        let bad = Settings {
            patterns: vec!["(".into()],
            ..s
        };
        assert!(Redactor::from_settings(&bad).is_err());
    }

    #[test]
    fn described_by_place() {
        let mut t = Tally::default();
        t.add("run.json:command", "jwt", 1);
        t.add("kernel.ndjson:path", "github-token", 2);
        let r = Redactor::new(&[]).unwrap().report(&t);
        assert_eq!(
            describe(&r),
            "3 values redacted (kernel.ndjson:path 2, run.json:command 1)"
        );
        assert_eq!(Tally::from(r.replaced.as_slice()), t);
    }
}
