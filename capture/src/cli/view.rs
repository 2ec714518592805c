//! `tare view`: serve the embedded viewer on loopback with a bundle preloaded, and print the URL.

use std::path::{Path, PathBuf};

use anyhow::Result;
use report_model::bundle::{self, Keep, Limits};
use report_model::schema::parse_json;
use report_model::schema::summary::Summary;

use super::report::input;
use super::EXIT_BAD_INPUT;
use crate::cli::out::{errln, failln, outln};
use crate::harness::results;
use crate::view;

/// What `tare view FILE` accepts, for error messages.
const ACCEPTS: &str = "tare view opens a bundle (.bundle.tar.gz), a capture archive (.tar.gz), \
                       a summary.json or a results directory";

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

/// The bytes to serve for `path`, checked as the page will read them (the browser's limits,
/// every member against the manifest and its schema), so that bad input is refused here,
/// at start, rather than in the browser; a results directory is bundled.
fn preload(path: &Path) -> Result<Vec<u8>, String> {
    if path.is_dir() {
        input::results_dir(path)?;
        return results::bundle_of_dir(path, results::DEFAULT_BUNDLE_CAP)
            .map_err(|e| format!("{e:#}"));
    }
    let limits = Limits::browser();
    let name = path.display().to_string();
    // The page refuses a larger file: it is not read whole here either.
    let bytes = input::read_bounded(path, limits.max_total_bytes, "a file the viewer opens")?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        bundle::open(&name, &bytes[..], &Keep::default(), &limits).map_err(|e| e.to_string())?;
    } else {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format!("{name} is neither gzip nor UTF-8 text"))?;
        parse_json::<Summary>(&name, text.trim_start_matches('\u{feff}'))
            .map_err(|e| e.to_string())?;
    }
    Ok(bytes)
}

pub fn run(args: Args) -> Result<i32> {
    let bundle = match args.bundle.as_deref().map(preload).transpose() {
        Ok(b) => b,
        Err(why) => {
            failln!("tare: view: {why}\n({ACCEPTS})");
            return Ok(EXIT_BAD_INPUT);
        }
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
