//! What can go wrong talking to the bucket, in terms a user can act on.

use p2panda_core::mailbox::MailboxError;

/// Why a push or pull stopped. Nothing local is lost by any of them: entries taken in before
/// stay, and a later push or pull carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3Error {
    #[error("invalid S3 configuration: {0}")]
    Config(String),
    /// The access key is unknown to the server, or the secret key does not match it.
    #[error("the server refused the credentials (wrong access key or secret key)")]
    WrongCredentials,
    /// The credentials are valid but do not grant this (a policy forbids it).
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("the bucket does not exist (or no longer does)")]
    NoSuchBucket,
    /// An object of the mailbox was refused (see [`crate::PullReport::check`]).
    #[error("object {name} was refused: {source}")]
    Corrupted { name: String, source: MailboxError },
    /// The server could not be reached, or the connection broke.
    #[error("network error: {0}")]
    Network(String),
    /// Any other error the server answered with.
    #[error("the server answered with an error: {0}")]
    Server(String),
}

impl From<object_store::Error> for S3Error {
    fn from(error: object_store::Error) -> Self {
        use object_store::Error as E;
        // S3 names the cause in its XML error body, which object_store keeps in the message.
        let text = error_chain(&error);
        let code = text
            .split_once("<Code>")
            .and_then(|(_, rest)| rest.split_once("</Code>"))
            .map(|(code, _)| code);
        match code {
            Some("NoSuchBucket") => return S3Error::NoSuchBucket,
            // AWS, and s3s for an unknown access key (NotSignedUp).
            Some(
                "InvalidAccessKeyId"
                | "SignatureDoesNotMatch"
                | "NotSignedUp"
                | "InvalidToken"
                | "ExpiredToken"
                | "AuthorizationHeaderMalformed",
            ) => return S3Error::WrongCredentials,
            Some("AccessDenied") => return S3Error::AccessDenied(text),
            _ => {}
        }
        match error {
            E::Unauthenticated { .. } => S3Error::WrongCredentials,
            E::PermissionDenied { .. } => S3Error::AccessDenied(text),
            _ if text.contains("403 Forbidden") => S3Error::AccessDenied(text),
            _ if is_network(&text) => S3Error::Network(text),
            _ => S3Error::Server(text),
        }
    }
}

/// The error and its sources, as one line.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let more = inner.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = inner.source();
    }
    text
}

/// reqwest's and hyper's words for a request that never got an answer.
fn is_network(text: &str) -> bool {
    [
        "error sending request",
        "connection",
        "Connection",
        "timed out",
        "dns error",
    ]
    .iter()
    .any(|w| text.contains(w))
}
