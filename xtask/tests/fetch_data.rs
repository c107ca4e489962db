//! `fetch-data` against a local HTTP server on 127.0.0.1: resume after an interrupted transfer,
//! checksum mismatch (clear error, nothing left behind), record-on-first-download, unpacking.

use md5::{Digest, Md5};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use xtask::fetch::{Checksum, Source, Unpack, fetch, unpack_tar_bz2};

/// How the server treats each successive request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Serve the (requested range of the) body completely.
    Full,
    /// Announce the full length but close the connection after this many bytes.
    CutAfter(usize),
}

/// A small HTTP/1.1 server with `Range` support, bounded to `plan.len()` requests.
struct Server {
    url: String,
    ranges_seen: Arc<Mutex<Vec<Option<u64>>>>,
    served: Arc<AtomicUsize>,
}

fn read_request(stream: &mut TcpStream) -> Option<u64> {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut range = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(spec) = lower.strip_prefix("range: bytes=") {
            range = spec.trim().trim_end_matches('-').parse().ok();
        }
    }
    range
}

fn serve(body: Vec<u8>, plan: Vec<Behaviour>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/data.bin", listener.local_addr().unwrap());
    let ranges_seen = Arc::new(Mutex::new(Vec::new()));
    let served = Arc::new(AtomicUsize::new(0));
    let (seen, count) = (ranges_seen.clone(), served.clone());
    thread::spawn(move || {
        for behaviour in plan {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let range = read_request(&mut stream);
            seen.lock().unwrap().push(range);
            let start = range.unwrap_or(0) as usize;
            let rest = &body[start.min(body.len())..];
            let head = match range {
                Some(s) => format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {s}-{}/{}\r\nConnection: close\r\n\r\n",
                    rest.len(),
                    body.len() - 1,
                    body.len()
                ),
                None => format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    rest.len()
                ),
            };
            stream.write_all(head.as_bytes()).unwrap();
            let send = match behaviour {
                Behaviour::Full => rest,
                Behaviour::CutAfter(n) => &rest[..n.min(rest.len())],
            };
            let _ = stream.write_all(send);
            let _ = stream.flush();
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Server {
        url,
        ranges_seen,
        served,
    }
}

fn payload() -> Vec<u8> {
    (0..200_000u32)
        .flat_map(|i| (i.wrapping_mul(2_654_435_761)).to_le_bytes())
        .collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

#[test]
fn interrupted_download_resumes_with_a_range_request() {
    let body = payload();
    let server = serve(
        body.clone(),
        vec![Behaviour::CutAfter(300_000), Behaviour::Full],
    );
    let dest = tempfile::tempdir().unwrap();
    let source = Source {
        url: server.url.clone(),
        file_name: "data.bin".into(),
        checksum: Checksum::Md5(md5_hex(&body)),
        unpack: Unpack::No,
    };
    let first = fetch(&source, dest.path(), false).unwrap_err();
    assert!(
        format!("{first:#}").contains("run again to resume"),
        "{first:#}"
    );
    let part = dest.path().join("data.bin.part");
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 300_000);
    assert!(!dest.path().join("data.bin").exists());

    let path = fetch(&source, dest.path(), false).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), body);
    assert!(!part.exists());
    assert_eq!(
        *server.ranges_seen.lock().unwrap(),
        vec![None, Some(300_000)]
    );

    // A verified file is not fetched again (the server has no requests left to serve).
    fetch(&source, dest.path(), false).unwrap();
    assert_eq!(server.served.load(Ordering::SeqCst), 2);
}

#[test]
fn checksum_mismatch_is_an_error_and_leaves_no_file() {
    let mut body = payload();
    let good_md5 = md5_hex(&body);
    body[1234] ^= 0x55; // corrupted in transit
    let server = serve(body, vec![Behaviour::Full]);
    let dest = tempfile::tempdir().unwrap();
    let source = Source {
        url: server.url.clone(),
        file_name: "data.bin".into(),
        checksum: Checksum::Md5(good_md5.clone()),
        unpack: Unpack::No,
    };
    let e = format!("{:#}", fetch(&source, dest.path(), false).unwrap_err());
    assert!(
        e.contains("checksum mismatch") && e.contains(&good_md5),
        "{e}"
    );
    assert_eq!(
        std::fs::read_dir(dest.path()).unwrap().count(),
        0,
        "partial or corrupt file left behind"
    );
}

#[test]
fn unpublished_checksum_is_recorded_then_enforced() {
    let body = payload();
    let server = serve(body.clone(), vec![Behaviour::Full]);
    let dest = tempfile::tempdir().unwrap();
    let source = Source {
        url: server.url.clone(),
        file_name: "data.bin".into(),
        checksum: Checksum::RecordOnFirstDownload,
        unpack: Unpack::No,
    };
    fetch(&source, dest.path(), false).unwrap();
    let record = std::fs::read_to_string(dest.path().join("CHECKSUMS.sha256")).unwrap();
    assert!(record.ends_with("  data.bin\n"), "{record}");

    // The local copy is damaged later: it no longer matches the record, so it is fetched again,
    // and a server now sending different bytes is refused.
    std::fs::write(dest.path().join("data.bin"), b"damaged").unwrap();
    let mut other = body;
    other[0] ^= 1;
    let server2 = serve(other, vec![Behaviour::Full]);
    let source2 = Source {
        url: server2.url.clone(),
        ..source
    };
    let e = format!("{:#}", fetch(&source2, dest.path(), false).unwrap_err());
    assert!(e.contains("checksum mismatch"), "{e}");
}

#[test]
fn tar_bz2_archives_unpack_and_corrupt_ones_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("rmd17.tar.bz2");
    {
        let enc = bzip2::write::BzEncoder::new(
            std::fs::File::create(&archive).unwrap(),
            bzip2::Compression::default(),
        );
        let mut tar = tar::Builder::new(enc);
        let text = b"0\n5\n9\n";
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "rmd17/splits/index_train_01.csv", &text[..])
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    unpack_tar_bz2(&archive, out.path()).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.path().join("rmd17/splits/index_train_01.csv")).unwrap(),
        "0\n5\n9\n"
    );

    let mut bytes = std::fs::read(&archive).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&archive, &bytes).unwrap();
    let out2 = tempfile::tempdir().unwrap();
    let e = format!("{:#}", unpack_tar_bz2(&archive, out2.path()).unwrap_err());
    assert!(e.contains("corrupt archive"), "{e}");
    let left: Vec<_> = std::fs::read_dir(out2.path()).unwrap().collect();
    assert!(left.is_empty(), "half-extracted files left behind");
}

#[test]
fn catalog_rejects_unknown_molecules() {
    use xtask::fetch::{Collection, catalog};
    assert_eq!(catalog(Collection::Rmd17, &[], false).unwrap().len(), 10);
    assert_eq!(
        catalog(Collection::Md17, &["aspirin".into()], false)
            .unwrap()
            .len(),
        1
    );
    let e = catalog(Collection::Md17, &["caffeine".into()], false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown molecule `caffeine`"), "{e}");
}
