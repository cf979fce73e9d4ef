//! The DynamoDB adapter: one table, keys and indexes from [`crate::contract::table`].
//!
//! | item | pk | sk | notes |
//! |---|---|---|---|
//! | contact message | `CONTACT#<id>` | `CONTACT` | `outbox_*` while undelivered; `expires_at` 90 days after delivery |
//! | comment | `COMMENT#<id>` | `COMMENT` | `list_pk`/`list_sk` only while approved (index `by_post`); `outbox_*` while its mail is undelivered |
//! | approved count | `POST#<hash of post>` | `COUNT` | `approved`, changed in the same transaction as the status |
//! | rate counter | `RATE#<route>#<ip hash>#<minute>` | `RATE` | `hits`, expires minutes later |
//! | mail budget | `MAILCAP#<hour>` | `MAILCAP` | `used`, expires hours later |

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};

use super::{
    BoxFuture, CONTACT_TTL_MS, CommentRecord, CommentStatus, ContactRecord, Decided, Decision,
    ListPosition, MailKind, OutboxEntry, PENDING_TTL_MS, REJECTED_TTL_MS, RateWindow, Store,
    StoreError, StoreResult, list_sort_key, post_key,
};
use crate::aws::{LazyClient, Sdk};
use crate::contract::table::{BY_POST, OUTBOX, PK, SK, TTL};

/// [`Store`] on a DynamoDB table.
#[derive(Debug)]
pub struct DynamoStore {
    client: LazyClient<Client>,
    table: String,
}

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn fail<E: std::error::Error + 'static>(op: &str, e: E) -> StoreError {
    StoreError(format!("{op}: {}", DisplayErrorContext(e)))
}

fn get_s(item: &Item, k: &str) -> Option<String> {
    item.get(k).and_then(|v| v.as_s().ok()).cloned()
}

fn get_n(item: &Item, k: &str) -> Option<u64> {
    item.get(k)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

fn contact_key(id: &str) -> Item {
    key(format!("CONTACT#{id}"), "CONTACT")
}

fn comment_key(id: &str) -> Item {
    key(format!("COMMENT#{id}"), "COMMENT")
}

fn count_key(post: &str) -> Item {
    key(post_key(post), "COUNT")
}

fn entry_key(entry: &OutboxEntry) -> Item {
    match entry.kind {
        MailKind::Contact => contact_key(&entry.id),
        MailKind::Comment => comment_key(&entry.id),
    }
}

/// Expired items linger until DynamoDB's TTL sweep (up to days): every read checks.
fn live(item: &Item, now_ms: u64) -> bool {
    get_n(item, TTL).is_none_or(|exp_s| exp_s * 1000 > now_ms)
}

fn outbox_attrs(item: &mut Item, kind: MailKind, id: &str, created_ms: u64, claim_until_ms: u64) {
    item.insert(OUTBOX.1.to_owned(), s("OUTBOX"));
    item.insert(
        OUTBOX.2.to_owned(),
        s(format!("{created_ms:013}#{}#{id}", kind.as_str())),
    );
    item.insert("claim_until".to_owned(), n(claim_until_ms));
}

fn contact_from(item: &Item) -> Option<ContactRecord> {
    Some(ContactRecord {
        id: get_s(item, PK)?.strip_prefix("CONTACT#")?.to_owned(),
        name: get_s(item, "name")?,
        email: get_s(item, "email")?,
        subject: get_s(item, "subject"),
        message: get_s(item, "message")?,
        created_ms: get_n(item, "created_ms")?,
        ip_hash: get_s(item, "ip_hash").unwrap_or_default(),
        delivered: item
            .get("delivered")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    })
}

fn comment_from(item: &Item) -> Option<CommentRecord> {
    Some(CommentRecord {
        id: get_s(item, PK)?.strip_prefix("COMMENT#")?.to_owned(),
        post: get_s(item, "post")?,
        parent: get_s(item, "parent"),
        name: get_s(item, "name")?,
        email: get_s(item, "email"),
        url: get_s(item, "url"),
        body: get_s(item, "body")?,
        created_ms: get_n(item, "created_ms")?,
        status: CommentStatus::parse(&get_s(item, "status")?)?,
        ip_hash: get_s(item, "ip_hash").unwrap_or_default(),
        links_base: get_s(item, "links_base").unwrap_or_default(),
    })
}

fn is_conditional_failure<R>(e: &SdkError<UpdateItemError, R>) -> bool {
    e.as_service_error()
        .is_some_and(|e| e.is_conditional_check_failed_exception())
}

impl DynamoStore {
    /// A store on `table`; its client is built when it is first used.
    pub fn new(sdk: &Sdk, table: String) -> Self {
        Self {
            client: LazyClient::new(sdk, Client::new),
            table,
        }
    }

    async fn client(&self) -> &Client {
        self.client.get().await
    }

    async fn get(&self, key: Item) -> StoreResult<Option<Item>> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| fail("GetItem", e))?;
        Ok(out.item)
    }

    /// Reads an item, treating an expired one as absent.
    async fn get_live(&self, key: Item, now_ms: u64) -> StoreResult<Option<Item>> {
        Ok(self.get(key).await?.filter(|i| live(i, now_ms)))
    }

    fn count_update(&self, post: &str, delta: i64) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(count_key(post)))
            .update_expression("ADD approved :d")
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .build()
            .map_err(|e| fail("build", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Runs a transaction; `Ok(false)` when a condition did not hold.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> StoreResult<bool> {
        match self
            .client()
            .await
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_transaction_canceled_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(fail("TransactWriteItems", e)),
        }
    }

    async fn apply(
        &self,
        current: &CommentRecord,
        decision: Decision,
        now_ms: u64,
    ) -> StoreResult<bool> {
        let was_approved = current.status == CommentStatus::Approved;
        let mut items = Vec::new();
        let condition_values = |b: aws_sdk_dynamodb::types::builders::UpdateBuilder| {
            b.condition_expression("#st = :cur")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":cur", s(current.status.as_str()))
        };
        match decision {
            Decision::Approve => {
                let update = condition_values(Update::builder())
                    .table_name(&self.table)
                    .set_key(Some(comment_key(&current.id)))
                    .update_expression(format!(
                        "SET #st = :new, {} = :lp, {} = :ls REMOVE {TTL}",
                        BY_POST.1, BY_POST.2
                    ))
                    .expression_attribute_values(":new", s(CommentStatus::Approved.as_str()))
                    .expression_attribute_values(":lp", s(post_key(&current.post)))
                    .expression_attribute_values(
                        ":ls",
                        s(list_sort_key(current.created_ms, &current.id)),
                    )
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().update(update).build());
                items.push(self.count_update(&current.post, 1)?);
            }
            Decision::Reject => {
                let update = condition_values(Update::builder())
                    .table_name(&self.table)
                    .set_key(Some(comment_key(&current.id)))
                    .update_expression(format!(
                        "SET #st = :new, {TTL} = :exp REMOVE {}, {}",
                        BY_POST.1, BY_POST.2
                    ))
                    .expression_attribute_values(":new", s(CommentStatus::Rejected.as_str()))
                    .expression_attribute_values(":exp", n((now_ms + REJECTED_TTL_MS) / 1000))
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().update(update).build());
                if was_approved {
                    items.push(self.count_update(&current.post, -1)?);
                }
            }
            Decision::Delete => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(comment_key(&current.id)))
                    .condition_expression("#st = :cur")
                    .expression_attribute_names("#st", "status")
                    .expression_attribute_values(":cur", s(current.status.as_str()))
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().delete(delete).build());
                if was_approved {
                    items.push(self.count_update(&current.post, -1)?);
                }
            }
        }
        self.transact(items).await
    }
}

impl Store for DynamoStore {
    fn hit_rate<'a>(&'a self, window: &'a RateWindow<'a>) -> BoxFuture<'a, StoreResult<u64>> {
        Box::pin(async move {
            let out = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(window.key(), "RATE")))
                .update_expression(format!(
                    "ADD hits :one SET {TTL} = if_not_exists({TTL}, :exp)"
                ))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":exp", n(window.expires_s()))
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await
                .map_err(|e| fail("UpdateItem(rate)", e))?;
            Ok(out
                .attributes
                .as_ref()
                .and_then(|a| get_n(a, "hits"))
                .unwrap_or(u64::MAX))
        })
    }

    fn take_mail_slot(&self, hour: u64, limit: u32) -> BoxFuture<'_, StoreResult<bool>> {
        Box::pin(async move {
            let result = self
                .client()
                .await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(format!("MAILCAP#{hour}"), "MAILCAP")))
                .update_expression(format!(
                    "ADD used :one SET {TTL} = if_not_exists({TTL}, :exp)"
                ))
                .condition_expression("attribute_not_exists(used) OR used < :limit")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":limit", n(u64::from(limit)))
                .expression_attribute_values(":exp", n((hour + 3) * 3600))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e) if is_conditional_failure(&e) => Ok(false),
                Err(e) => Err(fail("UpdateItem(mailcap)", e)),
            }
        })
    }

    fn put_contact<'a>(
        &'a self,
        r: &'a ContactRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut item = contact_key(&r.id);
            item.insert("type".into(), s("contact"));
            item.insert("name".into(), s(&r.name));
            item.insert("email".into(), s(&r.email));
            if let Some(subject) = &r.subject {
                item.insert("subject".into(), s(subject));
            }
            item.insert("message".into(), s(&r.message));
            item.insert("created_ms".into(), n(r.created_ms));
            item.insert("ip_hash".into(), s(&r.ip_hash));
            item.insert("delivered".into(), AttributeValue::Bool(false));
            outbox_attrs(
                &mut item,
                MailKind::Contact,
                &r.id,
                r.created_ms,
                claim_until_ms,
            );
            self.client()
                .await
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map_err(|e| fail("PutItem(contact)", e))?;
            Ok(())
        })
    }

    fn get_contact<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<ContactRecord>>> {
        Box::pin(async move {
            let item = self.get_live(contact_key(id), now_ms).await?;
            Ok(item.as_ref().and_then(contact_from))
        })
    }

    fn put_comment<'a>(
        &'a self,
        r: &'a CommentRecord,
        claim_until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let mut item = comment_key(&r.id);
            item.insert("type".into(), s("comment"));
            item.insert("post".into(), s(&r.post));
            for (k, v) in [("parent", &r.parent), ("email", &r.email), ("url", &r.url)] {
                if let Some(v) = v {
                    item.insert(k.into(), s(v));
                }
            }
            item.insert("name".into(), s(&r.name));
            item.insert("body".into(), s(&r.body));
            item.insert("created_ms".into(), n(r.created_ms));
            item.insert("status".into(), s(r.status.as_str()));
            item.insert("ip_hash".into(), s(&r.ip_hash));
            item.insert("links_base".into(), s(&r.links_base));
            outbox_attrs(
                &mut item,
                MailKind::Comment,
                &r.id,
                r.created_ms,
                claim_until_ms,
            );
            if r.status != CommentStatus::Approved {
                self.client()
                    .await
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .send()
                    .await
                    .map_err(|e| fail("PutItem(comment)", e))?;
                return Ok(());
            }
            item.insert(BY_POST.1.into(), s(post_key(&r.post)));
            item.insert(BY_POST.2.into(), s(list_sort_key(r.created_ms, &r.id)));
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
                .map_err(|e| fail("build", e))?;
            let items = vec![
                TransactWriteItem::builder().put(put).build(),
                self.count_update(&r.post, 1)?,
            ];
            if self.transact(items).await? {
                Ok(())
            } else {
                Err(StoreError("comment id collision".into()))
            }
        })
    }

    fn get_comment<'a>(
        &'a self,
        id: &'a str,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Option<CommentRecord>>> {
        Box::pin(async move {
            let item = self.get_live(comment_key(id), now_ms).await?;
            Ok(item.as_ref().and_then(comment_from))
        })
    }

    fn decide<'a>(
        &'a self,
        id: &'a str,
        decision: Decision,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<Decided>> {
        Box::pin(async move {
            // Read, then write conditionally on the status read: a concurrent
            // decision makes the condition fail, and the loser retries once.
            for _ in 0..2 {
                let Some(current) = self.get_comment(id, now_ms).await? else {
                    return Ok(Decided::Conflict);
                };
                if decision.target() == Some(current.status) {
                    return Ok(Decided::Conflict);
                }
                if self.apply(&current, decision, now_ms).await? {
                    return Ok(Decided::Done);
                }
            }
            Ok(Decided::Conflict)
        })
    }

    fn list_approved<'a>(
        &'a self,
        post: &'a str,
        after: Option<ListPosition>,
        limit: usize,
    ) -> BoxFuture<'a, StoreResult<Vec<CommentRecord>>> {
        Box::pin(async move {
            let mut query = self
                .client()
                .await
                .query()
                .table_name(&self.table)
                .index_name(BY_POST.0)
                .expression_attribute_names("#lp", BY_POST.1)
                .expression_attribute_values(":lp", s(post_key(post)))
                .scan_index_forward(true)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX));
            query = match &after {
                Some((ms, id)) => query
                    .key_condition_expression("#lp = :lp AND #ls > :after")
                    .expression_attribute_names("#ls", BY_POST.2)
                    .expression_attribute_values(":after", s(list_sort_key(*ms, id))),
                None => query.key_condition_expression("#lp = :lp"),
            };
            let out = query.send().await.map_err(|e| fail("Query(by_post)", e))?;
            // The hash of the post partitions the index; the exact post is compared too.
            Ok(out
                .items()
                .iter()
                .filter_map(comment_from)
                .filter(|c| c.post == post)
                .collect())
        })
    }

    fn count_approved<'a>(&'a self, posts: &'a [String]) -> BoxFuture<'a, StoreResult<Vec<u64>>> {
        Box::pin(async move {
            let mut found: HashMap<String, u64> = HashMap::new();
            let keys: Vec<Item> = posts.iter().map(|p| count_key(p)).collect();
            let mut request = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .projection_expression("pk, approved")
                    .build()
                    .map_err(|e| fail("build", e))?,
            );
            // BatchGetItem may leave keys unprocessed under load: a few bounded rounds.
            for _ in 0..4 {
                let Some(req) = request.take() else { break };
                let out = self
                    .client()
                    .await
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(|e| fail("BatchGetItem(count)", e))?;
                for item in out
                    .responses
                    .as_ref()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let (Some(pk), Some(c)) = (get_s(item, PK), get_n(item, "approved")) {
                        found.insert(pk, c);
                    }
                }
                request = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys.is_empty());
            }
            if request.is_some() {
                return Err(StoreError("BatchGetItem left keys unprocessed".into()));
            }
            Ok(posts
                .iter()
                .map(|p| found.get(&post_key(p)).copied().unwrap_or(0))
                .collect())
        })
    }

    fn mark_delivered<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
    ) -> BoxFuture<'a, StoreResult<()>> {
        Box::pin(async move {
            let remove = format!("REMOVE {}, {}, claim_until", OUTBOX.1, OUTBOX.2);
            let client = self.client().await;
            let base = || {
                client
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(entry_key(entry)))
            };
            let result = match entry.kind {
                MailKind::Contact => {
                    base()
                        .update_expression(format!("SET delivered = :t, {TTL} = :exp {remove}"))
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_values(":t", AttributeValue::Bool(true))
                        .expression_attribute_values(":exp", n((now_ms + CONTACT_TTL_MS) / 1000))
                        .send()
                        .await
                }
                MailKind::Comment => {
                    // Pending comments start their 30 days now; others keep theirs.
                    let pending = base()
                        .update_expression(format!("SET {TTL} = :exp {remove}"))
                        .condition_expression("#st = :pending")
                        .expression_attribute_names("#st", "status")
                        .expression_attribute_values(":pending", s(CommentStatus::Pending.as_str()))
                        .expression_attribute_values(":exp", n((now_ms + PENDING_TTL_MS) / 1000))
                        .send()
                        .await;
                    match pending {
                        Err(e) if is_conditional_failure(&e) => {
                            base()
                                .update_expression(remove)
                                .condition_expression("attribute_exists(pk)")
                                .send()
                                .await
                        }
                        other => other,
                    }
                }
            };
            match result {
                Ok(_) => Ok(()),
                // Deleted meanwhile: nothing to mark.
                Err(e) if is_conditional_failure(&e) => Ok(()),
                Err(e) => Err(fail("UpdateItem(delivered)", e)),
            }
        })
    }

    fn undelivered(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        Box::pin(async move {
            let out = self
                .client()
                .await
                .query()
                .table_name(&self.table)
                .index_name(OUTBOX.0)
                .key_condition_expression("#op = :o")
                .expression_attribute_names("#op", OUTBOX.1)
                .expression_attribute_values(":o", s("OUTBOX"))
                .scan_index_forward(true)
                .limit(i32::try_from(limit).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(|e| fail("Query(outbox)", e))?;
            Ok(out
                .items()
                .iter()
                .filter_map(|item| {
                    let sk = get_s(item, OUTBOX.2)?;
                    let mut parts = sk.splitn(3, '#');
                    let (_, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
                    let kind = match kind {
                        "contact" => MailKind::Contact,
                        "comment" => MailKind::Comment,
                        _ => return None,
                    };
                    Some(OutboxEntry {
                        kind,
                        id: id.to_owned(),
                    })
                })
                .collect())
        })
    }

    fn claim<'a>(
        &'a self,
        entry: &'a OutboxEntry,
        now_ms: u64,
        until_ms: u64,
    ) -> BoxFuture<'a, StoreResult<bool>> {
        Box::pin(async move {
            let result = self
                .client().await
                .update_item()
                .table_name(&self.table)
                .set_key(Some(entry_key(entry)))
                .update_expression("SET claim_until = :until")
                .condition_expression(format!(
                    "attribute_exists({}) AND (attribute_not_exists(claim_until) OR claim_until <= :now)",
                    OUTBOX.1
                ))
                .expression_attribute_values(":until", n(until_ms))
                .expression_attribute_values(":now", n(now_ms))
                .send()
                .await;
            match result {
                Ok(_) => Ok(true),
                Err(e) if is_conditional_failure(&e) => Ok(false),
                Err(e) => Err(fail("UpdateItem(claim)", e)),
            }
        })
    }
}
