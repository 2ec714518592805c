//! `tare view`'s server against raw requests over TCP: the bundle only under the printed
//! URL's token, to its own Host and origin; slow and oversized request heads cut off.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tare::view::{self, Serving};

const BUNDLE: &[u8] = b"\x1f\x8bnot really a bundle, but its bytes";

/// Starts a server on a free port in a background thread; returns its port and token.
fn start(head_timeout: Duration) -> (u16, String) {
    let token = view::new_token().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let t = token.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = view::bind("127.0.0.1", 0).await.unwrap();
            tx.send(l.local_addr().unwrap().port()).unwrap();
            let serving = Serving {
                bundle: Some(BUNDLE.to_vec()),
                token: t,
                head_timeout,
            };
            let _ = view::serve(l, serving).await;
        });
    });
    (rx.recv().unwrap(), token)
}

/// Sends `head` as is and returns the status and body of the reply.
fn send(port: u16, head: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = match out.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => out[at + 4..].to_vec(),
        None => Vec::new(),
    };
    (status, body)
}

fn get(port: u16, path: &str, host: &str, extra: &str) -> (u16, Vec<u8>) {
    send(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n"),
    )
}

#[test]
fn the_bundle_needs_its_token_its_host_and_its_origin() {
    let (port, token) = start(view::HEAD_TIMEOUT);
    let own = format!("127.0.0.1:{port}");
    let path = view::bundle_path(&token);
    // The printed URL's path, as the page fetches it.
    assert_eq!(get(port, &path, &own, ""), (200, BUNDLE.to_vec()));
    assert_eq!(get(port, &path, &format!("localhost:{port}"), "").0, 200);
    let same = format!("Origin: http://{own}\r\nSec-Fetch-Site: same-origin\r\n");
    assert_eq!(get(port, &path, &own, &same).0, 200);
    // A rebound DNS name, no token, a wrong token, another origin: nothing of the bundle.
    for (what, (status, body)) in [
        (
            "wrong Host",
            get(port, &path, &format!("attacker.example:{port}"), ""),
        ),
        (
            "no Host",
            send(port, &format!("GET {path} HTTP/1.1\r\n\r\n")),
        ),
        ("no token", get(port, "/bundle.tar.gz", &own, "")),
        (
            "wrong token",
            get(
                port,
                "/b/0123456789abcdef0123456789abcdef/bundle.tar.gz",
                &own,
                "",
            ),
        ),
        (
            "cross origin",
            get(port, &path, &own, "Origin: http://attacker.example\r\n"),
        ),
        (
            "cross site",
            get(port, &path, &own, "Sec-Fetch-Site: cross-site\r\n"),
        ),
    ] {
        assert_eq!(status, 403, "{what}");
        assert!(
            !body.windows(BUNDLE.len()).any(|w| w == BUNDLE),
            "{what}: the bundle leaked"
        );
    }
    // The page itself is served to its own host, not to a rebound name.
    assert_eq!(get(port, "/", &own, "").0, 200);
    assert_eq!(
        get(port, "/", &format!("attacker.example:{port}"), "").0,
        403
    );
}

#[test]
fn slow_and_oversized_heads_are_cut_off() {
    let (port, _) = start(Duration::from_millis(300));
    // A client that never finishes its head is dropped after the timeout.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let t = Instant::now();
    let mut out = Vec::new();
    let n = s.read_to_end(&mut out).unwrap_or(0);
    assert_eq!(n, 0, "no reply to a head that never ends");
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    // A head over the cap gets 431.
    let big = format!("X-Pad: {}\r\n", "a".repeat(view::MAX_HEAD));
    assert_eq!(get(port, "/", &format!("127.0.0.1:{port}"), &big).0, 431);
    // Garbage gets 400.
    assert_eq!(send(port, "\x01\x02 nonsense\r\n\r\n").0, 400);
}
