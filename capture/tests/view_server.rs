//! `tare view`'s server against raw requests over TCP: the bundle only under the printed
//! URL's token, to its own Host and origin; slow and oversized request heads cut off; out of
//! file descriptors, still up.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
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

/// Kills the `tare view` it holds when dropped, whatever the test's outcome.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `GET /` on a fresh connection, waiting up to 30 s for the reply: its status (0: none).
fn fresh_get(addr: SocketAddr) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(10)) else {
        return 0;
    };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!("GET / HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    if s.write_all(head.as_bytes()).is_err() {
        return 0;
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn out_of_file_descriptors_it_stays_up_and_serves_again() {
    // The real binary under `ulimit -n 256`, its page URL read from its stdout.
    let child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" view --port 0")
        .arg(env!("CARGO_BIN_EXE_tare"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run tare view");
    let mut server = Server(child);
    let mut stdout = BufReader::new(server.0.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let addr: SocketAddr = url
        .trim()
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix('/'))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no URL from tare view: {url:?}"));

    // 300 idle connections: more than its 256 descriptors could hold.
    let mut idle = Vec::new();
    for i in 0..300 {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
            Ok(s) => idle.push(s),
            Err(e) => panic!("connection {i}: {e}; tare view: {:?}", server.0.try_wait()),
        }
    }
    // Some go away: the ones still open are fewer than the server's bound (112 under 256
    // descriptors), so a new request is served without waiting out the idle ones' timeout.
    idle.drain(..200);
    assert_eq!(
        fresh_get(addr),
        200,
        "with 100 idle connections left; tare view: {:?}",
        server.0.try_wait()
    );
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "tare view exited: {:?}",
        server.0.try_wait()
    );
    // All gone: served again, and still running.
    idle.clear();
    assert_eq!(fresh_get(addr), 200);
    assert!(server.0.try_wait().unwrap().is_none());
    drop(stdout);
}
