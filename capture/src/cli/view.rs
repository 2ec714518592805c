//! `tare view`: serve the embedded viewer on loopback with a bundle preloaded, and print the URL.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::out::{errln, outln};
use crate::view;

/// Open a bundle in the browser viewer (served from this binary on 127.0.0.1).
///
/// Nothing is uploaded anywhere: the page reads the bundle from this local server. The
/// bundle is served only under the unguessable token of the printed URL, only to requests
/// whose Host is localhost or an IP address with this port (no DNS rebinding), and only to
/// the page's own origin.
///
/// Examples:
///   tare view results/smoke.bundle.tar.gz
///   tare view results/smoke            # a results directory, bundled on the fly
///   tare view --port 8080 run-20261122-231000-4242.tar.gz
///   tare view            # the viewer alone; open a file from the page
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A bundle (.bundle.tar.gz), a capture archive (.tar.gz) or a results directory to preload.
    pub bundle: Option<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Address to bind. Anything other than loopback exposes the bundle to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
}

pub fn run(args: Args) -> Result<i32> {
    let bundle = match &args.bundle {
        Some(p) if p.is_dir() => Some(crate::harness::results::bundle_of_dir(
            p,
            crate::harness::results::DEFAULT_BUNDLE_CAP,
        )?),
        Some(p) => Some(std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?),
        None => None,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let token = view::new_token()?;
    rt.block_on(async move {
        let listener = view::bind(&args.host, args.port).await?;
        let addr = listener.local_addr()?;
        outln!(
            "{}",
            view::page_url(addr, bundle.is_some().then_some(token.as_str()))
        )?;
        errln!("tare view: serving on {addr}; press Ctrl-C to stop");
        let serving = view::Serving {
            bundle,
            token,
            head_timeout: view::HEAD_TIMEOUT,
        };
        tokio::select! {
            r = view::serve(listener, serving) => r,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })?;
    Ok(0)
}
