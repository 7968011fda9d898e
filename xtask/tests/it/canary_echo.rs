//! Canary secrets against a server that echoes everything back.
//!
//! A token endpoint on 127.0.0.1 puts what it received (the `Authorization`
//! header, the raw form body, both base64-encoded) into every member it can,
//! into `WWW-Authenticate`, and issues tokens under camelCase names, inside
//! arrays and in a redirect's `Location`. A live spec sends canary secrets
//! holding `+/ =&:%` with Basic and with post; every case fails, so every
//! failure message is printed. Then every byte of the specs binary's stdout
//! and stderr, every snapshot and `.snap.new` file, and the four report files
//! of `cargo xtask report --live` are searched for every encoding in which
//! the harness sent a secret (raw, form- and percent-encoded, JSON-escaped,
//! base64 of `id:secret` with and without RFC 6749 §2.3.1 encoding, and the
//! secret inside any base64 text at any alignment), and for every issued
//! token: nothing may be found.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use grantspec_test_support::{specs_binary, temp_dir, text};

const CLIENT_ID: &str = "echo client+1";
const CLIENT_SECRET: &str = "s3cr+t/ x=&y:%z-canary";
const PASSWORD: &str = "p@ss w+rd/=&:%-canary";
/// Tokens the echo server issues: never to be printed.
const TOKENS: [&str; 4] = [
    "camel-access-4f7e9d1c2b3a",
    "array-token-8e2d4c6b1a09",
    "location-token-5c3b1a7d9e2f",
    "snake-access-1a2b3c4d5e6f",
];

/// Every text the harness could have turned `secret` into, computed here
/// independently of the runner's redactor.
fn encodings(secret: &str, client_id: &str) -> Vec<String> {
    let form = |text: &str| -> String {
        text.bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect()
    };
    let percent = |text: &str| -> String {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let mut out = vec![
        secret.to_owned(),
        form(secret),
        form(secret).to_lowercase(),
        percent(secret),
        percent(secret).to_lowercase(),
        serde_json::to_string(secret)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
        STANDARD.encode(format!("{client_id}:{secret}")),
        STANDARD.encode(format!("{}:{}", form(client_id), form(secret))),
    ];
    // The secret inside any longer base64 text: the characters that depend
    // only on its bytes, at each alignment, in both alphabets.
    for bytes in [secret.to_owned(), form(secret)] {
        for offset in 0..3 {
            let mut padded = vec![b'x'; offset];
            padded.extend_from_slice(bytes.as_bytes());
            let first = (offset * 8).div_ceil(6);
            let last = padded.len() * 8 / 6;
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                out.push(engine.encode(&padded)[first..last].to_owned());
            }
        }
    }
    out
}

/// The echo server: answers every request with what it received, in every
/// place it can, and issues the canary tokens. Runs until the test ends.
fn start_echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let _ = answer(stream);
            });
        }
    });
    format!("http://{address}")
}

fn answer(stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = String::new();
    let mut length = 0;
    let mut authorization = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("authorization") {
                authorization = value.trim().to_owned();
            }
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let everything = format!("{head}{body}");
    let redirect = head.starts_with("POST /redirect");
    let json = serde_json::json!({
        "error": "invalid_client",
        "error_description": format!("got {authorization} and {body}"),
        "received": { "authorization": authorization, "body": body, "head": head },
        "echo_b64": STANDARD.encode(&everything),
        "echo_b64url": URL_SAFE_NO_PAD.encode(format!("..{everything}")),
        "accessToken": TOKENS[0],
        "tokens": [TOKENS[1]],
        "access_token": TOKENS[3],
        "token_type": "Bearer",
    })
    .to_string();
    let status = if redirect {
        "302 Found"
    } else {
        "401 Unauthorized"
    };
    let location = format!(
        "https://app.example/callback?state=x#access_token={}&echo={}",
        TOKENS[2],
        STANDARD.encode(&authorization)
    );
    let challenge = format!(
        "Basic realm=\"echo\", error_description=\"{}\"",
        authorization.replace('"', "'")
    );
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\nwww-authenticate: {challenge}\r\nlocation: {location}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(response.as_bytes())?;
    stream.flush()
}

const SPEC: &str = r#"provider:
  id: echo
  name: An endpoint that echoes what it gets
  token_endpoint: { path: /token, client_auth: basic }
live:
  base_url: "${env:ECHO_BASE_URL}"
vars:
  client_id: "${env:ECHO_CLIENT_ID}"
  client_secret: "${secret:ECHO_CLIENT_SECRET}"
  password: "${secret:ECHO_PASSWORD}"
cases:
  - name: basic
    description: "Sends the secret s3cr+t/ x=&y:%z-canary with Basic (a description that holds it)."
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect: { status: 200 }
  - name: post
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    request: { client_auth: post }
    expect: { status: 200 }
  - name: password
    grant: password
    with: { client_id: "${client_id}", client_secret: "${client_secret}", username: alice, password: "${password}" }
    request: { client_auth: post }
    expect: { status: 200, body: { accessToken: "not what was issued" } }
"#;

fn live(command: &mut Command, dir: &Path, base_url: &str) -> Output {
    command
        .current_dir(dir)
        .env("GRANTSPEC_SPECS", dir.join("specs"))
        .env("GRANTSPEC_SNAPSHOTS", dir.join("snapshots"))
        .env("GRANTSPEC_TARGET", "live")
        .env("ECHO_BASE_URL", base_url)
        .env("ECHO_CLIENT_ID", CLIENT_ID)
        .env("ECHO_CLIENT_SECRET", CLIENT_SECRET)
        .env("ECHO_PASSWORD", PASSWORD)
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .output()
        .expect("the command runs")
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn no_secret_or_issued_token_leaves_in_any_encoding() {
    let started = Instant::now();
    let base_url = start_echo_server();
    let dir = temp_dir("canary-echo");
    std::fs::create_dir_all(dir.join("specs")).unwrap();
    std::fs::write(dir.join("specs/echo.yaml"), SPEC).unwrap();
    // The same cases against `/redirect/token`, answered with a 302 whose
    // `Location` carries a token.
    std::fs::write(
        dir.join("specs/echo-redirect.yaml"),
        SPEC.replace("id: echo\n", "id: echo-redirect\n")
            .replace("${env:ECHO_BASE_URL}", "${env:ECHO_BASE_URL}/redirect"),
    )
    .unwrap();

    let tests = live(&mut Command::new(specs_binary()), &dir, &base_url);
    let all = text(&tests);
    assert!(!tests.status.success(), "every case fails: {all}");
    assert!(
        all.contains("request (redacted):"),
        "failures are printed: {all}"
    );
    assert!(
        all.contains("[token"),
        "issued tokens show as fingerprints: {all}"
    );

    let out = dir.join("report");
    let report = live(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["report", "--live", "--out"])
            .arg(&out),
        &dir,
        &base_url,
    );
    assert!(!report.status.success(), "{}", text(&report));
    for name in grantspec_report::FILES {
        assert!(out.join(name).exists(), "{name} written");
    }
    let pending: Vec<_> = files(&dir.join("snapshots"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".snap.new"))
        .collect();
    assert!(!pending.is_empty(), "pending snapshots were written");

    let mut needles: Vec<(String, String)> = Vec::new();
    for (what, secret) in [("client secret", CLIENT_SECRET), ("password", PASSWORD)] {
        for needle in encodings(secret, CLIENT_ID) {
            needles.push((format!("{what} as {needle:?}"), needle));
        }
    }
    for token in TOKENS {
        needles.push((format!("issued token {token}"), token.to_owned()));
    }
    let mut haystacks: Vec<(String, Vec<u8>)> = vec![
        ("specs stdout".into(), tests.stdout.clone()),
        ("specs stderr".into(), tests.stderr.clone()),
        ("report stdout".into(), report.stdout.clone()),
        ("report stderr".into(), report.stderr.clone()),
    ];
    for path in files(&dir.join("snapshots")).into_iter().chain(files(&out)) {
        haystacks.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    let mut hits = Vec::new();
    for (place, bytes) in &haystacks {
        let text = String::from_utf8_lossy(bytes);
        for (what, needle) in &needles {
            if text.contains(needle.as_str()) {
                hits.push(format!("{what} in {place}"));
            }
        }
    }
    assert!(
        hits.is_empty(),
        "{} hit(s):\n{}",
        hits.len(),
        hits.join("\n")
    );
    // A hang guard, not a performance claim.
    assert!(started.elapsed() < Duration::from_secs(120));
}
