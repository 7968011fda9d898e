//! Presenting an access token to the provider's API the way its profile
//! says ([`TokenPlacement`]): in the `Authorization` header with a scheme or
//! bare, in a query parameter, or in a form field.
//!
//! The token stays a [`Text::Secret`] wherever it goes, a query parameter
//! included ([`HttpRequest::query`]), so `Debug`, [`HttpRequest::redacted`]
//! and [`HttpRequest::shown_url`] never show it.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::profile::{ProviderProfile, TokenPlacement};
use crate::request::{Body, BuildError, HttpRequest, JsonField, Text};
use crate::response::Token;

/// Puts `access_token` into `request` where `placement` says. A form field
/// is appended to a form body (one is made when the request has none) or
/// to a JSON body's members; a raw body cannot take one.
pub fn present_token(
    placement: &TokenPlacement,
    access_token: &SecretString,
    request: &mut HttpRequest,
) -> Result<(), BuildError> {
    match placement {
        TokenPlacement::Header(scheme) => {
            let value = if scheme.is_empty() {
                access_token.clone()
            } else {
                SecretString::from(format!("{scheme} {}", access_token.expose_secret()))
            };
            request
                .headers
                .push(("authorization".to_owned(), Text::Secret(value)));
        }
        TokenPlacement::BareHeader => request.headers.push((
            "authorization".to_owned(),
            Text::Secret(access_token.clone()),
        )),
        TokenPlacement::Query(name) => request
            .query
            .push((name.clone(), Text::Secret(access_token.clone()))),
        TokenPlacement::Form(name) => {
            let field = Text::Secret(access_token.clone());
            match &mut request.body {
                None => request.body = Some(Body::Form(vec![(name.clone(), field)])),
                Some(Body::Form(pairs)) => pairs.push((name.clone(), field)),
                Some(Body::Json(fields)) => fields.push((name.clone(), JsonField::Text(field))),
                Some(Body::Raw { .. }) => {
                    return Err(BuildError::TokenFieldInNonFormBody {
                        field: name.clone(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// A request to the provider's API at `url` presenting `access_token` the
/// profile's way: `GET` for the header and query placements, `POST` with a
/// form for a form field (a `GET` has no body to carry one).
pub fn resource_request(
    profile: &ProviderProfile,
    url: Url,
    access_token: &SecretString,
) -> HttpRequest {
    let placement = &profile.resource.token;
    let mut request = HttpRequest {
        method: placement.default_method().to_owned(),
        url,
        query: Vec::new(),
        headers: vec![("accept".to_owned(), Text::from("application/json"))],
        body: None,
    };
    // A request with no body takes every placement.
    let _ = present_token(placement, access_token, &mut request);
    request
}

impl Token {
    /// A request to the provider's API at `url` presenting this token the
    /// way `profile` says ([`resource_request`]).
    pub fn present(&self, profile: &ProviderProfile, url: Url) -> HttpRequest {
        resource_request(profile, url, &self.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok|en+/=secret value";

    fn profile(token: TokenPlacement) -> ProviderProfile {
        let mut profile = ProviderProfile::default();
        profile.resource.token = token;
        profile
    }

    fn url() -> Url {
        Url::parse("https://api.example/me?fields=id").expect("a valid URL")
    }

    fn secret() -> SecretString {
        SecretString::from(TOKEN.to_owned())
    }

    fn assert_hidden(request: &HttpRequest) {
        let shown = format!("{}{request:?}{}", request.redacted(), request.shown_url());
        for form in [TOKEN, "tok%7Cen%2B%2F%3Dsecret+value", "tok|en"] {
            assert!(!shown.contains(form), "{form} shown in {shown}");
        }
        assert!(request.carries_secret());
    }

    #[test]
    fn a_bearer_header_is_the_default() {
        let request = resource_request(&ProviderProfile::default(), url(), &secret());
        assert_eq!(request.method, "GET");
        let (name, value) = &request.headers[1];
        assert_eq!(name, "authorization");
        assert_eq!(value.expose(), format!("Bearer {TOKEN}"));
        assert_eq!(request.wire_url(), url());
        assert_hidden(&request);
    }

    #[test]
    fn a_bare_header_has_no_scheme() {
        for placement in [
            TokenPlacement::BareHeader,
            TokenPlacement::Header(String::new()),
        ] {
            let request = resource_request(&profile(placement), url(), &secret());
            assert_eq!(request.headers[1].1.expose(), TOKEN);
            assert_hidden(&request);
        }
    }

    #[test]
    fn a_query_token_is_on_the_wire_url_only() {
        let request = resource_request(
            &profile(TokenPlacement::Query("access_token".into())),
            url(),
            &secret(),
        );
        let wire = request.wire_url();
        let pairs: Vec<(String, String)> = wire.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("fields".to_owned(), "id".to_owned()),
                ("access_token".to_owned(), TOKEN.to_owned())
            ]
        );
        assert_eq!(request.url, url(), "the plain URL carries no token");
        assert!(
            request
                .headers
                .iter()
                .all(|(name, _)| name != "authorization")
        );
        assert!(
            request
                .shown_url()
                .as_str()
                .ends_with("access_token=%5Bredacted%5D")
        );
        assert_hidden(&request);
    }

    #[test]
    fn a_form_token_is_a_posted_field() {
        let request = resource_request(
            &profile(TokenPlacement::Form("token".into())),
            url(),
            &secret(),
        );
        assert_eq!(request.method, "POST");
        let Some(Body::Form(pairs)) = &request.body else {
            panic!("a form body, got {:?}", request.body);
        };
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].0, "token");
        assert_eq!(pairs[0].1.expose(), TOKEN);
        assert_hidden(&request);
    }

    #[test]
    fn a_form_field_joins_a_body_but_not_a_raw_one() {
        let field = TokenPlacement::Form("token".into());
        let mut request = resource_request(&ProviderProfile::default(), url(), &secret());
        request.body = Some(Body::Json(vec![("a".into(), JsonField::Text("b".into()))]));
        present_token(&field, &secret(), &mut request).expect("a JSON body takes a member");
        assert!(matches!(&request.body, Some(Body::Json(fields)) if fields.len() == 2));
        request.body = Some(Body::Raw {
            content_type: None,
            bytes: b"x".to_vec(),
        });
        assert_eq!(
            present_token(&field, &secret(), &mut request),
            Err(BuildError::TokenFieldInNonFormBody {
                field: "token".into()
            })
        );
    }
}
