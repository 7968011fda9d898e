//! Loading the specs shipped in `specs/`.

use std::path::Path;

#[test]
fn shipped_specs_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let (specs, errors) = grantspec_spec::load_dir(&dir);
    assert!(errors.is_empty(), "{}", grantspec_spec::SpecErrors(errors));
    assert!(specs.iter().any(|s| s.spec.provider.id == "shopware"));
}

#[test]
fn unknown_key_is_located_with_suggestion() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/shopware.yaml"),
    )
    .unwrap();
    let broken = source.replacen("    client_auth: post", "    client_auht: post", 1);
    let error = grantspec_spec::load_str(Path::new("shopware.yaml"), &broken).unwrap_err();
    let text = error.to_string();
    println!("{text}");
    assert!(text.contains("shopware.yaml:12:5"), "{text}");
    assert!(text.contains("did you mean `client_auth`?"), "{text}");
}
