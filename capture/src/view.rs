//! A static HTTP server on loopback for the viewer embedded from dist/, with one bundle preloaded.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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

/// The URL path the preloaded bundle is served at.
pub const BUNDLE_PATH: &str = "/bundle.tar.gz";

/// What a request gets: status, content type, body.
#[derive(Debug, PartialEq, Eq)]
pub struct Reply<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a [u8],
}

/// Routes a request line to a reply. Pure: only fixed paths are served, never the file system.
pub fn route<'a>(method: &str, target: &str, bundle: Option<&'a [u8]>) -> Reply<'a> {
    const NOT_FOUND: &[u8] = b"not found\n";
    if method != "GET" && method != "HEAD" {
        return Reply {
            status: 405,
            content_type: "text/plain",
            body: b"only GET and HEAD\n",
        };
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    if path == BUNDLE_PATH {
        return match bundle {
            Some(b) => Reply {
                status: 200,
                content_type: "application/gzip",
                body: b,
            },
            None => Reply {
                status: 404,
                content_type: "text/plain",
                body: NOT_FOUND,
            },
        };
    }
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, body, ct)) => Reply {
            status: 200,
            content_type: ct,
            body,
        },
        None => Reply {
            status: 404,
            content_type: "text/plain",
            body: NOT_FOUND,
        },
    }
}

/// The page URL for a bound address, with the bundle preloaded when there is one.
pub fn page_url(addr: SocketAddr, with_bundle: bool) -> String {
    if with_bundle {
        format!("http://{addr}/?bundle=.{BUNDLE_PATH}")
    } else {
        format!("http://{addr}/")
    }
}

/// Binds `host:port` (port 0 picks a free one).
pub async fn bind(host: &str, port: u16) -> Result<TcpListener> {
    TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port}; pick another --port"))
}

/// Serves until the task is dropped.
pub async fn serve(listener: TcpListener, bundle: Option<Vec<u8>>) -> Result<()> {
    let bundle = Arc::new(bundle);
    loop {
        let (stream, _) = listener.accept().await?;
        let bundle = Arc::clone(&bundle);
        tokio::spawn(async move {
            let _ = handle(stream, bundle.as_deref()).await;
        });
    }
}

async fn handle(mut stream: TcpStream, bundle: Option<&[u8]>) -> std::io::Result<()> {
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    // Read until the end of the request head (bodies are never needed).
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
        if len == buf.len() {
            return Ok(());
        }
        let n = stream.read(&mut buf[len..]).await?;
        if n == 0 {
            return Ok(());
        }
        len += n;
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    let reply = route(method, target, bundle);
    let reason = match reply.status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let header = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
         X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    stream.write_all(header.as_bytes()).await?;
    if method != "HEAD" {
        stream.write_all(reply.body).await?;
    }
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_only_fixed_paths() {
        assert_eq!(route("GET", "/", None).status, 200);
        assert_eq!(
            route("GET", "/index.html?x=1", None).content_type,
            "text/html; charset=utf-8"
        );
        assert_eq!(
            route("GET", "/tare-viewer_bg.wasm", None).content_type,
            "application/wasm"
        );
        assert_eq!(route("GET", "/../etc/passwd", None).status, 404);
        assert_eq!(route("GET", "/etc/passwd", None).status, 404);
        assert_eq!(route("POST", "/", None).status, 405);
        assert_eq!(route("GET", BUNDLE_PATH, None).status, 404);
        let b = [1u8, 2, 3];
        assert_eq!(route("GET", BUNDLE_PATH, Some(&b)).body, &b);
    }

    #[test]
    fn urls_point_at_loopback_with_the_bundle() {
        let addr: SocketAddr = "127.0.0.1:8123".parse().unwrap();
        assert_eq!(
            page_url(addr, true),
            "http://127.0.0.1:8123/?bundle=./bundle.tar.gz"
        );
        assert_eq!(page_url(addr, false), "http://127.0.0.1:8123/");
    }
}
