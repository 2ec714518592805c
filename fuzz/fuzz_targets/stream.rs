//! Feeds arbitrary bytes to the streaming readers of `tare export`, `report`, `compare`, `view` and `verify` (bundle::open, verify_stream), whole and in pieces of every size, and holds them to one answer and to the in-memory reader's.
#![no_main]

use libfuzzer_sys::fuzz_target;
use report_model::bundle::{self, Keep, Limits};

/// Small limits, so that every one of them is reached by small inputs: the ratio past
/// 64 KiB, documents over 64 KiB, members over 1 MiB.
const LIMITS: Limits = Limits {
    max_members: 64,
    max_member_bytes: 1 << 20,
    max_total_bytes: 4 << 20,
    max_document_bytes: 64 << 10,
    max_ratio: 200,
    ratio_grace_bytes: 64 << 10,
};

/// What each reader keeps: export's, compare's, and view's and verify's (nothing).
const KEEPS: [Keep; 3] = [
    Keep::CAPTURE,
    Keep {
        members: &["experiment.toml", "host.json", "samples.jsonl", "summary.json"],
        events: false,
        nested: false,
    },
    Keep {
        members: &[],
        events: false,
        nested: true,
    },
];

/// Gives at most `.1` bytes a read: lines and documents cut anywhere.
struct Pieces<'a>(&'a [u8], usize);

impl std::io::Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

fuzz_target!(|input: &[u8]| {
    // The first byte picks the reader and the size of the pieces.
    let Some((&pick, data)) = input.split_first() else {
        return;
    };
    let keep = &KEEPS[usize::from(pick) % KEEPS.len()];
    let step = usize::from(pick >> 2) + 1;
    let whole = bundle::open("in", data, keep, &LIMITS);
    let pieces = bundle::open("in", Pieces(data, step), keep, &LIMITS);
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the same container, read in pieces of {step}"),
        (Err(_), Err(_)) => {}
        // The compression ratio is measured on what the decoder consumed, which may end a
        // few bytes apart with the input cut differently: only that limit may differ.
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => assert!(
            e.to_string().contains("possible gzip bomb"),
            "only one reading failed: {e}"
        ),
    }
    if let Ok(opened) = whole {
        // Whatever the stream accepts, the in-memory reader (the viewer's) accepts with the
        // same manifest, members and events.
        let members = bundle::read_tar_gz("in", data, &LIMITS).expect("read in memory");
        let manifest = bundle::verify("in", &members).expect("verified in memory");
        assert_eq!(manifest, opened.manifest);
        assert_eq!(members.len(), opened.count);
        for kept in &opened.members {
            assert!(members.contains(kept), "{} kept as it is", kept.path);
        }
        if keep.events {
            let events = bundle::member_kernel_events("in", &members).expect("events");
            assert_eq!(events, opened.events);
            let _ = opened.capture_members("in");
        }
    }
    let _ = bundle::verify_stream("in", data);
});
