//! Mapping a request path to a file under the app directory, safely, and its content type.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a request path maps to no file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("bad percent-encoding")]
    Encoding,
    #[error("the path leaves the app directory")]
    Traversal,
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is an error.
pub fn percent_decode(path: &str) -> Result<Vec<u8>, PathError> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PathError::Encoding)?;
            let hex = std::str::from_utf8(hex).map_err(|_| PathError::Encoding)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| PathError::Encoding)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// The path under `root` that request path `path` (percent-encoded, starting with `/`) names.
/// Refuses `..` and `.` segments, NUL bytes and backslashes (decoded or not), so nothing outside
/// `root` can be named; symbolic links are checked by the caller after resolving.
pub fn resolve(root: &Path, path: &str) -> Result<PathBuf, PathError> {
    let decoded = percent_decode(path)?;
    let mut resolved = root.to_path_buf();
    for segment in decoded.split(|&b| b == b'/') {
        match segment {
            b"" => {}
            b"." | b".." => return Err(PathError::Traversal),
            _ if segment.contains(&0) || segment.contains(&b'\\') => {
                return Err(PathError::Traversal)
            }
            _ => resolved.push(OsStr::from_bytes(segment)),
        }
    }
    Ok(resolved)
}

/// The content type for a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(OsStr::to_str)
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_the_root_only() {
        let root = Path::new("/srv/app");
        assert_eq!(
            resolve(root, "/assets/a%20b.js"),
            Ok(PathBuf::from("/srv/app/assets/a b.js"))
        );
        assert_eq!(resolve(root, "//x//y"), Ok(PathBuf::from("/srv/app/x/y")));
        for bad in [
            "/../etc/passwd",
            "/a/../../etc",
            "/%2e%2e/secret",
            "/%2E%2E%2Fsecret",
            "/a/%2e/b",
            "/a%00b",
            "/..%5c..%5csecret",
        ] {
            assert_eq!(resolve(root, bad), Err(PathError::Traversal), "{bad}");
        }
        assert_eq!(resolve(root, "/%zz"), Err(PathError::Encoding));
        assert_eq!(resolve(root, "/%2"), Err(PathError::Encoding));
    }

    #[test]
    fn content_types_by_extension() {
        for (file, kind) in [
            ("index.html", "text/html; charset=utf-8"),
            ("a.JS", "text/javascript; charset=utf-8"),
            ("s.css", "text/css; charset=utf-8"),
            ("p.wasm", "application/wasm"),
            ("i.svg", "image/svg+xml"),
            ("d.json", "application/json"),
            ("blob", "application/octet-stream"),
        ] {
            assert_eq!(content_type(Path::new(file)), kind, "{file}");
        }
    }
}
