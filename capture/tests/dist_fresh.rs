//! Fails when dist/ was not rebuilt after a change to viewer/ or report-model/ sources.

use std::path::Path;
use std::process::Command;

#[test]
fn dist_matches_the_viewer_sources() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("bash")
        .arg(root.join("scripts/dist-hash.sh"))
        .output()
        .expect("run scripts/dist-hash.sh");
    assert!(
        out.status.success(),
        "dist-hash.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let now = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(now.len(), 64, "not a sha256: {now:?}");
    let recorded = std::fs::read_to_string(root.join("dist/SOURCE_HASH")).unwrap_or_default();
    assert_eq!(
        recorded.trim(),
        now,
        "dist/ is stale: viewer/ or report-model/ changed since it was built; run scripts/build-viewer.sh and commit dist/"
    );
    for f in ["index.html", "tare-viewer.js", "tare-viewer_bg.wasm"] {
        assert!(root.join("dist").join(f).is_file(), "dist/{f} missing");
    }
}
