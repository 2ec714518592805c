//! Feeds arbitrary bytes as an HTTP request head to `tare view`'s server: the size check, parse_head, host_allowed and route (with a bundle and its token).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tare::view::{host_allowed, parse_head, route, MAX_HEAD};

const PORT: u16 = 8123;
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    // The server answers 431 to a head over MAX_HEAD without parsing it.
    if data.len() > MAX_HEAD {
        return;
    }
    let Some(req) = parse_head(data) else {
        return;
    };
    let _ = host_allowed(req.host.as_deref().unwrap_or(""), PORT);
    let bundle = [0x1fu8, 0x8b, 0, 0];
    for b in [Some(&bundle[..]), None] {
        let reply = route(&req, PORT, TOKEN, b);
        assert!(matches!(reply.status, 200 | 403 | 404 | 405), "{reply:?}");
        if reply.status == 200 && reply.content_type == "application/gzip" {
            // The bundle goes only to its own path under the token, to its own host.
            let path = req.target.split(['?', '#']).next().unwrap_or("");
            assert_eq!(path, format!("/b/{TOKEN}/bundle.tar.gz"));
            assert!(host_allowed(req.host.as_deref().unwrap_or(""), PORT));
        }
    }
});
