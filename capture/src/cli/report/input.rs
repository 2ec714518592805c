//! The files a reading command is given, checked before they are read: files read whole within a size bound, results directories by their inputs.

use std::io::Read;
use std::path::Path;

use report_model::bundle::Limits;

/// What a results directory must hold, and the most each file may be (a bundle holds the
/// same files as members, within the same limits).
fn results_inputs() -> [(&'static str, u64); 3] {
    let limits = Limits::default();
    [
        ("experiment.toml", limits.max_document_bytes),
        ("host.json", limits.max_document_bytes),
        ("samples.jsonl", limits.max_member_bytes),
    ]
}

/// `bytes` for a message: `3221225472 bytes (3.0 GiB)`.
pub fn size(bytes: u64) -> String {
    if bytes < 1 << 20 {
        format!("{bytes} bytes")
    } else {
        format!(
            "{bytes} bytes ({})",
            report_model::render::format::mib(bytes as f64)
        )
    }
}

/// A limit for a message: `128 MiB`, or `9 bytes`.
pub fn limit_text(limit: u64) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB", limit >> 20)
    } else {
        format!("{limit} bytes")
    }
}

/// Reads the file at `path` whole, refusing it (before reading, when its size says so) if
/// it is over `limit` bytes; `what` names what it should be (`a summary.json`). Reads at
/// most `limit + 1` bytes of anything (a pipe, a device).
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, String> {
    let name = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let over = |n: u64| {
        format!(
            "{name} is {}: over the {} limit of {what}; refused without reading it",
            size(n),
            limit_text(limit)
        )
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if meta.is_dir() {
        return Err(format!("{name} is a directory, not {what}"));
    }
    if meta.is_file() && meta.len() > limit {
        return Err(over(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "{name} gives more than {}: over the limit of {what}",
            limit_text(limit)
        ));
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, String> {
    String::from_utf8(read_bounded(path, limit, what)?)
        .map_err(|_| format!("{} is not UTF-8 text: it is not {what}", path.display()))
}

/// Whether `dir` is a results directory (`tare bench --out DIR`): experiment.toml, host.json
/// and samples.jsonl, each a file within its limit. The error says what is missing or too
/// big, and what is expected.
pub fn results_dir(dir: &Path) -> Result<(), String> {
    let name = dir.display();
    let expected = "a results directory holds experiment.toml, host.json and samples.jsonl, \
                    as `tare bench --out DIR` writes them";
    match std::fs::metadata(dir) {
        Err(e) => return Err(format!("cannot read {name}: {e}")),
        Ok(m) if !m.is_dir() => return Err(format!("{name} is not a directory ({expected})")),
        Ok(_) => {}
    }
    for (file, limit) in results_inputs() {
        let path = dir.join(file);
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() && m.len() > limit => {
                return Err(format!(
                    "{} is {}: over the {} limit of a results directory's {file}",
                    path.display(),
                    size(m.len()),
                    limit_text(limit)
                ))
            }
            Ok(m) if m.is_file() => {}
            _ => {
                return Err(format!(
                    "{name} is not a results directory: it has no {file} ({expected})"
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("tare-input-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_file_over_its_limit_is_refused_by_its_size_and_by_what_it_gives() {
        let d = scratch("bounded");
        let f = d.join("summary.json");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_bounded(&f, 10, "a summary.json").unwrap().len(), 10);
        let e = read_bounded(&f, 9, "a summary.json").unwrap_err();
        assert!(
            e.contains("10 bytes: over the 9 bytes limit of a summary.json"),
            "{e}"
        );
        // A device has no size: it is read up to the limit and no further.
        let e = read_bounded(Path::new("/dev/zero"), 1 << 20, "a summary.json").unwrap_err();
        assert!(e.contains("gives more than 1 MiB"), "{e}");
        let e = read_bounded(&d, 10, "a summary.json").unwrap_err();
        assert!(e.contains("is a directory, not a summary.json"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_results_directory_is_known_by_its_three_inputs() {
        let d = scratch("results");
        let e = results_dir(&d).unwrap_err();
        assert!(
            e.contains("is not a results directory: it has no experiment.toml"),
            "{e}"
        );
        assert!(e.contains("tare bench --out DIR"), "{e}");
        for f in ["experiment.toml", "host.json", "samples.jsonl"] {
            std::fs::write(d.join(f), b"x").unwrap();
        }
        assert_eq!(results_dir(&d), Ok(()));
        let e = results_dir(&d.join("host.json")).unwrap_err();
        assert!(e.contains("is not a directory"), "{e}");
        let e = results_dir(&d.join("missing")).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }
}
