//! The spam folder and the outbound queue of [`DynamoStore`].
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | spam | `SPAM#<id>` | `SPAM` | `status` = `spam`, `held` (`comment` or `contact`), the record's fields, `reason`, `marked_ms`; `spam_pk` = `SPAM`, `spam_sk` = `<marked ms, 13 digits>#<id>` (index `spam`); `expires_at` 30 days after the verdict |
//! | recent body | `BODY#<keyed hash of the body>` | `BODY` | `first_ms`; `expires_at` a day later |
//! | alert | `ALERT#<channel>#<record id>` | `ALERT` | `payload`, `created_ms`, `outbox_*`; deleted once sent |
//! | correction for Akismet | `FEEDBACK#<record id>` | `FEEDBACK` | `payload`, `created_ms`, `outbox_*`; deleted once sent |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;

use super::item::{
    comment_fields, comment_item, contact_fields, contact_item, entry_key, fail, get_n, get_s, key,
    live, n, outbox_attrs, put_comment_fields, put_contact_fields, s,
};
use super::{Direction, DynamoStore, Item, Transacted, is_conditional_failure};
use crate::config::contract::table::{SPAM, TTL};
use crate::domain::{
    CommentRecord, CommentStatus, DUPLICATE_WINDOW_MS, Held, MailKind, OutboundCall, OutboxEntry,
    SpamItem, SpamPosition,
};
use crate::store::{OutboundQueue, SpamFolder, StoreResult};

/// The one partition of the `spam` index.
const FOLDER: &str = "SPAM";

fn spam_key(id: &str) -> Item {
    key(format!("SPAM#{id}"), "SPAM")
}

fn folder_sort_key(marked_ms: u64, id: &str) -> String {
    format!("{marked_ms:013}#{id}")
}

fn spam_item(spam: &SpamItem) -> Item {
    let id = spam.held.id();
    let mut item = spam_key(id);
    item.insert("type".into(), s("spam"));
    item.insert("status".into(), s("spam"));
    item.insert("held".into(), s(spam.held.kind()));
    match &spam.held {
        Held::Comment(c) => {
            put_comment_fields(&mut item, c);
            // The status it had, to say in the listing what it was taken from.
            item.insert("was".into(), s(c.status.as_str()));
        }
        Held::Contact(m) => put_contact_fields(&mut item, m),
    }
    item.insert("reason".into(), s(&spam.reason));
    item.insert("marked_ms".into(), n(spam.marked_ms));
    item.insert(SPAM.1.into(), s(FOLDER));
    item.insert(SPAM.2.into(), s(folder_sort_key(spam.marked_ms, id)));
    item.insert(TTL.into(), n(spam.expires_ms() / 1000));
    item
}

fn spam_from(item: &Item) -> Option<SpamItem> {
    let id = get_s(item, "pk")?.strip_prefix("SPAM#")?.to_owned();
    let held = match get_s(item, "held")?.as_str() {
        "comment" => {
            // The status it had, as the listing shows it (pending when unknown).
            let was = get_s(item, "was").and_then(|w| CommentStatus::parse(&w));
            Held::Comment(comment_fields(
                item,
                id,
                was.unwrap_or(CommentStatus::Pending),
            )?)
        }
        "contact" => Held::Contact(contact_fields(item, id, false)?),
        _ => return None,
    };
    Some(SpamItem {
        held,
        reason: get_s(item, "reason").unwrap_or_default(),
        marked_ms: get_n(item, "marked_ms")?,
    })
}

fn outbound_item(call: &OutboundCall, claim_until_ms: u64) -> Item {
    let mut item = entry_key(&call.entry);
    item.insert("type".into(), s(call.entry.kind.as_str()));
    item.insert("payload".into(), s(&call.payload));
    item.insert("created_ms".into(), n(call.created_ms));
    outbox_attrs(
        &mut item,
        call.entry.kind,
        &call.entry.id,
        call.created_ms,
        claim_until_ms,
    );
    item
}

#[async_trait]
impl SpamFolder for DynamoStore {
    async fn seen_body(&self, body: &str, id: &str, now_ms: u64) -> StoreResult<bool> {
        let body_key = || key(format!("BODY#{body}"), "BODY");
        let record = |first_time_only: bool| {
            async move {
                let mut call = self
                    .client()
                    .await
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(body_key()))
                    .update_expression("SET first_ms = :now, first_id = :id, #ttl = :exp")
                    .expression_attribute_names("#ttl", TTL)
                    .expression_attribute_values(":now", n(now_ms))
                    .expression_attribute_values(":id", s(id))
                    .expression_attribute_values(
                        ":exp",
                        n((now_ms + DUPLICATE_WINDOW_MS) / 1000 + 1),
                    );
                if first_time_only {
                    // Absent, first seen before the window, or by this
                    // very submission (the SDK retrying a write whose
                    // answer was lost): a first time.
                    call = call
                        .condition_expression(
                            "attribute_not_exists(pk) OR first_ms <= :cutoff OR first_id = :id",
                        )
                        .expression_attribute_values(
                            ":cutoff",
                            n(now_ms.saturating_sub(DUPLICATE_WINDOW_MS)),
                        );
                }
                call.send().await
            }
        };
        match record(true).await {
            Ok(_) => return Ok(false),
            Err(e) if is_conditional_failure(&e) => {}
            Err(e) => return Err(fail("UpdateItem(body)", e)),
        }
        // Seen within the window by another submission: a duplicate if
        // that one was stored. The rare path: a few reads.
        let first = self.get(body_key()).await?;
        let first_id = first.as_ref().and_then(|i| get_s(i, "first_id"));
        let stored = match &first_id {
            Some(first) => {
                self.get(key(format!("COMMENT#{first}"), "COMMENT"))
                    .await?
                    .is_some()
                    || self
                        .get(key(format!("CONTACT#{first}"), "CONTACT"))
                        .await?
                        .is_some()
                    || self.get(spam_key(first)).await?.is_some()
            }
            None => false,
        };
        if stored {
            return Ok(true);
        }
        record(false)
            .await
            .map_err(|e| fail("UpdateItem(body)", e))?;
        Ok(false)
    }

    async fn put_spam(&self, item: &SpamItem) -> StoreResult<()> {
        self.put_new(spam_item(item), "PutItem(spam)").await
    }

    async fn get_spam(&self, id: &str, now_ms: u64) -> StoreResult<Option<SpamItem>> {
        let item = self.get_live(spam_key(id), now_ms).await?;
        Ok(item.as_ref().and_then(spam_from))
    }

    async fn list_spam(
        &self,
        after: Option<SpamPosition>,
        limit: usize,
        now_ms: u64,
    ) -> StoreResult<Vec<SpamItem>> {
        let below = after.map(|(ms, id)| folder_sort_key(ms, &id));
        // Newest first; expired items DynamoDB has not swept are read and
        // left out, and the Query goes on until the page is full.
        let read = |item: &Item| live(item, now_ms).then(|| spam_from(item)).flatten();
        let bound = below.as_deref().map(|key| ("<", key));
        self.query_index(SPAM, FOLDER, bound, Direction::NewestFirst, limit, read)
            .await
    }

    async fn delete_spam(&self, id: &str) -> StoreResult<bool> {
        let out = self
            .client()
            .await
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(spam_key(id)))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| fail("DeleteItem(spam)", e))?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    async fn release_spam(
        &self,
        id: &str,
        feedback: Option<&OutboundCall>,
        now_ms: u64,
    ) -> StoreResult<Option<SpamItem>> {
        let Some(spam) = self.get_spam(id, now_ms).await? else {
            return Ok(None);
        };
        let back = match &spam.held {
            Held::Comment(c) => {
                // Pending, in the console's queue, its moderation mail due.
                let mut item = comment_item(&CommentRecord {
                    status: CommentStatus::Pending,
                    ..c.clone()
                });
                outbox_attrs(&mut item, MailKind::Comment, &c.id, now_ms, 0);
                item
            }
            Held::Contact(m) => {
                let mut item = contact_item(m);
                outbox_attrs(&mut item, MailKind::Contact, &m.id, now_ms, 0);
                item
            }
        };
        let mut items: Vec<TransactWriteItem> =
            vec![self.take(spam_key(id))?, self.put_absent(back)?];
        if let Some(call) = feedback {
            items.push(self.put_absent(outbound_item(call, 0))?);
        }
        match self.transact(items).await? {
            Transacted::Done => Ok(Some(spam)),
            // Released meanwhile by someone else, or the record exists.
            Transacted::ConditionFailed(_) => Ok(None),
        }
    }
}

impl DynamoStore {
    /// A delete inside a transaction on condition that the item is there.
    fn take(&self, key: Item) -> StoreResult<TransactWriteItem> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| fail("build", e))?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }
}

#[async_trait]
impl OutboundQueue for DynamoStore {
    async fn put_outbound(&self, calls: &[OutboundCall], claim_until_ms: u64) -> StoreResult<()> {
        match calls {
            [] => Ok(()),
            [one] => {
                self.put_new(outbound_item(one, claim_until_ms), "PutItem(outbound)")
                    .await
            }
            // All or none: an alert is never stored for some channels only.
            many => {
                let items = many
                    .iter()
                    .map(|c| self.put_absent(outbound_item(c, claim_until_ms)))
                    .collect::<StoreResult<Vec<_>>>()?;
                match self.transact(items).await? {
                    // Stored already: a retried write.
                    Transacted::Done | Transacted::ConditionFailed(_) => Ok(()),
                }
            }
        }
    }

    async fn get_outbound(&self, entry: &OutboxEntry) -> StoreResult<Option<String>> {
        let item = self.get(entry_key(entry)).await?;
        Ok(item.as_ref().and_then(|i| get_s(i, "payload")))
    }
}
