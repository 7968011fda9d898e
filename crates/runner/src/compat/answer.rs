//! What a token endpoint's answer means, read through the provider's
//! profile rather than by status: an error carried by a success status
//! (Slack's `{"ok": false, "error": …}`, GitHub's form `error=…`, both under
//! HTTP 200) is a refusal, as the token crate's [`parse_response`] reads it.

use std::time::UNIX_EPOCH;

use grantspec_token::{HttpResponse, ProviderProfile, ResponseError, parse_response};

/// What a token endpoint did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenAnswer {
    /// A success status without an error in it: the request was accepted
    /// (whether the token in it is usable is for the checks to say).
    Issued,
    /// A 4xx, or a success status whose body is an error.
    Refused,
    /// Anything else (a 3xx or a 5xx): says nothing of the request.
    Other,
}

impl TokenAnswer {
    /// Reads `response` as `profile`'s client would.
    pub(crate) fn of(profile: &ProviderProfile, response: &HttpResponse) -> Self {
        let status = response.status;
        if (400..500).contains(&status) {
            return Self::Refused;
        }
        if !(200..300).contains(&status) {
            return Self::Other;
        }
        // `parse_response` takes only 200 and 201 as success statuses; any
        // other 2xx is read as before, by status.
        let error_inside = matches!(status, 200 | 201)
            && matches!(
                parse_response(profile, response, UNIX_EPOCH),
                Err(ResponseError::Refused(_))
            );
        if error_inside {
            Self::Refused
        } else {
            Self::Issued
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(
        profile: &ProviderProfile,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> TokenAnswer {
        TokenAnswer::of(
            profile,
            &HttpResponse {
                status,
                headers: vec![("content-type".into(), content_type.into())],
                body: body.as_bytes().to_vec(),
            },
        )
    }

    #[test]
    fn an_error_under_a_success_status_is_a_refusal() {
        let json = ProviderProfile::default();
        let mut form = ProviderProfile::default();
        form.response.encoding = grantspec_token::ResponseEncoding::Form;
        let token = r#"{"access_token":"a","token_type":"Bearer","expires_in":60}"#;
        assert_eq!(
            answer(&json, 200, "application/json", token),
            TokenAnswer::Issued
        );
        assert_eq!(
            answer(
                &json,
                200,
                "application/json",
                r#"{"ok":false,"error":"invalid_grant"}"#
            ),
            TokenAnswer::Refused
        );
        assert_eq!(
            answer(
                &form,
                200,
                "application/x-www-form-urlencoded",
                "error=bad_verification_code"
            ),
            TokenAnswer::Refused
        );
        assert_eq!(
            answer(
                &form,
                200,
                "application/x-www-form-urlencoded",
                "access_token=a&token_type=bearer"
            ),
            TokenAnswer::Issued
        );
        assert_eq!(
            answer(&json, 400, "application/json", "{}"),
            TokenAnswer::Refused
        );
        assert_eq!(
            answer(&json, 503, "application/json", "{}"),
            TokenAnswer::Other
        );
        // A malformed success is not a refusal: the request was accepted.
        assert_eq!(
            answer(&json, 200, "application/json", "{}"),
            TokenAnswer::Issued
        );
    }
}
