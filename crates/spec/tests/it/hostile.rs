//! Hostile files: whatever sits in a spec folder or is handed to the loader,
//! nothing leaks, nothing hangs, nothing panics. Every entry is refused with
//! a clear error naming the file (and its line and column where there is
//! one), each within a second.
//!
//! Entries that cannot be committed (FIFOs, symbolic links, huge files) are
//! made at test time in a temporary folder.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `work` on its own thread and fails the test when it takes longer
/// than `limit` (a hang guard: a hung loader must not hang the test run).
fn within<T: Send + 'static>(
    what: &str,
    limit: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (send, receive) = mpsc::channel();
    let started = Instant::now();
    std::thread::spawn(move || {
        let _ = send.send(work());
    });
    match receive.recv_timeout(limit) {
        Ok(value) => value,
        Err(_) => panic!(
            "{what}: not refused within {limit:?} (still running after {:?})",
            started.elapsed()
        ),
    }
}

/// The error text of loading `source` as `name`, within a second.
fn refused_str(name: &'static str, source: String) -> String {
    within(
        name,
        Duration::from_secs(1),
        move || match grantspec_spec::load_str(Path::new(name), &source) {
            Ok(_) => panic!("{name} loaded"),
            Err(errors) => errors.to_string(),
        },
    )
}

#[test]
fn deep_nesting_is_refused_in_linear_time_and_located() {
    for depth in [1_000, 10_000, 100_000] {
        for (open, close) in [("[", "]"), ("{a: ", "}")] {
            let source = format!("{}{}", open.repeat(depth), close.repeat(depth));
            let text = refused_str("deep.yaml", source);
            assert!(text.contains("nests too deeply"), "{text}");
            assert!(text.contains("--> deep.yaml:1:"), "{text}");
        }
    }
    // Block style, one level per `- `, and nesting hidden after a valid start.
    let source = format!("cases:\n  {}x\n", "- ".repeat(100_000));
    let text = refused_str("deep.yaml", source);
    assert!(text.contains("nests too deeply"), "{text}");
    assert!(text.contains("--> deep.yaml:2:"), "{text}");
}

/// A minimal spec that loads, for provider `id`.
fn spec(id: &str) -> String {
    format!(
        "provider:\n  id: {id}\n  name: X\n  token_endpoint: {{ path: /token }}\n\
         cases:\n  - name: c\n    grant: client_credentials\n"
    )
}

/// A fresh temporary folder.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("grantspec-hostile-{name}-"))
        .tempdir()
        .unwrap()
}

/// The errors of loading `dir`, within a second; the specs that loaded too.
fn load_dir_within(dir: &Path) -> (Vec<String>, String) {
    let dir = dir.to_owned();
    let (specs, errors) = within(
        &dir.display().to_string(),
        Duration::from_secs(1),
        move || grantspec_spec::load_dir(&dir),
    );
    let loaded = specs.iter().map(|s| s.spec.provider.id.clone()).collect();
    (loaded, grantspec_spec::SpecErrors(errors).to_string())
}

/// The error text of loading the file at `path`, within a second.
fn refused_file(path: &Path) -> String {
    let path = path.to_owned();
    within(
        &path.display().to_string(),
        Duration::from_secs(1),
        move || match grantspec_spec::load_file(&path) {
            Ok(_) => panic!("{} loaded", path.display()),
            Err(errors) => errors.to_string(),
        },
    )
}

#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_spec_is_refused_not_waited_on() {
    let dir = temp_dir("fifo");
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let text = refused_file(&fifo);
    assert!(text.contains("not a regular file (a FIFO)"), "{text}");
    assert!(text.contains(&format!("--> {}", fifo.display())), "{text}");
    let (_, text) = load_dir_within(dir.path());
    assert!(text.contains("not a regular file (a FIFO)"), "{text}");
}

#[cfg(unix)]
#[test]
fn a_link_to_a_device_is_refused_not_read() {
    let dir = temp_dir("zero");
    let zero = dir.path().join("zero.yaml");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let text = refused_file(&zero);
    assert!(
        text.contains("not a regular file (a character device)"),
        "{text}"
    );
    assert!(text.contains(&format!("--> {}", zero.display())), "{text}");
}

#[cfg(unix)]
#[test]
fn dangling_links_loops_and_folders_named_like_specs_are_errors_not_skipped() {
    let dir = temp_dir("links");
    std::fs::write(dir.path().join("good.yaml"), spec("good")).unwrap();
    std::os::unix::fs::symlink("nowhere.yaml", dir.path().join("dangling.yaml")).unwrap();
    std::os::unix::fs::symlink("loop.yaml", dir.path().join("loop.yaml")).unwrap();
    std::fs::create_dir(dir.path().join("folder.yaml")).unwrap();
    let (loaded, text) = load_dir_within(dir.path());
    assert_eq!(loaded, ["good"]);
    for (file, message) in [
        (
            "dangling.yaml",
            "a symbolic link to `nowhere.yaml`, which does not exist",
        ),
        ("loop.yaml", "a symbolic link that leads round in a loop"),
        ("folder.yaml", "this is a folder, not a spec file"),
    ] {
        assert!(
            text.contains(&format!("--> {}", dir.path().join(file).display())),
            "{text}"
        );
        assert!(text.contains(message), "{message}: {text}");
    }
    assert!(text.ends_with("3 errors"), "{text}");
}

#[test]
fn a_folder_without_specs_is_an_error() {
    let dir = temp_dir("empty");
    std::fs::write(dir.path().join("notes.txt"), "not a spec").unwrap();
    let (loaded, text) = load_dir_within(dir.path());
    assert!(loaded.is_empty());
    assert!(
        text.contains(&format!("error: no spec files in {}", dir.path().display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("--> {}", dir.path().display())),
        "{text}"
    );
}

#[test]
fn two_files_for_one_provider_are_one_located_error_naming_both() {
    let dir = temp_dir("twice");
    std::fs::write(dir.path().join("x.yaml"), spec("x")).unwrap();
    std::fs::write(dir.path().join("x.yml"), spec("x")).unwrap();
    let (loaded, text) = load_dir_within(dir.path());
    assert_eq!(loaded, ["x"]);
    let first = dir.path().join("x.yaml");
    let second = dir.path().join("x.yml");
    assert!(
        text.contains("error: provider `x` is already defined"),
        "{text}"
    );
    assert!(
        text.contains(&format!("--> {}:2:7", second.display())),
        "{text}"
    );
    assert!(text.contains(&first.display().to_string()), "{text}");
    assert!(text.ends_with("1 error"), "{text}");
}

#[test]
fn provider_ids_that_differ_only_in_case_are_refused() {
    let dir = temp_dir("case");
    std::fs::write(dir.path().join("X.yaml"), spec("X")).unwrap();
    std::fs::write(dir.path().join("x.yaml"), spec("x")).unwrap();
    let (loaded, text) = load_dir_within(dir.path());
    assert_eq!(loaded, ["X"]);
    assert!(
        text.contains("error: provider `x` differs only in case from `X`"),
        "{text}"
    );
    assert!(
        text.contains(&format!("--> {}:2:7", dir.path().join("x.yaml").display())),
        "{text}"
    );
}

/// Every spec of the malformed corpus (`tests/malformed`), and a few more
/// kinds of hostile content: refused within a second, naming the file, and
/// its line and column unless the problem is the whole file.
#[test]
fn every_hostile_content_is_refused_quickly_and_located() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    // Nothing to point at: no document at all.
    let whole_file = ["empty.yaml"];
    for file in files {
        let text = refused_file(&file);
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let located = if whole_file.contains(&name.as_str()) {
            format!("--> {}\n", file.display())
        } else {
            format!("--> {}:", file.display())
        };
        assert!(text.contains(&located), "{name} is not located:\n{text}");
        assert!(text.starts_with("error: "), "{text}");
    }

    let base = spec("t");
    let cases = [
        (
            "recursive alias",
            base.replace(
                "    grant: client_credentials\n",
                "    grant: client_credentials\n    expect: { body: &b { a: [*b] } }\n",
            ),
            "recursive alias",
        ),
        (
            "two documents",
            format!("{base}---\n{base}"),
            "more than one document",
        ),
        (
            "missing cases",
            base.split("cases:").next().unwrap().to_owned(),
            "missing top-level key `cases`",
        ),
        (
            "300-character case name",
            base.replace("name: c\n", &format!("name: {}\n", "c".repeat(300))),
            "is 300 characters long",
        ),
        (
            "colliding case names",
            base.replace("name: c\n", "name: a.b\n")
                + "  - name: a_b\n    grant: client_credentials\n",
            "would share the snapshot file `a_b.snap`",
        ),
        (
            "absurd lifetime",
            base.replace(
                "cases:",
                "mock: { token_lifetime: 18446744073709551615 }\ncases:",
            ),
            "`token_lifetime` is 18446744073709551615 seconds",
        ),
        (
            "absurd advance",
            base.replace(
                "    grant: client_credentials\n",
                "    steps: [ { advance: 18446744073709551615 } ]\n",
            ),
            "`advance` is 18446744073709551615 seconds",
        ),
        (
            "absurd status",
            base.replace(
                "    grant: client_credentials\n",
                "    grant: client_credentials\n    expect: { status: 1000 }\n",
            ),
            "`status` 1000 is not an HTTP status",
        ),
    ];
    for (what, source, expected) in cases {
        let text = refused_str("t.yaml", source);
        assert!(text.contains(expected), "{what}: {expected} not in\n{text}");
        assert!(
            text.contains("--> t.yaml:"),
            "{what} is not located:\n{text}"
        );
    }
}
