//! What each command does to the store, apart from how it is printed: the
//! same functions run against DynamoDB (the command) and memory (tests).

use serde::Serialize;

use super::import::{Plan, Skipped};
use rust_aws::domain::{
    CommentRecord, CommentStatus, ContactRecord, Decided, Decision, Held, SpamItem, Subscription,
};
use rust_aws::outbox::replies::{self, same_address};
use rust_aws::store::{AdminStore, Comments, Expired, Outbox, StoreResult};

/// The moderation queue, oldest first.
pub async fn pending(store: &dyn AdminStore, now_ms: u64) -> StoreResult<Vec<CommentRecord>> {
    let all = store.all_comments(None, Expired::Skip { now_ms }).await?;
    Ok(all
        .into_iter()
        .filter(|c| c.status == CommentStatus::Pending)
        .collect())
}

/// How one moderation decision ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The comment.
    pub id: String,
    /// `approve`, `reject` or `delete`.
    pub action: &'static str,
    /// Whether it was applied.
    pub done: bool,
    /// Why not, when it was not.
    pub reason: Option<String>,
    /// An approval of a comment that asked for reply notifications, or of
    /// a reply: the store recorded the mails that implies with the decision
    /// (unless the day's limits or the subscriber's state rule them out),
    /// and the function's redelivery sends them, signing their links with
    /// its key, which this command does not hold.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mail_queued: bool,
}

/// Applies `decision` to each comment through [`Comments::decide`]:
/// the mailed links' state machine, count transaction and retention.
pub async fn decide(
    store: &dyn Comments,
    ids: &[String],
    decision: Decision,
    now_ms: u64,
) -> StoreResult<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids {
        let asks_for_mail = match decision {
            Decision::Approve => store
                .get_comment(id, now_ms)
                .await?
                .is_some_and(|c| c.subscribes().is_some() || c.parent.is_some()),
            Decision::Reject | Decision::Delete => false,
        };
        let result = store.decide(id, decision, now_ms).await?;
        let reason = match result {
            Decided::Done => None,
            Decided::Conflict => Some(match decision.target() {
                Some(target) => format!("no such comment, or it is {} already", target.as_str()),
                None => "no such comment".to_owned(),
            }),
            Decided::ParentUnpublished => {
                Some("it replies to a comment that is not published: approve that one first".into())
            }
        };
        outcomes.push(Outcome {
            id: id.clone(),
            action: decision.as_str(),
            done: reason.is_none(),
            mail_queued: asks_for_mail && reason.is_none(),
            reason,
        });
    }
    Ok(outcomes)
}

/// Everything stored about one address.
#[derive(Debug, Default)]
pub(crate) struct PersonalData {
    /// Comments written with it, any status.
    pub comments: Vec<CommentRecord>,
    /// Contact messages sent from it.
    pub contacts: Vec<ContactRecord>,
    /// Reply-notification subscriptions of its comments (each holds the
    /// address while it lives).
    pub subscriptions: Vec<Subscription>,
    /// Comments and messages of it in the spam folder.
    pub spam: Vec<SpamItem>,
}

/// Every item of the spam folder (30 days of spam at most), newest first;
/// with `Expired::Include` also those past their 30 days not swept yet.
async fn whole_spam_folder(store: &dyn AdminStore, expired: Expired) -> StoreResult<Vec<SpamItem>> {
    let now_ms = match expired {
        Expired::Skip { now_ms } => now_ms,
        // Every item expires after the epoch: none is left out.
        Expired::Include => 0,
    };
    let mut all: Vec<SpamItem> = Vec::new();
    loop {
        let after = all.last().map(|i| (i.marked_ms, i.held.id().to_owned()));
        let page = store.list_spam(after, 500, now_ms).await?;
        let done = page.len() < 500;
        all.extend(page);
        if done {
            return Ok(all);
        }
    }
}

/// Everything stored about `email` (an access request, or what an erasure removes).
pub(crate) async fn personal_data(
    store: &dyn AdminStore,
    email: &str,
    expired: Expired,
) -> StoreResult<PersonalData> {
    let comments: Vec<CommentRecord> = store
        .all_comments(None, expired)
        .await?
        .into_iter()
        .filter(|c| c.email.as_deref().is_some_and(|e| same_address(e, email)))
        .collect();
    let contacts = store.all_contacts(expired).await?;
    let now_ms = match expired {
        Expired::Skip { now_ms } => now_ms,
        Expired::Include => 0,
    };
    let subscriptions = replies::subscriptions_of(store, &comments, email, now_ms).await?;
    let spam = whole_spam_folder(store, expired)
        .await?
        .into_iter()
        .filter(|i| match &i.held {
            Held::Comment(c) => c.email.as_deref().is_some_and(|e| same_address(e, email)),
            Held::Contact(m) => same_address(&m.email, email),
        })
        .collect();
    Ok(PersonalData {
        spam,
        comments,
        contacts: contacts
            .into_iter()
            .filter(|c| same_address(&c.email, email))
            .collect(),
        subscriptions,
    })
}

/// What an erasure removed.
#[derive(Debug, Default, Serialize)]
pub struct Erased {
    /// Ids of the comments removed.
    pub comments: Vec<String>,
    /// Ids of the contact messages removed.
    pub contacts: Vec<String>,
    /// Ids of the comments whose reply-notification subscription was removed.
    pub subscriptions: Vec<String>,
    /// Ids of the spam folder's items removed.
    pub spam: Vec<String>,
    /// Ids found but not removed (changed meanwhile): run the erasure again.
    pub failed: Vec<String>,
}

/// Removes every comment and contact message of `email`, including items past
/// their expiry that DynamoDB has not swept yet. Comments go through
/// `decide(Delete)`, so approved ones leave their post's count with them.
pub async fn erase(
    store: &dyn AdminStore,
    email: &str,
    now_ms: u64,
    tick: &dyn Fn(),
) -> StoreResult<Erased> {
    let data = personal_data(store, email, Expired::Include).await?;
    let mut erased = Erased {
        // First, so that a comment purged past its expiry leaves no
        // subscription (with the address) behind.
        subscriptions: replies::erase_subscriptions_of(store, &data.comments, email).await?,
        ..Erased::default()
    };
    for comment in &data.comments {
        let removed = match store.decide(&comment.id, Decision::Delete, now_ms).await? {
            Decided::Done => true,
            // Past its expiry (decide no longer sees it) or changed meanwhile.
            Decided::Conflict | Decided::ParentUnpublished => {
                store.purge_comment(&comment.id).await?
            }
        };
        if removed {
            erased.comments.push(comment.id.clone());
        } else {
            erased.failed.push(comment.id.clone());
        }
        tick();
    }
    for contact in &data.contacts {
        if store.delete_contact(&contact.id).await? {
            erased.contacts.push(contact.id.clone());
        }
        tick();
    }
    for item in &data.spam {
        if store.delete_spam(item.held.id()).await? {
            erased.spam.push(item.held.id().to_owned());
        }
        tick();
    }
    Ok(erased)
}

/// Puts every parked mail back in line, due now; returns their ids.
pub(crate) async fn requeue_parked(store: &dyn Outbox, now_ms: u64) -> StoreResult<Vec<String>> {
    let mut requeued = Vec::new();
    for item in store.list_outbox(usize::MAX).await? {
        if item.parked && store.requeue(&item.entry, now_ms).await? {
            requeued.push(format!("{}:{}", item.entry.kind.as_str(), item.entry.id));
        }
    }
    Ok(requeued)
}

/// What an import did (or, with `--dry-run`, would do).
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    /// Nothing was written.
    pub dry_run: bool,
    /// Comments in the file.
    pub read: usize,
    /// Stored now.
    pub imported: usize,
    /// Stored by an earlier import (same source id): left as they are.
    pub already_present: usize,
    /// Left out, with reasons (the source's own exclusions included).
    pub skipped: Vec<Skipped>,
    /// Could not be stored (the store failed for them); the rest went on.
    pub failed: Vec<Skipped>,
    /// Imported with something dropped (an invalid address, a parent).
    pub notes: Vec<Skipped>,
}

/// Stores what `plan` keeps: each comment on its own (one transaction with
/// its post's count), so a failure leaves nothing half-written and the rest go on.
pub async fn import(
    store: &dyn AdminStore,
    plan: Plan,
    dry_run: bool,
    now_ms: u64,
    tick: &dyn Fn(),
) -> ImportReport {
    let mut report = ImportReport {
        dry_run,
        read: plan.comments.len() + plan.skipped.len(),
        skipped: plan.skipped,
        ..ImportReport::default()
    };
    for mut planned in plan.comments {
        let source_id = planned.source_id.clone();
        let note = |report: &mut ImportReport, text: String| {
            report.notes.push(Skipped {
                source_id: source_id.clone(),
                reason: text,
            });
        };
        if planned.parent_outside_file
            && let Some(parent_id) = planned.record.parent.take()
        {
            match store.get_comment(&parent_id, now_ms).await {
                Ok(Some(parent))
                    if parent.status == CommentStatus::Approved
                        && parent.post == planned.record.post =>
                {
                    // One level of replies: under the parent's own parent if it has one.
                    planned.record.parent = Some(parent.parent.unwrap_or(parent.id));
                }
                Ok(_) => note(
                    &mut report,
                    "its parent is neither in the file nor published on its page: imported as top-level".into(),
                ),
                Err(e) => {
                    report.failed.push(Skipped {
                        source_id: planned.source_id.clone(),
                        reason: e.to_string(),
                    });
                    tick();
                    continue;
                }
            }
        }
        for text in std::mem::take(&mut planned.notes) {
            note(&mut report, text);
        }
        let stored = if dry_run {
            store
                .get_comment(&planned.record.id, now_ms)
                .await
                .map(|existing| existing.is_none())
        } else {
            store.import_comment(&planned.record).await
        };
        match stored {
            Ok(true) => report.imported += 1,
            Ok(false) => report.already_present += 1,
            Err(e) => report.failed.push(Skipped {
                source_id: planned.source_id.clone(),
                reason: e.to_string(),
            }),
        }
        tick();
    }
    report
}
