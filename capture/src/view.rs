//! A static HTTP server on loopback for the viewer embedded from dist/, with one bundle preloaded behind a token, to its own origin only.
//!
//! It stays up under load: at most [`connection_bound`] connections are served at once (well
//! under the file-descriptor limit; the rest wait in the kernel's listen queue of
//! [`LISTEN_BACKLOG`], holding no descriptor), a client that stalls while sending its head or reading the reply is cut after
//! [`HEAD_TIMEOUT`], and running out of descriptors anyway (EMFILE, ENFILE) makes the server
//! wait and accept again, never exit.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// The built viewer, embedded at compile time (dist/ is committed).
const ASSETS: &[(&str, &[u8], &str)] = &[
    (
        "/",
        include_bytes!("../../dist/index.html"),
        "text/html; charset=utf-8",
    ),
    (
        "/index.html",
        include_bytes!("../../dist/index.html"),
        "text/html; charset=utf-8",
    ),
    (
        "/style.css",
        include_bytes!("../../dist/style.css"),
        "text/css; charset=utf-8",
    ),
    (
        "/tare-viewer.js",
        include_bytes!("../../dist/tare-viewer.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "/tare-viewer_bg.wasm",
        include_bytes!("../../dist/tare-viewer_bg.wasm"),
        "application/wasm",
    ),
];

/// Where the preloaded bundle is served: under the token, so only the printed URL finds it.
pub fn bundle_path(token: &str) -> String {
    format!("/b/{token}/bundle.tar.gz")
}

/// The biggest request head read; a bigger one gets 431.
pub const MAX_HEAD: usize = 8192;

/// How long a client may take to send its request head before the connection is closed;
/// also how long a write of the reply may stall (a client that stops reading).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// The most connections served at once, however high the file-descriptor limit.
pub const MAX_CONNECTIONS: usize = 1024;

/// Descriptors kept for tare itself (stdio, the listener, the runtime's epoll and wakers).
const RESERVED_FDS: u64 = 32;

/// How long to wait before accepting again when the process or system is out of descriptors.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How many connections to serve at once under a soft file-descriptor limit of `nofile`:
/// half of what is left after [`RESERVED_FDS`], between 1 and [`MAX_CONNECTIONS`]. With
/// `ulimit -n 256`, 112.
pub fn connection_bound(nofile: u64) -> usize {
    let half = nofile.saturating_sub(RESERVED_FDS) / 2;
    usize::try_from(half)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_CONNECTIONS)
}

/// The soft limit on open files (`ulimit -n`); unlimited when it cannot be read.
fn nofile_limit() -> u64 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(u64::MAX, |(soft, _hard)| soft)
}

/// What the accept loop does after `accept` failed.
#[derive(Debug, PartialEq, Eq)]
pub enum AcceptFailure {
    /// That one connection failed (reset or aborted before it was taken): take the next.
    Connection,
    /// Out of descriptors or memory: wait [`ACCEPT_BACKOFF`], then accept again.
    Resources,
    /// The listening socket itself is broken: stop serving.
    Fatal,
}

/// Sorts an error of `accept` (accept(2)'s list, and Linux's note that errors of the new
/// connection are passed on).
pub fn accept_failure(e: &std::io::Error) -> AcceptFailure {
    match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
            AcceptFailure::Resources
        }
        Some(
            libc::ECONNABORTED
            | libc::ECONNRESET
            | libc::EINTR
            | libc::EPROTO
            | libc::EPERM
            | libc::ETIMEDOUT
            | libc::ENETDOWN
            | libc::ENETUNREACH
            | libc::EHOSTDOWN
            | libc::EHOSTUNREACH
            | libc::ENONET
            | libc::ENOPROTOOPT
            | libc::EOPNOTSUPP,
        ) => AcceptFailure::Connection,
        _ => match e.kind() {
            std::io::ErrorKind::Interrupted
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset => AcceptFailure::Connection,
            _ => AcceptFailure::Fatal,
        },
    }
}

/// What a request gets: status, content type, body.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

fn text(status: u16, body: &'static str) -> Reply<'static> {
    Reply {
        status,
        content_type: "text/plain; charset=utf-8",
        body: body.as_bytes(),
    }
}

/// The parts of a request head the server looks at.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub host: Option<String>,
    pub origin: Option<String>,
    pub fetch_site: Option<String>,
}

/// Parses a complete request head with httparse; `None` when it is malformed.
pub fn parse_head(head: &[u8]) -> Option<Request> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return None,
    }
    let get = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .map(|v| v.trim().to_string())
    };
    Some(Request {
        method: req.method?.to_string(),
        target: req.path?.to_string(),
        host: get("host"),
        origin: get("origin"),
        fetch_site: get("sec-fetch-site"),
    })
}

/// Whether `host` names this server directly: `localhost` or an IP literal, with our port.
/// A page that rebinds its own DNS name to 127.0.0.1 sends that name: refused.
pub fn host_allowed(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    if p.parse::<u16>().ok() != Some(port) {
        return false;
    }
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::IpAddr>().is_ok()
}

/// Routes a request to a reply. Pure: only fixed paths are served, never the file system;
/// the bundle only under `token`, to the server's own host, from its own origin.
pub fn route<'a>(req: &Request, port: u16, token: &str, bundle: Option<&'a [u8]>) -> Reply<'a> {
    if req.method != "GET" && req.method != "HEAD" {
        return text(405, "only GET and HEAD\n");
    }
    let host = req.host.as_deref().unwrap_or("");
    if !host_allowed(host, port) {
        return text(
            403,
            "refused: the Host header must be localhost or an IP address with this port \
             (tare view protects its bundle from DNS rebinding)\n",
        );
    }
    let path = req.target.split(['?', '#']).next().unwrap_or("/");
    if path.ends_with("bundle.tar.gz") {
        let own_origin = format!("http://{host}");
        let cross = req.origin.as_deref().is_some_and(|o| o != own_origin)
            || req
                .fetch_site
                .as_deref()
                .is_some_and(|s| s != "same-origin" && s != "none");
        if cross {
            return text(403, "refused: the bundle is served to this origin only\n");
        }
        return match bundle {
            Some(b) if path == bundle_path(token) => Reply {
                status: 200,
                content_type: "application/gzip",
                body: b,
            },
            Some(_) => text(
                403,
                "refused: open the URL `tare view` printed (it holds the bundle's token)\n",
            ),
            None => text(404, "not found\n"),
        };
    }
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, body, ct)) => Reply {
            status: 200,
            content_type: ct,
            body,
        },
        None => text(404, "not found\n"),
    }
}

/// The page URL for a bound address, with the bundle preloaded (under its token) when there is one.
pub fn page_url(addr: SocketAddr, bundle_token: Option<&str>) -> String {
    match bundle_token {
        Some(t) => format!("http://{addr}/?bundle=.{}", bundle_path(t)),
        None => format!("http://{addr}/"),
    }
}

/// An unguessable token: 128 bits from the kernel's random source, in hex.
pub fn new_token() -> Result<String> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .context("cannot read /dev/urandom for the bundle's token")?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Connections the kernel queues for the server while every permit is taken (capped by
/// `net.core.somaxconn`); std's `bind` would queue only 128.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds `host:port` (port 0 picks a free one), with a listen queue of [`LISTEN_BACKLOG`].
pub async fn bind(host: &str, port: u16) -> Result<TcpListener> {
    let context = || format!("cannot listen on {host}:{port}; pick another --port");
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port))
        .await
        .with_context(context)?
    {
        let listen = || -> std::io::Result<TcpListener> {
            let socket = if addr.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            socket.listen(LISTEN_BACKLOG)
        };
        match listen() {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => anyhow::Error::new(e),
        None => anyhow::anyhow!("{host} resolves to no address"),
    })
    .with_context(context)
}

/// What the server serves and how patient it is.
#[derive(Debug, Clone)]
pub struct Serving {
    pub bundle: Option<Vec<u8>>,
    pub token: String,
    pub head_timeout: Duration,
}

/// Serves until the task is dropped; fails only when the listening socket itself does.
pub async fn serve(listener: TcpListener, serving: Serving) -> Result<()> {
    let port = listener.local_addr()?.port();
    let serving = Arc::new(serving);
    // A permit per connection, taken before accept: past the bound, connections wait in the
    // listen queue instead of costing a descriptor each.
    let permits = Arc::new(Semaphore::new(connection_bound(nofile_limit())));
    let mut warned = false;
    loop {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .context("the connection semaphore was closed")?;
        let stream = loop {
            match listener.accept().await {
                Ok((stream, _)) => break stream,
                Err(e) => match accept_failure(&e) {
                    AcceptFailure::Connection => continue,
                    AcceptFailure::Resources => {
                        if !warned {
                            warned = true;
                            crate::cli::out::note(&format!(
                                "tare view: cannot accept a connection ({e}); waiting for others \
                                 to close (raise `ulimit -n` to serve more at once)"
                            ));
                        }
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                    }
                    AcceptFailure::Fatal => {
                        return Err(e).context("cannot accept connections on the listening socket")
                    }
                },
            }
        };
        let serving = Arc::clone(&serving);
        tokio::spawn(async move {
            let _ = handle(stream, port, &serving).await;
            drop(permit);
        });
    }
}

/// Writes `bytes`, giving up when a write makes no progress for `stall` (a client that
/// stopped reading would otherwise hold its connection forever).
async fn write_patiently(
    stream: &mut TcpStream,
    bytes: &[u8],
    stall: Duration,
) -> std::io::Result<()> {
    for chunk in bytes.chunks(64 << 10) {
        tokio::time::timeout(stall, stream.write_all(chunk))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    }
    Ok(())
}

/// Reads a request head into `buf`: `Ok(false)` when it grew past [`MAX_HEAD`], an error
/// when the client closed first.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        if buf.len() > MAX_HEAD {
            return Ok(false);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf.len() <= MAX_HEAD)
}

async fn handle(mut stream: TcpStream, port: u16, serving: &Serving) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let fits =
        match tokio::time::timeout(serving.head_timeout, read_head(&mut stream, &mut buf)).await {
            Ok(Ok(fits)) => fits,
            // Closed early or too slow: drop the connection.
            Ok(Err(_)) | Err(_) => return Ok(()),
        };
    let (reply, head_only) = if !fits {
        (text(431, "request head too large\n"), false)
    } else {
        match parse_head(&buf) {
            Some(req) => (
                route(&req, port, &serving.token, serving.bundle.as_deref()),
                req.method == "HEAD",
            ),
            None => (text(400, "malformed request\n"), false),
        }
    };
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        431 => "Request Header Fields Too Large",
        _ => "Method Not Allowed",
    };
    let header = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    write_patiently(&mut stream, header.as_bytes(), serving.head_timeout).await?;
    if !head_only {
        write_patiently(&mut stream, reply.body, serving.head_timeout).await?;
    }
    tokio::time::timeout(serving.head_timeout, stream.shutdown())
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str, host: &str) -> Request {
        Request {
            method: "GET".into(),
            target: target.into(),
            host: Some(host.into()),
            ..Request::default()
        }
    }

    #[test]
    fn serves_only_fixed_paths() {
        let h = "127.0.0.1:8123";
        let r = |req: &Request| route(req, 8123, "t0k", None).status;
        assert_eq!(r(&get("/", h)), 200);
        assert_eq!(
            route(&get("/index.html?x=1", h), 8123, "t", None).content_type,
            "text/html; charset=utf-8"
        );
        assert_eq!(r(&get("/../etc/passwd", h)), 404);
        assert_eq!(r(&get("/etc/passwd", h)), 404);
        let post = Request {
            method: "POST".into(),
            ..get("/", h)
        };
        assert_eq!(r(&post), 405);
        let b = [1u8, 2, 3];
        assert_eq!(
            route(&get("/b/t0k/bundle.tar.gz", h), 8123, "t0k", Some(&b)).body,
            &b
        );
        assert_eq!(
            route(&get("/bundle.tar.gz", h), 8123, "t0k", Some(&b)).status,
            403
        );
        assert_eq!(
            route(&get("/b/x/bundle.tar.gz", h), 8123, "t0k", Some(&b)).status,
            403
        );
    }

    #[test]
    fn only_its_own_host_and_origin_get_the_bundle() {
        assert!(host_allowed("127.0.0.1:8123", 8123));
        assert!(host_allowed("localhost:8123", 8123));
        assert!(host_allowed("[::1]:8123", 8123));
        assert!(!host_allowed("127.0.0.1:8124", 8123));
        assert!(!host_allowed("attacker.example:8123", 8123));
        assert!(!host_allowed("127.0.0.1", 8123));
        let b = [9u8];
        let p = "/b/t/bundle.tar.gz";
        let cross = Request {
            origin: Some("http://attacker.example:8123".into()),
            ..get(p, "127.0.0.1:8123")
        };
        assert_eq!(route(&cross, 8123, "t", Some(&b)).status, 403);
        let site = Request {
            fetch_site: Some("cross-site".into()),
            ..get(p, "127.0.0.1:8123")
        };
        assert_eq!(route(&site, 8123, "t", Some(&b)).status, 403);
        let own = Request {
            origin: Some("http://127.0.0.1:8123".into()),
            fetch_site: Some("same-origin".into()),
            ..get(p, "127.0.0.1:8123")
        };
        assert_eq!(route(&own, 8123, "t", Some(&b)).status, 200);
        assert_eq!(
            route(&get("/", "evil.example:8123"), 8123, "t", None).status,
            403
        );
    }

    #[test]
    fn heads_parse_or_are_refused() {
        let r = parse_head(b"GET /x HTTP/1.1\r\nHost: localhost:1\r\nOrigin: http://a\r\n\r\n")
            .unwrap();
        assert_eq!((r.method.as_str(), r.target.as_str()), ("GET", "/x"));
        assert_eq!(r.host.as_deref(), Some("localhost:1"));
        assert_eq!(r.origin.as_deref(), Some("http://a"));
        assert_eq!(parse_head(b"\x00\x01 garbage\r\n\r\n"), None);
    }

    #[test]
    fn connections_are_bounded_well_under_the_fd_limit() {
        assert_eq!(connection_bound(256), 112);
        assert_eq!(connection_bound(1024), 496);
        assert_eq!(connection_bound(20_000), MAX_CONNECTIONS);
        assert_eq!(connection_bound(u64::MAX), MAX_CONNECTIONS);
        assert_eq!(connection_bound(16), 1);
        assert_eq!(connection_bound(0), 1);
        for n in [64u64, 100, 256, 1024, 4096] {
            assert!((connection_bound(n) as u64) * 2 <= n, "{n}");
        }
    }

    #[test]
    fn out_of_descriptors_is_waited_out_not_fatal() {
        let os = std::io::Error::from_raw_os_error;
        assert_eq!(accept_failure(&os(libc::EMFILE)), AcceptFailure::Resources);
        assert_eq!(accept_failure(&os(libc::ENFILE)), AcceptFailure::Resources);
        assert_eq!(accept_failure(&os(libc::ENOBUFS)), AcceptFailure::Resources);
        assert_eq!(
            accept_failure(&os(libc::ECONNABORTED)),
            AcceptFailure::Connection
        );
        assert_eq!(accept_failure(&os(libc::EINTR)), AcceptFailure::Connection);
        assert_eq!(accept_failure(&os(libc::EBADF)), AcceptFailure::Fatal);
        assert_eq!(accept_failure(&os(libc::EINVAL)), AcceptFailure::Fatal);
    }

    #[test]
    fn urls_point_at_loopback_with_the_token() {
        let addr: SocketAddr = "127.0.0.1:8123".parse().unwrap();
        assert_eq!(
            page_url(addr, Some("ab12")),
            "http://127.0.0.1:8123/?bundle=./b/ab12/bundle.tar.gz"
        );
        assert_eq!(page_url(addr, None), "http://127.0.0.1:8123/");
        let t = new_token().unwrap();
        assert_eq!(t.len(), 32);
        assert_ne!(t, new_token().unwrap());
    }
}
