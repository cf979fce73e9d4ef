//! What the owner's console (`/admin`) keeps and reads: sign-in links,
//! sessions, and the pages of the moderation queue and of the published
//! comments. Two capability traits, held to their rules on both stores by
//! the conformance suite (tests/aws/store/console.rs).

use super::StoreResult;
use crate::domain::{CommentRecord, ListPosition};
use async_trait::async_trait;

/// A signed-in session of the owner's console. The store keeps a hash of the
/// session's id, never the id (the cookie's value): a read of the table
/// yields no usable session.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Lowercase hex SHA-256 of the session id.
    pub id_hash: String,
    /// When it started.
    pub created_ms: u64,
    /// When it ends, whatever happens.
    pub expires_ms: u64,
}

impl std::fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRecord")
            .field("created_ms", &self.created_ms)
            .field("expires_ms", &self.expires_ms)
            .finish_non_exhaustive()
    }
}

/// Sign-in links and console sessions.
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Records a sign-in link `nonce`, usable until `expires_ms`, as one of
    /// at most `limit` links of the hour `hour` (hours since the epoch):
    /// `false`, and nothing recorded, when the hour has had `limit` already.
    async fn issue_sign_in(
        &self,
        nonce: &str,
        expires_ms: u64,
        hour: u64,
        limit: u32,
    ) -> StoreResult<bool>;

    /// Whether sign-in link `nonce` is issued, unused and unexpired: what
    /// the link's page says before its button is pressed (a read only, so a
    /// scanner that opens the link uses nothing up).
    async fn sign_in_usable(&self, nonce: &str, now_ms: u64) -> StoreResult<bool>;

    /// Uses up sign-in link `nonce` and starts `session`, together (one
    /// transaction): `false`, and no session, when the link was used
    /// already, has expired, or was never issued.
    async fn start_session(
        &self,
        nonce: &str,
        session: &SessionRecord,
        now_ms: u64,
    ) -> StoreResult<bool>;

    /// The live session whose id hashes to `id_hash` (an expired one is absent).
    async fn get_session(&self, id_hash: &str, now_ms: u64) -> StoreResult<Option<SessionRecord>>;

    /// Ends one session; `false` when there was none.
    async fn end_session(&self, id_hash: &str) -> StoreResult<bool>;

    /// Ends every session (sign out everywhere); how many there were.
    async fn end_all_sessions(&self) -> StoreResult<usize>;
}

/// The console's lists: each page one Query on a sparse index, never a Scan,
/// and never short because of filtering (a page holds `limit` comments
/// unless there are no more).
#[async_trait]
pub trait ModerationLists: Send + Sync {
    /// Up to `limit` pending comments, oldest first, after `after`.
    async fn pending_page(
        &self,
        after: Option<ListPosition>,
        limit: usize,
        now_ms: u64,
    ) -> StoreResult<Vec<CommentRecord>>;

    /// Up to `limit` approved comments, of every post or of `post`, newest
    /// first, before `before`.
    async fn published_page(
        &self,
        post: Option<&str>,
        before: Option<ListPosition>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>>;
}

/// The owner's one-off step after upgrading to the console: comments
/// stored before the `by_status` index existed are put in it (the
/// `rust-aws reindex` command). Part of [`super::AdminStore`], never of the
/// function's `dyn Store`.
#[async_trait]
pub trait ConsoleIndex: Send + Sync {
    /// Puts every pending and approved comment that is not in the console's
    /// index into it; how many it put. Idempotent: a second run puts none.
    /// On DynamoDB a Scan, the owner's occasional read.
    async fn reindex_comments(&self, now_ms: u64) -> StoreResult<usize>;
}
