//! [`Comments`]: a comment's writes, its decisions (with what a publication
//! implies, in the same transaction), the listings and the counts.

use async_trait::async_trait;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, TransactWriteItem, Update,
};

use super::console;
use super::item::{
    backoff, comment_from, comment_item, comment_key, count_key, fail, get_n, get_s, key,
    list_sort_key, n, notice_key, outbox_attrs, s, subscription_from, subscription_item,
    subscription_key,
};
use super::{Direction, DynamoStore, Item, Transacted};
use crate::config::contract::table::{BY_POST, BY_STATUS, PK, TTL};
use crate::domain::{
    CONFIRMATIONS_PER_SOURCE_A_DAY, CommentRecord, CommentStatus, DAY_MS, Decided, Decision,
    JOINED_TTL_MS, ListPosition, MailKind, REJECTED_TTL_MS,
};
use crate::store::{Comments, StoreError, StoreResult, post_key};

/// One write of what a publication records beside the publication itself,
/// to read a cancelled transaction by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    /// The mailbox's marker for the day: absent, so this is the day's subscription.
    DayMarker,
    /// The source address's confirmations of the day, under the limit.
    SourceCount,
    /// The new subscription: absent so far.
    Subscription,
    /// The day's subscription that this one joins, in the state read.
    Joined,
    /// The notice to the parent's subscriber: absent so far.
    Notice,
}

/// The writes that record what a publication implies, each with its part.
#[derive(Default)]
pub(super) struct Consequences {
    items: Vec<TransactWriteItem>,
    parts: Vec<Part>,
}

impl Consequences {
    pub(super) fn push(&mut self, part: Part, item: TransactWriteItem) {
        self.parts.push(part);
        self.items.push(item);
    }
}

/// Re-reads of a publication's consequences when they changed between the
/// read and the transaction (another publication of the same mailbox, a
/// confirmation): a few, since each needs a concurrent change to fail.
pub(super) const PUBLISH_ATTEMPTS: u32 = 4;

impl DynamoStore {
    /// Applies `decision` to `current` on condition that its status is still
    /// the one read. `None`: that condition failed (a concurrent decision).
    pub(super) async fn apply(
        &self,
        current: &CommentRecord,
        decision: Decision,
        now_ms: u64,
    ) -> StoreResult<Option<Decided>> {
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
                        "SET #st = :new, {} = :lp, {} = :ls, {} = :sp, {} = :ss REMOVE {TTL}",
                        BY_POST.1, BY_POST.2, BY_STATUS.1, BY_STATUS.2
                    ))
                    .expression_attribute_values(":sp", s(console::APPROVED))
                    .expression_attribute_values(
                        ":ss",
                        s(list_sort_key(current.created_ms, &current.id)),
                    )
                    .expression_attribute_values(":new", s(CommentStatus::Approved.as_str()))
                    .expression_attribute_values(":lp", s(post_key(&current.post)))
                    .expression_attribute_values(
                        ":ls",
                        s(list_sort_key(current.created_ms, &current.id)),
                    )
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().update(update).build());
                // A reply is published only under a published parent.
                if let Some(parent) = &current.parent {
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(comment_key(parent)))
                        .condition_expression("#st = :approved")
                        .expression_attribute_names("#st", "status")
                        .expression_attribute_values(
                            ":approved",
                            s(CommentStatus::Approved.as_str()),
                        )
                        .build()
                        .map_err(|e| fail("build", e))?;
                    items.push(TransactWriteItem::builder().condition_check(check).build());
                }
                items.push(self.count_update(&current.post, 1)?);
            }
            Decision::Reject => {
                let update = condition_values(Update::builder())
                    .table_name(&self.table)
                    .set_key(Some(comment_key(&current.id)))
                    .update_expression(format!(
                        "SET #st = :new, {TTL} = :exp REMOVE {}, {}, {}, {}",
                        BY_POST.1, BY_POST.2, BY_STATUS.1, BY_STATUS.2
                    ))
                    .expression_attribute_values(":new", s(CommentStatus::Rejected.as_str()))
                    .expression_attribute_values(":exp", n((now_ms + REJECTED_TTL_MS) / 1000))
                    .build()
                    .map_err(|e| fail("build", e))?;
                items.push(TransactWriteItem::builder().update(update).build());
                if was_approved {
                    items.push(self.count_update(&current.post, -1)?);
                }
                // An unpublished comment has no subscription.
                items.push(self.remove(subscription_key(&current.id))?);
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
                // With the comment go its subscription (and the address in
                // it) and any notification of it not sent yet.
                items.push(self.remove(subscription_key(&current.id))?);
                items.push(self.remove(notice_key(&current.id))?);
            }
        }
        let transacted = match decision {
            Decision::Approve => self.publish(items, current, now_ms).await?,
            Decision::Reject | Decision::Delete => self.transact(items).await?,
        };
        Ok(match transacted {
            Transacted::Done => Some(Decided::Done),
            Transacted::ConditionFailed(failed) if failed.contains(&0) => None,
            Transacted::ConditionFailed(_) => Some(Decided::ParentUnpublished),
        })
    }

    /// Runs `base`, the writes that publish `c`, in one transaction with the
    /// writes of what that implies ([`Comments::decide`]), read at `now_ms`.
    /// A failed condition is reported only for an item of `base`; one of
    /// the consequences is read again (the state they were planned on
    /// changed) or answered by leaving that part out (the source's limit
    /// reached, or recorded already by an earlier attempt whose answer was
    /// lost). The publication never goes without what it implies.
    pub(super) async fn publish(
        &self,
        base: Vec<TransactWriteItem>,
        c: &CommentRecord,
        now_ms: u64,
    ) -> StoreResult<Transacted> {
        let mut skip = Vec::new();
        for _ in 0..PUBLISH_ATTEMPTS {
            let consequences = self.consequences(c, now_ms, &skip).await?;
            let mut items = base.clone();
            items.extend(consequences.items);
            let failed = match self.transact(items).await? {
                Transacted::Done => return Ok(Transacted::Done),
                Transacted::ConditionFailed(failed) => failed,
            };
            let (own, theirs): (Vec<usize>, Vec<usize>) =
                failed.into_iter().partition(|i| *i < base.len());
            if !own.is_empty() {
                return Ok(Transacted::ConditionFailed(own));
            }
            for i in theirs {
                match consequences.parts.get(i - base.len()) {
                    Some(Part::SourceCount | Part::Subscription) => skip.push(Part::Subscription),
                    Some(Part::Notice) => skip.push(Part::Notice),
                    // Planned on a state that changed since: read again.
                    Some(Part::DayMarker | Part::Joined) | None => {}
                }
            }
        }
        Err(StoreError::new(
            "a publication's notifications kept changing under it",
        ))
    }

    /// Reads what publishing `c` at `now_ms` implies and returns the writes
    /// that record it, leaving out the parts in `skip`.
    pub(super) async fn consequences(
        &self,
        c: &CommentRecord,
        now_ms: u64,
        skip: &[Part],
    ) -> StoreResult<Consequences> {
        let mut out = Consequences::default();
        let day = now_ms / DAY_MS;
        let until_s = n((day + 2) * DAY_MS / 1000);
        let subscribes = c
            .subscribes()
            .filter(|_| !skip.contains(&Part::Subscription));
        if let Some(mailbox) = subscribes {
            let marker_key = key(format!("ADDRDAY#{mailbox}#{day}"), "ADDRDAY");
            let first = self.get(marker_key.clone()).await?;
            match first.as_ref().map(|m| get_s(m, "first")) {
                None => {
                    let mut marker = marker_key;
                    marker.insert("first".into(), s(&c.id));
                    marker.insert(TTL.into(), until_s.clone());
                    out.push(Part::DayMarker, self.put_absent(marker)?);
                    let count = Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(key(format!("SRCDAY#{}#{day}", c.ip_hash), "SRCDAY")))
                        .update_expression(format!(
                            "ADD sent :one SET {TTL} = if_not_exists({TTL}, :exp)"
                        ))
                        .condition_expression("attribute_not_exists(sent) OR sent < :limit")
                        .expression_attribute_values(":one", n(1))
                        .expression_attribute_values(":exp", until_s)
                        .expression_attribute_values(":limit", n(CONFIRMATIONS_PER_SOURCE_A_DAY))
                        .build()
                        .map_err(|e| fail("build", e))?;
                    out.push(
                        Part::SourceCount,
                        TransactWriteItem::builder().update(count).build(),
                    );
                    if let Some(sub) = c.subscription(false, now_ms) {
                        let mut item = subscription_item(&sub);
                        outbox_attrs(&mut item, MailKind::Confirm, &c.id, now_ms, 0);
                        out.push(Part::Subscription, self.put_absent(item)?);
                    }
                }
                Some(first) => {
                    let todays = match &first {
                        Some(first) => self
                            .get_live(subscription_key(first), now_ms)
                            .await?
                            .as_ref()
                            .and_then(subscription_from),
                        None => None,
                    };
                    // The day's subscription gone (unsubscribed, removed):
                    // none today, as one confirmation a day is the limit.
                    if let Some(todays) = todays
                        && let Some(sub) = c.subscription(todays.confirmed, now_ms)
                    {
                        let mut item = subscription_item(&sub);
                        item.insert("joins".into(), s(&todays.comment_id));
                        if !todays.confirmed {
                            item.insert(TTL.into(), n((now_ms + JOINED_TTL_MS) / 1000));
                        }
                        out.push(Part::Subscription, self.put_absent(item)?);
                        let join = Update::builder()
                            .table_name(&self.table)
                            .set_key(Some(subscription_key(&todays.comment_id)))
                            .update_expression("ADD joined :id")
                            .condition_expression("attribute_exists(pk) AND confirmed = :c")
                            .expression_attribute_values(
                                ":id",
                                AttributeValue::Ss(vec![c.id.clone()]),
                            )
                            .expression_attribute_values(
                                ":c",
                                AttributeValue::Bool(todays.confirmed),
                            )
                            .build()
                            .map_err(|e| fail("build", e))?;
                        out.push(
                            Part::Joined,
                            TransactWriteItem::builder().update(join).build(),
                        );
                    }
                }
            }
        }
        if let Some(parent) = c
            .parent
            .as_deref()
            .filter(|_| !skip.contains(&Part::Notice))
        {
            let sub = self
                .get_live(subscription_key(parent), now_ms)
                .await?
                .as_ref()
                .and_then(subscription_from);
            if sub.is_some_and(|sub| c.notifies(&sub)) {
                let mut item = notice_key(&c.id);
                item.insert("created_ms".into(), n(now_ms));
                outbox_attrs(&mut item, MailKind::Reply, &c.id, now_ms, 0);
                out.push(Part::Notice, self.put_absent(item)?);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Comments for DynamoStore {
    async fn put_comment(&self, r: &CommentRecord, claim_until_ms: u64) -> StoreResult<()> {
        let mut item = comment_item(r);
        outbox_attrs(
            &mut item,
            MailKind::Comment,
            &r.id,
            r.created_ms,
            claim_until_ms,
        );
        if r.status != CommentStatus::Approved {
            return self.put_new(item, "PutItem(comment)").await;
        }
        let items = vec![self.put_absent(item)?, self.count_update(&r.post, 1)?];
        // Ids are 128 random bits: the item already being there means an
        // earlier attempt of this same call was applied (its answer lost).
        match self.publish(items, r, r.created_ms).await? {
            Transacted::Done | Transacted::ConditionFailed(_) => Ok(()),
        }
    }

    async fn get_comment(&self, id: &str, now_ms: u64) -> StoreResult<Option<CommentRecord>> {
        let item = self.get_live(comment_key(id), now_ms).await?;
        Ok(item.as_ref().and_then(comment_from))
    }

    async fn decide(&self, id: &str, decision: Decision, now_ms: u64) -> StoreResult<Decided> {
        // Read, then write conditionally on the status read: a concurrent
        // decision makes the condition fail, and the loser retries once.
        for _ in 0..2 {
            let Some(current) = self.get_comment(id, now_ms).await? else {
                return Ok(Decided::Conflict);
            };
            if decision.target() == Some(current.status) {
                return Ok(Decided::Conflict);
            }
            if let Some(decided) = self.apply(&current, decision, now_ms).await? {
                return Ok(decided);
            }
        }
        Ok(Decided::Conflict)
    }

    async fn list_approved(
        &self,
        post: &str,
        after: Option<ListPosition>,
        limit: usize,
    ) -> StoreResult<Vec<CommentRecord>> {
        let partition = post_key(post);
        self.comment_query(
            BY_POST,
            partition,
            after,
            Direction::OldestFirst,
            limit,
            |_, c| c.post == post,
        )
        .await
    }

    async fn count_approved(&self, posts: &[String]) -> StoreResult<Vec<u64>> {
        let mut found: HashMap<String, u64> = HashMap::new();
        let keys: Vec<Item> = posts.iter().map(|p| count_key(p)).collect();
        let mut request = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .projection_expression("pk, approved")
                .build()
                .map_err(|e| fail("build", e))?,
        );
        // BatchGetItem leaves keys unprocessed when the table is at its
        // throughput: asking again at once meets the same limit, so each
        // further round waits, as AWS advises for unprocessed keys.
        for round in 0..4 {
            let Some(req) = request.take() else { break };
            if round > 0 {
                tokio::time::sleep(backoff(round)).await;
            }
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
            return Err(StoreError::new("BatchGetItem left keys unprocessed"));
        }
        Ok(posts
            .iter()
            .map(|p| found.get(&post_key(p)).copied().unwrap_or(0))
            .collect())
    }
}

impl DynamoStore {
    /// Up to `limit` comments of one index partition, from `from` on
    /// (exclusive) in `direction`, kept by `keep`. Every list of comments
    /// reads through it: a post's (`by_post`, whose hash partitions may hold
    /// other posts: `keep` compares the post), the console's and the feeds'.
    pub(super) async fn comment_query(
        &self,
        index: (&str, &str, &str),
        partition: String,
        from: Option<ListPosition>,
        direction: Direction,
        limit: usize,
        keep: impl Fn(&Item, &CommentRecord) -> bool,
    ) -> StoreResult<Vec<CommentRecord>> {
        // Past `from` in the reading direction.
        let op = match direction {
            Direction::OldestFirst => ">",
            Direction::NewestFirst => "<",
        };
        let from = from.map(|(ms, id)| list_sort_key(ms, &id));
        let bound = from.as_deref().map(|key| (op, key));
        self.query_index(index, &partition, bound, direction, limit, |item| {
            comment_from(item).filter(|c| keep(item, c))
        })
        .await
    }
}
