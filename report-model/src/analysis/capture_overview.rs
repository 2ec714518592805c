//! A capture at a glance: its events by kind, the files opened most, the connections made.

use std::collections::BTreeMap;

use crate::schema::kernel_event::{EventDetail, EventKind, KernelEvent};

/// How often one file was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOpens {
    pub path: String,
    pub opens: u64,
    /// Opens that failed (a negative result).
    pub failures: u64,
    /// Distinct processes that opened it.
    pub processes: u64,
}

/// The connects to one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub addr: String,
    pub port: u16,
    pub family: u16,
    pub attempts: u64,
    /// Attempts with a negative result (a non-blocking connect's -EINPROGRESS counts here:
    /// the kernel had not finished it when the call returned).
    pub failures: u64,
}

/// What [`overview`] finds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureOverview {
    /// Events of each kind, every kind present (zero where none).
    pub by_kind: Vec<(EventKind, u64)>,
    /// Files by opens, most first (then by path), at most the `top` asked for.
    pub top_files: Vec<FileOpens>,
    /// Files opened in all (the top list may hold fewer).
    pub distinct_files: usize,
    /// Every address connected to, by attempts, most first.
    pub connections: Vec<Connection>,
    /// First to last event, nanoseconds (0 without events).
    pub span_ns: u64,
}

/// The overview of `events`, with the `top` files most opened.
pub fn overview(events: &[KernelEvent], top: usize) -> CaptureOverview {
    let mut by_kind: BTreeMap<EventKind, u64> = EventKind::ALL.iter().map(|k| (*k, 0)).collect();
    let mut files: BTreeMap<&str, (u64, u64, std::collections::BTreeSet<u32>)> = BTreeMap::new();
    let mut conns: BTreeMap<(&str, u16, u16), (u64, u64)> = BTreeMap::new();
    for e in events {
        *by_kind.entry(e.detail.kind()).or_default() += 1;
        match &e.detail {
            EventDetail::Open { path, result, .. } => {
                let f = files.entry(path.as_str()).or_default();
                f.0 += 1;
                f.1 += u64::from(*result < 0);
                f.2.insert(e.pid);
            }
            EventDetail::Connect {
                family,
                addr,
                port,
                result,
            } => {
                let c = conns.entry((addr.as_str(), *port, *family)).or_default();
                c.0 += 1;
                c.1 += u64::from(*result < 0);
            }
            _ => {}
        }
    }
    let distinct_files = files.len();
    let mut top_files: Vec<FileOpens> = files
        .into_iter()
        .map(|(path, (opens, failures, pids))| FileOpens {
            path: path.to_string(),
            opens,
            failures,
            processes: pids.len() as u64,
        })
        .collect();
    top_files.sort_by(|a, b| b.opens.cmp(&a.opens).then_with(|| a.path.cmp(&b.path)));
    top_files.truncate(top);
    let mut connections: Vec<Connection> = conns
        .into_iter()
        .map(|((addr, port, family), (attempts, failures))| Connection {
            addr: addr.to_string(),
            port,
            family,
            attempts,
            failures,
        })
        .collect();
    connections.sort_by_key(|c| std::cmp::Reverse(c.attempts));
    let (first, last) = events.iter().fold((u64::MAX, 0), |(lo, hi), e| {
        (lo.min(e.ts_ns), hi.max(e.ts_ns))
    });
    CaptureOverview {
        by_kind: by_kind.into_iter().collect(),
        top_files,
        distinct_files,
        connections,
        span_ns: last.saturating_sub(first.min(last)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: u64, pid: u32, detail: EventDetail) -> KernelEvent {
        KernelEvent::at(ts, pid, detail)
    }

    fn open(path: &str, result: i64) -> EventDetail {
        EventDetail::Open {
            path: path.into(),
            flags: 0,
            mode: 0,
            result,
        }
    }

    fn connect(addr: &str, port: u16, result: i64) -> EventDetail {
        EventDetail::Connect {
            family: 2,
            addr: addr.into(),
            port,
            result,
        }
    }

    #[test]
    fn counts_kinds_files_and_connections() {
        let evs = vec![
            ev(10, 1, open("/b", 3)),
            ev(20, 2, open("/b", -2)),
            ev(30, 1, open("/a", 4)),
            ev(40, 1, open("/c", 5)),
            ev(50, 1, open("/c", 5)),
            ev(60, 1, connect("127.0.0.1", 80, 0)),
            ev(70, 1, connect("127.0.0.1", 80, -111)),
            ev(80, 1, connect("::1", 443, 0)),
        ];
        let o = overview(&evs, 2);
        assert_eq!(o.span_ns, 70);
        assert_eq!(o.distinct_files, 3);
        let kinds: BTreeMap<EventKind, u64> = o.by_kind.iter().copied().collect();
        assert_eq!(kinds.len(), EventKind::ALL.len());
        assert_eq!(
            (kinds[&EventKind::Open], kinds[&EventKind::Connect]),
            (5, 3)
        );
        assert_eq!(kinds[&EventKind::Exec], 0);
        // Ties by path: /b and /c both have 2 opens; /a is cut by `top`.
        let paths: Vec<(&str, u64, u64, u64)> = o
            .top_files
            .iter()
            .map(|f| (f.path.as_str(), f.opens, f.failures, f.processes))
            .collect();
        assert_eq!(paths, vec![("/b", 2, 1, 2), ("/c", 2, 0, 1)]);
        assert_eq!(o.connections.len(), 2);
        assert_eq!(
            (
                o.connections[0].addr.as_str(),
                o.connections[0].attempts,
                o.connections[0].failures
            ),
            ("127.0.0.1", 2, 1)
        );
        assert_eq!(overview(&[], 5).span_ns, 0);
    }
}
