//! The console's capabilities on DynamoDB.
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | sign-in link | `SIGNIN#<nonce>` | `SIGNIN` | `expires_ms`, `expires_at` 15 minutes on; deleted when used |
//! | sign-in links of an hour | `SIGNINCAP#<hour>` | `SIGNINCAP` | `issued` (at most 5), expires hours later |
//! | console session | `SESSIONS` | `<SHA-256 of the session id>` | `created_ms`, `expires_ms`, `expires_at`; one partition, so that "sign out everywhere" is one Query |
//!
//! The sparse index `by_status` holds the pending and the approved comments:
//! `status_pk` is `PENDING` or `APPROVED`, `status_sk` the comment's
//! `<created_ms, 13 digits>#<id>`, set with the status in the same write
//! ([`status_attrs`]) and removed when the comment is rejected.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

use super::Direction;
use super::item::{comment_from, comment_key, fail, get_n, get_s, key, list_sort_key, live, n, s};
use super::{DynamoStore, Item, Transacted};
use crate::config::contract::table::{BY_POST, BY_STATUS, PK, SK, TTL};
use crate::domain::{CommentRecord, CommentStatus, ListPosition};
use crate::store::{
    ConsoleIndex, Expired, ModerationLists, SessionRecord, Sessions, StoreResult, post_key,
};

/// The one partition of the console's sessions.
const SESSIONS: &str = "SESSIONS";

/// The `by_status` partition of a status (`None`: not in the index).
fn status_partition(status: CommentStatus) -> Option<&'static str> {
    match status {
        CommentStatus::Pending => Some("PENDING"),
        CommentStatus::Approved => Some(APPROVED),
        CommentStatus::Rejected => None,
    }
}

/// Puts a comment's item in the `by_status` index of its status.
pub(super) fn status_attrs(item: &mut Item, status: CommentStatus, created_ms: u64, id: &str) {
    if let Some(partition) = status_partition(status) {
        item.insert(BY_STATUS.1.to_owned(), s(partition));
        item.insert(BY_STATUS.2.to_owned(), s(list_sort_key(created_ms, id)));
    }
}

/// The `by_status` partition of approved comments.
pub(super) const APPROVED: &str = "APPROVED";

fn sign_in_key(nonce: &str) -> Item {
    key(format!("SIGNIN#{nonce}"), "SIGNIN")
}

fn session_key(id_hash: &str) -> Item {
    key(SESSIONS.to_owned(), id_hash)
}

fn session_from(item: &Item) -> Option<SessionRecord> {
    Some(SessionRecord {
        id_hash: get_s(item, SK)?,
        created_ms: get_n(item, "created_ms")?,
        expires_ms: get_n(item, "expires_ms")?,
    })
}

#[async_trait]
impl Sessions for DynamoStore {
    async fn issue_sign_in(
        &self,
        nonce: &str,
        expires_ms: u64,
        hour: u64,
        limit: u32,
    ) -> StoreResult<bool> {
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(format!("SIGNINCAP#{hour}"), "SIGNINCAP")))
            .update_expression(format!(
                "SET issued = if_not_exists(issued, :zero) + :one, {TTL} = :exp"
            ))
            .condition_expression("attribute_not_exists(issued) OR issued < :limit")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(u64::from(limit)))
            .expression_attribute_values(":exp", n((hour + 2) * 3600))
            .build()
            .map_err(|e| fail("build", e))?;
        let mut link = sign_in_key(nonce);
        link.insert("expires_ms".into(), n(expires_ms));
        link.insert(TTL.into(), n(expires_ms.div_ceil(1000)));
        let items = vec![
            TransactWriteItem::builder().update(count).build(),
            self.put_absent(link)?,
        ];
        Ok(matches!(self.transact(items).await?, Transacted::Done))
    }

    async fn sign_in_usable(&self, nonce: &str, now_ms: u64) -> StoreResult<bool> {
        let item = self.get(sign_in_key(nonce)).await?;
        Ok(item
            .as_ref()
            .and_then(|i| get_n(i, "expires_ms"))
            .is_some_and(|e| e > now_ms))
    }

    async fn start_session(
        &self,
        nonce: &str,
        session: &SessionRecord,
        now_ms: u64,
    ) -> StoreResult<bool> {
        let used = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(sign_in_key(nonce)))
            .condition_expression("expires_ms > :now")
            .expression_attribute_values(":now", n(now_ms))
            .build()
            .map_err(|e| fail("build", e))?;
        let mut item = session_key(&session.id_hash);
        item.insert("created_ms".into(), n(session.created_ms));
        item.insert("expires_ms".into(), n(session.expires_ms));
        item.insert(TTL.into(), n(session.expires_ms.div_ceil(1000)));
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .build()
            .map_err(|e| fail("build", e))?;
        let items = vec![
            TransactWriteItem::builder().delete(used).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        Ok(matches!(self.transact(items).await?, Transacted::Done))
    }

    async fn get_session(&self, id_hash: &str, now_ms: u64) -> StoreResult<Option<SessionRecord>> {
        let item = self.get(session_key(id_hash)).await?;
        Ok(item
            .as_ref()
            .and_then(session_from)
            .filter(|r| r.expires_ms > now_ms))
    }

    async fn end_session(&self, id_hash: &str) -> StoreResult<bool> {
        let out = self
            .client()
            .await
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(id_hash)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| fail("DeleteItem(session)", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn end_all_sessions(&self) -> StoreResult<usize> {
        // Sessions live 12 hours and sign-in links are 5 an hour: the
        // partition holds some tens of small items, one Query page.
        let mut ended = 0;
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client()
                .await
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", s(SESSIONS))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| fail("Query(sessions)", e))?;
            for item in out.items() {
                if let Some(id_hash) = get_s(item, SK) {
                    ended += usize::from(self.end_session(&id_hash).await?);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(ended),
            }
        }
    }
}

#[async_trait]
impl ModerationLists for DynamoStore {
    async fn pending_page(
        &self,
        after: Option<ListPosition>,
        limit: usize,
        now_ms: u64,
    ) -> StoreResult<Vec<CommentRecord>> {
        self.comment_query(
            BY_STATUS,
            "PENDING".to_owned(),
            after,
            Direction::OldestFirst,
            limit,
            // The index is eventually consistent: an item may still sit
            // in the partition of the status it just left.
            |item, c| live(item, now_ms) && c.status == CommentStatus::Pending,
        )
        .await
    }

    async fn published_page(
        &self,
        post: Option<&str>,
        before: Option<ListPosition>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>> {
        match post {
            None => {
                self.comment_query(
                    BY_STATUS,
                    APPROVED.to_owned(),
                    before,
                    Direction::NewestFirst,
                    limit,
                    |_, c| c.status == CommentStatus::Approved,
                )
                .await
            }
            // One post's approved comments are the `by_post` index's,
            // read from the newest end.
            Some(post) => {
                self.comment_query(
                    BY_POST,
                    post_key(post),
                    before,
                    Direction::NewestFirst,
                    limit,
                    |_, c| c.post == post && c.status == CommentStatus::Approved,
                )
                .await
            }
        }
    }
}

#[async_trait]
impl ConsoleIndex for DynamoStore {
    async fn reindex_comments(&self, now_ms: u64) -> StoreResult<usize> {
        let items = self
            .scan_type("comment", &[], Expired::Skip { now_ms })
            .await?;
        let mut put = 0;
        for item in items.iter().filter(|i| !i.contains_key(BY_STATUS.1)) {
            let Some(c) = comment_from(item) else {
                continue;
            };
            let Some(partition) = status_partition(c.status) else {
                continue;
            };
            // Only while the status is still the one read, and only once.
            let result = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(comment_key(&c.id)))
                .update_expression("SET #sp = :sp, #ss = :ss")
                .condition_expression("#st = :st AND attribute_not_exists(#sp)")
                .expression_attribute_names("#sp", BY_STATUS.1)
                .expression_attribute_names("#ss", BY_STATUS.2)
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":sp", s(partition))
                .expression_attribute_values(":ss", s(list_sort_key(c.created_ms, &c.id)))
                .expression_attribute_values(":st", s(c.status.as_str()))
                .send()
                .await;
            match result {
                Ok(_) => put += 1,
                Err(e) if super::is_conditional_failure(&e) => {}
                Err(e) => return Err(fail("UpdateItem(reindex)", e)),
            }
        }
        Ok(put)
    }
}
