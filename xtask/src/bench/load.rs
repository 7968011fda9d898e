//! Child-process modes of the benchmark: an HTTP/1.1 load generator, the
//! servers it loads, and a spec loader that reports its own time and peak
//! memory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use grantspec_mock::MockServer;
use grantspec_token::SystemClock;

/// `xtask bench-load ADDR PATH HEADERS_AND_BODY_FILE CONNECTIONS SECONDS`:
/// keeps CONNECTIONS keep-alive connections busy sending the same request
/// for SECONDS, then prints `requests=N errors=E seconds=S`.
pub fn load_generator(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let [addr, request_file, connections, seconds] = args.as_slice() else {
        anyhow::bail!("usage: xtask bench-load ADDR REQUEST_FILE CONNECTIONS SECONDS");
    };
    let request = Arc::new(std::fs::read(request_file)?);
    let connections: usize = connections.parse()?;
    let duration = Duration::from_secs_f64(seconds.parse()?);
    anyhow::ensure!(
        addr.starts_with("127.0.0.1:"),
        "load is only ever sent to loopback"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (addr, request, stop, done, errors) = (
                addr.clone(),
                Arc::clone(&request),
                Arc::clone(&stop),
                Arc::clone(&done),
                Arc::clone(&errors),
            );
            std::thread::spawn(move || {
                let mut buffer = vec![0u8; 64 * 1024];
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut stream) = TcpStream::connect(&addr) else {
                        errors.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    while !stop.load(Ordering::Relaxed) {
                        if stream.write_all(&request).is_err() {
                            errors.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        match read_response(&mut stream, &mut buffer) {
                            Some(200) => {
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            Some(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                            None => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for worker in workers {
        let _ = worker.join();
    }
    println!(
        "requests={} errors={} seconds={elapsed:.3}",
        done.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads one HTTP/1.1 response with a `Content-Length` body; returns its
/// status, or `None` when the connection broke.
fn read_response(stream: &mut TcpStream, buffer: &mut [u8]) -> Option<u16> {
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            return None;
        }
        let read = stream.read(&mut buffer[filled..]).ok()?;
        if read == 0 {
            return None;
        }
        filled += read;
        let Some(head_end) = buffer[..filled].windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buffer[..head_end]).ok()?;
        let status: u16 = head.get(9..12)?.parse().ok()?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())
                    .flatten()
            })
            .unwrap_or(0);
        let total = head_end + 4 + length;
        if total > buffer.len() {
            return None;
        }
        while filled < total {
            let read = stream.read(&mut buffer[filled..]).ok()?;
            if read == 0 {
                return None;
            }
            filled += read;
        }
        return Some(status);
    }
}

/// `xtask bench-load-spec FILE`: reads one spec file, then loads and
/// validates it, and prints `cases=N read_millis=R millis=T peak_kib=M`:
/// the time reading its bytes took (the second read, so from the page
/// cache, as a runner that follows a build reads it), the time loading and
/// validating took (reading included), and the peak resident memory of
/// this process.
pub fn load_spec(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let [file] = args.as_slice() else {
        anyhow::bail!("usage: xtask bench-load-spec FILE");
    };
    let path = Path::new(file);
    let read = || grantspec_spec::read_regular_file(path, u64::MAX, "spec");
    read()?;
    let started = Instant::now();
    read()?;
    let read_millis = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let loaded = grantspec_spec::load_file(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let peak = status_kib("self", "VmHWM").unwrap_or(0);
    println!(
        "cases={} read_millis={read_millis:.2} millis={millis:.1} peak_kib={peak}",
        loaded.spec.cases.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// A memory figure in KiB (`VmRSS`, `VmHWM`, …) from `/proc/PROCESS/status`,
/// where PROCESS is a PID or `self`.
pub(super) fn status_kib(process: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{process}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `xtask bench-serve SPEC_FILE`: serves the mock for the spec's providers
/// and a minimal token endpoint, prints `mock=ADDR minimal=ADDR`, and serves
/// until its stdin closes.
pub fn serve(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let [file] = args.as_slice() else {
        anyhow::bail!("usage: xtask bench-serve SPEC_FILE");
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let spec = grantspec_spec::load_file(Path::new(file))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .spec;
        let mock =
            MockServer::start([super::floor::seeded(&spec)?], Arc::new(SystemClock), 0).await?;
        drop(spec);
        let minimal = minimal_server().await?;
        println!("mock={} minimal={minimal}", mock.addr());
        std::io::stdout().flush()?;
        tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
        drop(mock);
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// A minimal axum token endpoint that returns a fixed token.
async fn minimal_server() -> anyhow::Result<String> {
    const TOKEN: &str = r#"{"access_token":"0123456789abcdef0123456789abcdef01234567","token_type":"Bearer","expires_in":3600}"#;
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(|| async {
            (
                [
                    ("content-type", "application/json"),
                    ("cache-control", "no-store"),
                    ("pragma", "no-cache"),
                ],
                TOKEN,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
