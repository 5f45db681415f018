//! Serving the JavaScript client (Node's `serveClient`): the builds of npm
//! `socket.io-client`'s `dist/` directory, under the server's path
//! (`/socket.io/socket.io.js`, `.min.js`, `.esm.min.js`, the msgpack build
//! and every source map), with the package version as `ETag` and 304 for a
//! matching `If-None-Match`. The files are read once, at build time.

use std::path::Path;

use roomcast_engineio::StaticFiles;

/// The names the reference server serves.
const CLIENT_FILES: [&str; 8] = [
    "socket.io.js",
    "socket.io.js.map",
    "socket.io.min.js",
    "socket.io.min.js.map",
    "socket.io.esm.min.js",
    "socket.io.esm.min.js.map",
    "socket.io.msgpack.min.js",
    "socket.io.msgpack.min.js.map",
];

/// The client files found in `dist`; `Err` when there is none. The ETag is
/// the version in `dist/../package.json` (the npm package's), else the
/// total size of the files.
pub(crate) fn load(dist: &Path) -> std::io::Result<StaticFiles> {
    let mut found = Vec::new();
    for name in CLIENT_FILES {
        match std::fs::read(dist.join(name)) {
            Ok(bytes) => found.push((name, bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    if found.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no socket.io-client build in {}", dist.display()),
        ));
    }
    let version = std::fs::read(dist.join("../package.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["version"].as_str().map(str::to_string))
        .unwrap_or_else(|| {
            found
                .iter()
                .map(|(_, b)| b.len())
                .sum::<usize>()
                .to_string()
        });
    let mut files = StaticFiles::new(&format!("\"{version}\""));
    for (name, bytes) in found {
        let content_type = match name.ends_with(".map") {
            true => "application/json; charset=utf-8",
            false => "application/javascript; charset=utf-8",
        };
        files = files.with_file(name, content_type, bytes);
    }
    Ok(files)
}
