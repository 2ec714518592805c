//! Turns a dropped or picked file into report-model data, entirely in the browser.

use report_model::bundle::{self, Limits, Member};
use report_model::schema::manifest::Manifest;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// What was opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Opened {
    pub name: String,
    pub manifest: Manifest,
    pub members: Vec<Member>,
}

/// Reads a browser `File` into bytes.
pub async fn file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("{}: the browser could not read the file", file.name()))?;
    let buf: js_sys::ArrayBuffer = buf
        .dyn_into()
        .map_err(|_| format!("{}: unexpected file contents", file.name()))?;
    Ok(js_sys::Uint8Array::new(&buf).to_vec())
}

/// Opens a bundle or archive: limits apply, every member is checked against the manifest.
pub fn open_container(name: &str, bytes: &[u8]) -> Result<Opened, String> {
    let members =
        bundle::read_tar_gz(name, bytes, &Limits::browser()).map_err(|e| e.to_string())?;
    let manifest = bundle::verify(name, &members).map_err(|e| e.to_string())?;
    Ok(Opened {
        name: name.to_string(),
        manifest,
        members,
    })
}
