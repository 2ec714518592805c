//! The ring-buffer consumer: tokio `AsyncFd` over aya's `RingBuf`, drained until
//! empty before readiness is cleared, records decoded into `KernelEvent`s.

use aya::maps::{MapData, RingBuf};
use report_model::schema::kernel_event::KernelEvent;
use tokio::io::unix::AsyncFd;
use tokio::sync::oneshot;

use super::decode::{decode, raw_kind};
use crate::spool::KernelSpool;

/// Where decoded events go.
pub enum Sink {
    /// Kept in memory and returned by `Monitor::finish`.
    Collect(Vec<KernelEvent>),
    /// Written to kernel.ndjson's spool as they arrive and returned by `Monitor::finish`.
    Spool(Box<KernelSpool>),
}

/// What the consumer has received so far.
pub struct Received {
    pub sink: Sink,
    /// Records received per kind (kernel index order), decodable or not.
    pub delivered: [u64; capture_ebpf::NUM_KINDS as usize],
    /// Records that did not decode (counted in `delivered` by their kind when it was readable).
    pub decode_errors: u64,
    /// First decode error, for the report.
    pub first_error: Option<String>,
    seq: u64,
}

impl Received {
    pub fn new(sink: Sink) -> Self {
        Received {
            sink,
            delivered: [0; capture_ebpf::NUM_KINDS as usize],
            decode_errors: 0,
            first_error: None,
            seq: 0,
        }
    }

    fn take(&mut self, rec: &[u8]) {
        if let Some(k) = raw_kind(rec) {
            self.delivered[k as usize] += 1;
        }
        match decode(rec, self.seq) {
            Ok(ev) => {
                self.seq += 1;
                match &mut self.sink {
                    Sink::Collect(v) => v.push(ev),
                    Sink::Spool(s) => s.push(&ev),
                }
            }
            Err(e) => {
                self.decode_errors += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
}

/// Takes every record available now; returns how many.
pub fn drain(ring: &mut RingBuf<MapData>, rx: &mut Received) -> usize {
    let mut n = 0;
    while let Some(item) = ring.next() {
        rx.take(&item);
        n += 1;
    }
    n
}

/// The consumer: owns the ring buffer while the workload runs.
pub struct Consumer {
    pub ring: AsyncFd<RingBuf<MapData>>,
    pub rx: Received,
    /// An I/O error from the readiness wait, if the loop stopped on one.
    pub error: Option<String>,
}

/// How often the consumer drains without being woken. The programs wake it
/// only once a quarter of the ring is pending (a wakeup per event would cost
/// an interrupt and a context switch each); below that, this timer picks the
/// events up.
pub const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(10);

impl Consumer {
    /// Consumes until `stop` fires (or its sender is dropped), then hands itself back.
    pub async fn run(mut self, mut stop: oneshot::Receiver<()>) -> Self {
        let Consumer { ring, rx, error } = &mut self;
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => break,
                ready = ring.readable_mut() => match ready {
                    Ok(mut guard) => {
                        drain(guard.get_inner_mut(), rx);
                        guard.clear_ready();
                    }
                    Err(e) => {
                        *error = Some(e.to_string());
                        break;
                    }
                },
                _ = tick.tick() => {
                    drain(ring.get_mut(), rx);
                }
            }
        }
        self
    }
}
