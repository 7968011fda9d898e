//! The provider facts a spec can say the source of (`provider.sources`),
//! and that the compatibility report shows with that source.

use crate::model::GrantKind;

/// Every fact key, with what it covers. A key names one fact of the profile
/// or the mock seed; `grant.*`, `body.*` and `client_auth.*` name one grant,
/// body encoding or client authentication method each.
pub const FACTS: &[(&str, &str)] = &[
    ("endpoint", "the token endpoint's method and path"),
    (
        "resource_token",
        "where the API takes the access token (`provider.resource.token`)",
    ),
    (
        "lists",
        "how list-valued parameters are sent (`token_endpoint.lists`)",
    ),
    (
        "rename",
        "parameter names that differ from RFC 6749's (`token_endpoint.rename`)",
    ),
    (
        "grant.client_credentials",
        "whether the client_credentials grant is accepted",
    ),
    ("grant.password", "whether the password grant is accepted"),
    (
        "grant.refresh_token",
        "whether the refresh_token grant is accepted",
    ),
    (
        "grant.authorization_code",
        "whether the authorization_code grant is accepted",
    ),
    (
        "grant.implicit",
        "whether the token-endpoint implicit grant is accepted",
    ),
    (
        "grant.jwt_bearer",
        "whether the JWT bearer grant (RFC 7523 §2.1) is accepted",
    ),
    (
        "grant.device_code",
        "whether the device authorization grant (RFC 8628) is accepted",
    ),
    (
        "grant.token_exchange",
        "whether token exchange (RFC 8693) is accepted",
    ),
    ("body.form", "whether a form-urlencoded body is accepted"),
    ("body.json", "whether a JSON body is accepted"),
    (
        "client_auth.basic",
        "whether HTTP Basic client authentication is accepted",
    ),
    (
        "client_auth.post",
        "whether client_id and client_secret as parameters are accepted",
    ),
    (
        "client_auth.none",
        "whether a public client (client_id only) is accepted",
    ),
    (
        "client_auth.client_secret_jwt",
        "whether a JWT signed with the client secret (HS256) authenticates a client",
    ),
    (
        "client_auth.private_key_jwt",
        "whether a JWT signed with the client's private key authenticates a client",
    ),
    ("token_type", "the spelling of `token_type`, or its absence"),
    ("expiry", "which members carry the expiry, and the envelope"),
    (
        "token_lifetime",
        "the lifetime of access tokens, by grant and by client where the spec gives them so",
    ),
    (
        "refresh",
        "what a refresh does to the refresh token, and what presenting a used one again does (rotate, reuse, rotate_keep_old or rotate_revoke_family)",
    ),
    ("errors", "the error format, and how its members are filled"),
    (
        "cache_headers",
        "`Cache-Control` and `Pragma` on token responses",
    ),
    ("response_scope", "whether token responses carry `scope`"),
    (
        "audience",
        "whether a token request must name an `audience`",
    ),
    ("token_format", "the shape of access tokens (opaque or JWT)"),
    ("content_type", "the `Content-Type` of JSON responses"),
    (
        "success_status",
        "the status of a successful token response",
    ),
    (
        "extra_members",
        "members of token responses beyond RFC 6749's",
    ),
];

/// Whether `key` is a fact key.
pub fn is_fact(key: &str) -> bool {
    FACTS.iter().any(|(k, _)| *k == key)
}

/// The fact key of a grant: `grant.password`.
pub fn grant_fact(grant: GrantKind) -> String {
    format!("grant.{}", grant.as_str())
}
