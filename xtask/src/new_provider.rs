//! `cargo xtask new-provider ID [--specs DIR]`: scaffold `specs/ID.yaml`, a
//! spec for a provider that follows RFC 6749 to the letter, with cases that
//! pass against the mock as they are. Never overwrites a file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Why `id` cannot name a provider, if it cannot.
pub fn check_id(id: &str) -> Result<(), String> {
    let rule = "a provider id is lowercase letters, digits and single dashes, starting with a letter and ending with a letter or digit (it names the spec file, the tests `<id>::<case>` and the `<ID>_…` environment variables)";
    let valid = id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!("`{id}` is not a valid provider id: {rule}"))
    }
}

/// `acme-pay` → `Acme Pay`.
fn display_name(id: &str) -> String {
    id.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scaffolded spec for `id`.
pub fn template(id: &str) -> String {
    let env = id.to_ascii_uppercase().replace('-', "_");
    let name = display_name(id);
    TEMPLATE
        .replace("{id}", id)
        .replace("{ENV}", &env)
        .replace("{name}", &name)
}

const TEMPLATE: &str = r#"# yaml-language-server: $schema=../schema/spec.schema.json
#
# {name}: scaffolded by `cargo xtask new-provider {id}`.
#
# As written, this describes a provider that follows RFC 6749 to the letter,
# and every case passes against the embedded mock. Change the profile to what
# {name} really does (body encoding, client authentication, renamed
# parameters, envelope, error format), seed the mock to match, and write one
# case per behaviour worth pinning down, errors included.
# Every key is documented in docs/spec-format.md.
provider:
  id: {id}
  name: {name}                    # TODO: the product name as its documentation gives it
  # docs: https://example.com/…   # TODO: where the token endpoint is documented
  token_endpoint:
    path: /oauth/token
    method: POST
    body: form                    # form | json
    client_auth: basic            # basic | post | none
  response:
    expiry: expires_in            # expires_in | expires | both | none
  errors: rfc6749                 # rfc6749 | errors_array | problem
  deviations: []                  # known deviations from RFC 6749
  notes: []                       # where the documentation and the behaviour part ways
  # Where each fact comes from; a fact with no entry is reported as assumed.
  # Keys and format: docs/spec-format.md, "Sources".
  sources: {}
  #   token_type: { documented: '"token_type": "Bearer" (Response example)' }
  #   client_auth.basic: { assumed: "the page shows only body parameters" }
  contradictions: []              # where the documentation says one thing two ways

# What the embedded mock is seeded with. Without this section the provider is
# live-only: the mock does not emulate it, and its cases run only live.
mock:
  token_lifetime: 3600
  clients:
    - id: {id}-client
      secret: mock-{id}-secret
      grants: [client_credentials]

live:
  base_url: ${env:{ENV}_BASE_URL}
  # rate: { requests: 10, per_seconds: 1 }   # the request rate the provider allows, if it says

vars:
  client_id: { mock: {id}-client, live: "${env:{ENV}_CLIENT_ID}" }
  client_secret: { mock: mock-{id}-secret, live: "${secret:{ENV}_CLIENT_SECRET}" }

cases:
  - name: client_credentials
    description: A client's id and secret get a bearer access token.
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect:
      status: 200
      headers: { cache-control: { regex: no-store } }
      body:
        access_token: { type: string, min_len: 16 }
        token_type: { eq_ignore_case: Bearer }
        expires_in: { type: integer, min: 1 }
        refresh_token: { absent: true }

  - name: wrong_secret_rejected
    description: A wrong secret is answered 401 invalid_client, with a Basic challenge (RFC 6749 §5.2).
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: not-the-secret }
    expect:
      status: 401
      headers: { www-authenticate: { regex: "^Basic " } }
      body: { error: invalid_client }

  - name: unsupported_grant_rejected
    grant: password
    with: { client_id: "${client_id}", client_secret: "${client_secret}", username: someone, password: something }
    expect:
      status: 400
      body: { error: unsupported_grant_type }

  - name: missing_grant_type_rejected
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    request: { omit: [grant_type] }
    expect:
      status: 400
      body: { error: invalid_request }

  - name: token_works_then_expires
    description: The token is accepted by the protected resource, then expires (the mock's clock moves; nothing sleeps).
    tags: [mock-only]
    steps:
      - id: issue
        grant: client_credentials
        with: { client_id: "${client_id}", client_secret: "${client_secret}" }
        expect: { status: 200 }
      - resource: { token: "${issue.access_token}" }
        expect: { status: 200 }
      - advance: 3601
      - resource: { token: "${issue.access_token}" }
        expect: { status: 401 }
"#;

pub fn run(args: crate::flags::NewProvider) -> anyhow::Result<ExitCode> {
    let id = args.id;
    check_id(&id).map_err(anyhow::Error::msg)?;
    let dir: PathBuf = crate::specs_dir(args.specs.specs);
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{id}.yaml"));
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} already exists; new-provider never overwrites a spec (pick another id, or edit that file)",
            path.display()
        ),
        Err(e) => anyhow::bail!("cannot create {}: {e}", path.display()),
    };
    file.write_all(template(&id).as_bytes())?;

    let env = id.to_ascii_uppercase().replace('-', "_");
    println!("created {}", path.display());
    println!(
        "\nnext:
  cargo xtask validate
      checks the spec.
  cargo test --test specs -- {id}::
      runs its cases against the mock. The first run fails each case only because no
      snapshot is stored yet, and writes a pending one next to where it belongs.
  cargo xtask review
      shows the pending snapshots;
  cargo xtask accept
      keeps them. From then on the cases pass.
  GRANTSPEC_TARGET=live {env}_BASE_URL=… {env}_CLIENT_ID=… {env}_CLIENT_SECRET=… \\
    cargo test --test specs -- {id}::
      runs the same cases against the live provider (or put the variables in .env)."
    );
    if dir != grantspec_runner::workspace_root().join("specs") {
        println!(
            "\nthe spec is not in this repository's specs/: set GRANTSPEC_SPECS={} for these commands.",
            dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        for good in ["demo", "acme-pay", "a1", "x-2-y"] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        for bad in [
            "", "Demo", "1pass", "-x", "x-", "a--b", "a_b", "a.b", "../x", "a b", "é",
        ] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert_eq!(display_name("acme-pay"), "Acme Pay");
    }

    #[test]
    fn the_template_loads_as_a_valid_spec() {
        let spec = grantspec_spec::load_str("acme-pay.yaml".as_ref(), &template("acme-pay"))
            .unwrap_or_else(|e| panic!("{e}"))
            .spec;
        assert_eq!(spec.provider.id, "acme-pay");
        assert_eq!(spec.provider.name, "Acme Pay");
        assert!(spec.cases.len() >= 4);
        assert!(template("acme-pay").contains("${secret:ACME_PAY_CLIENT_SECRET}"));
        assert!(
            template("acme-pay")
                .starts_with("# yaml-language-server: $schema=../schema/spec.schema.json\n")
        );
    }
}
