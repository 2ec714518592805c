//! Hash routes (`#/page?key=value&...`): parsed from and written back to the URL, so a link reopens a view.

/// The views of the viewer, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Overview,
    Deltas,
    Wall,
    Phases,
    Retention,
    Matrix,
    Rss,
    Events,
    Processes,
    Timeline,
    Compare,
}

impl Page {
    /// Every page, in navigation order.
    pub const ALL: [Page; 11] = [
        Page::Overview,
        Page::Deltas,
        Page::Wall,
        Page::Phases,
        Page::Retention,
        Page::Matrix,
        Page::Rss,
        Page::Events,
        Page::Processes,
        Page::Timeline,
        Page::Compare,
    ];

    /// The name in the hash: `#/<slug>`.
    pub fn slug(self) -> &'static str {
        match self {
            Page::Overview => "overview",
            Page::Deltas => "deltas",
            Page::Wall => "wall",
            Page::Phases => "phases",
            Page::Retention => "retention",
            Page::Matrix => "matrix",
            Page::Rss => "rss",
            Page::Events => "events",
            Page::Processes => "processes",
            Page::Timeline => "timeline",
            Page::Compare => "compare",
        }
    }

    /// The link text and heading.
    pub fn title(self) -> &'static str {
        match self {
            Page::Overview => "Overview",
            Page::Deltas => "Arm deltas",
            Page::Wall => "Wall-clock",
            Page::Phases => "Phases",
            Page::Retention => "Span retention",
            Page::Matrix => "Sweep matrix",
            Page::Rss => "RSS",
            Page::Events => "Kernel events",
            Page::Processes => "Processes",
            Page::Timeline => "Resource timeline",
            Page::Compare => "Compare",
        }
    }

    fn from_slug(s: &str) -> Option<Page> {
        Page::ALL.into_iter().find(|p| p.slug() == s)
    }
}

/// A page and its parameters (kept in the order they were set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub page: Page,
    params: Vec<(String, String)>,
}

impl Route {
    /// A page without parameters.
    pub fn new(page: Page) -> Self {
        Route {
            page,
            params: Vec::new(),
        }
    }

    /// Parses `#/deltas?cell=k25-s25` (with or without `#`); anything unknown is the overview.
    pub fn parse(hash: &str) -> Self {
        let hash = hash.strip_prefix('#').unwrap_or(hash);
        let hash = hash.strip_prefix('/').unwrap_or(hash);
        let (page, query) = hash.split_once('?').unwrap_or((hash, ""));
        let page = Page::from_slug(page).unwrap_or(Page::Overview);
        let params = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                let (k, v) = (decode(k), decode(v));
                (!k.is_empty() && !v.is_empty()).then_some((k, v))
            })
            .collect();
        Route { page, params }
    }

    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// This route with `key` set to `value` (an empty value removes it).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        self.params.retain(|(k, _)| k != key);
        if !value.is_empty() {
            self.params.push((key.to_string(), value));
        }
        self
    }

    /// This route without `key`.
    pub fn without(self, key: &str) -> Self {
        self.with(key, "")
    }

    /// The hash that reopens this route, e.g. `#/events?kind=open&page=2`.
    pub fn href(&self) -> String {
        let mut s = format!("#/{}", self.page.slug());
        for (i, (k, v)) in self.params.iter().enumerate() {
            s.push(if i == 0 { '?' } else { '&' });
            s.push_str(&encode(k));
            s.push('=');
            s.push_str(&encode(v));
        }
        s
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space); malformed escapes stay as they are.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let r = Route::new(Page::Events)
            .with("archive", "archives/k25-s25-0002-a.tar.gz")
            .with("path", "a b&c=d/é%")
            .with("page", "2");
        let back = Route::parse(&r.href());
        assert_eq!(back, r);
        assert_eq!(back.get("path"), Some("a b&c=d/é%"));
        assert_eq!(Route::parse("").page, Page::Overview);
        assert_eq!(Route::parse("#/nope?x=1").page, Page::Overview);
        assert_eq!(
            Route::parse("#/deltas?cell=k25-s25").get("cell"),
            Some("k25-s25")
        );
        assert_eq!(Route::parse("#/rss?x=%zz%4").get("x"), Some("%zz%4"));
        assert_eq!(r.clone().without("path").get("path"), None);
    }
}
