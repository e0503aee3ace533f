//! What can go wrong in a node call, with the stable codes JS sees.

use p2panda_core::festival::Rejection;
use p2panda_core::operation::OperationError;
use p2panda_core::private::PrivateError;
use p2panda_core::replica::IngestError;
use p2panda_core::store::StoreError as LogStoreError;

use crate::error::ErrorCode;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid operation: {0}")]
    InvalidOperation(#[from] OperationError),
    #[error("operation rejected: {0}")]
    Rejected(Rejection),
    #[error("{0}")]
    Ingest(IngestError),
    #[error("unknown method \"{0}\"")]
    UnknownMethod(String),
    #[error("the node is closed")]
    Closed,
    #[error("this store already holds another identity; open a store of another name to use this secret key")]
    IdentityMismatch,
}

impl From<IngestError> for NodeError {
    fn from(error: IngestError) -> Self {
        match error {
            IngestError::Operation(e) => NodeError::InvalidOperation(e),
            IngestError::Log(r) => NodeError::Rejected(r),
            other => NodeError::Ingest(other),
        }
    }
}

impl ErrorCode for NodeError {
    fn code(&self) -> &'static str {
        match self {
            NodeError::Store(e) => e.code(),
            NodeError::InvalidArgument(_) => "INVALID_ARGUMENT",
            NodeError::NotFound(_) => "NOT_FOUND",
            NodeError::InvalidOperation(_) => "INVALID_OPERATION",
            NodeError::Rejected(Rejection::NotCreator | Rejection::NotOwner) => "NOT_ALLOWED",
            NodeError::Rejected(_) => "OPERATION_REJECTED",
            NodeError::Ingest(IngestError::Store(LogStoreError::Frozen(_)))
            | NodeError::Ingest(IngestError::Store(LogStoreError::Fork { .. })) => "LOG_FROZEN",
            NodeError::Ingest(IngestError::Private(PrivateError::NotCreator)) => "NOT_ALLOWED",
            NodeError::Ingest(IngestError::Private(PrivateError::NotPrivate)) => "NOT_PRIVATE",
            NodeError::Ingest(IngestError::Private(PrivateError::TooManyMembers)) => {
                "TOO_MANY_MEMBERS"
            }
            NodeError::Ingest(_) => "INVALID_ENTRY",
            NodeError::UnknownMethod(_) => "UNKNOWN_METHOD",
            NodeError::Closed => "NODE_CLOSED",
            NodeError::IdentityMismatch => "IDENTITY_MISMATCH",
        }
    }
}

impl ErrorCode for p2panda_core::sync::SyncError {
    fn code(&self) -> &'static str {
        p2panda_core::sync::SyncError::code(self)
    }
}
