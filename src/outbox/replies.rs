//! Reply notifications: double opt-in subscriptions and the mails to visitors.
//!
//! Nothing is mailed to a commenter's address before that commenter's comment
//! is published (approved by the owner, or at once with `MODERATION=off`):
//! only then does the store, in the same write as the publication
//! ([`crate::store::Comments::decide`]), create the subscription the comment
//! asked for with its one confirmation mail (at most one per mailbox a day,
//! at most three a day per source address), and record the notice of a reply
//! to the parent's confirmed subscriber, unless the reply is their own. This
//! module composes those mails when the outbox sends them (stored first,
//! delivered at least once, under `VISITOR_MAIL_PER_HOUR`).
//!
//! A confirmation goes to an address nobody has proven yet, so it carries no
//! text a visitor chose (no name, no page, no comment): only the site's name
//! and address and the link, so the form cannot carry a stranger a message.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::config::state::State;
use crate::domain::ids;
use crate::domain::{CommentRecord, CommentStatus, DAY_MS, MailKind, OutboxEntry, Subscription};
use crate::mail::Mail;
use crate::security::keys;
use crate::security::token::{NotifyAction, NotifyToken};
use crate::store::{StoreError, Subscriptions};

/// Confirmation links live as long as an unconfirmed subscription.
const CONFIRM_LINK_DAYS: u64 = 7;
/// Unsubscribe links outlive any reasonable wait before a reader acts on a
/// mail (RFC 8058 asks that they keep working); each mail brings a fresh one.
const UNSUBSCRIBE_LINK_DAYS: u64 = 365;

/// Characters a post may hold that a URL path may not carry as they are.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'%');

/// What a post's query (`/?p=123`, as importers keep WordPress permalinks)
/// may not carry as it is: the path's set but `?`, which a query may hold.
const QUERY: &AsciiSet = &PATH.remove(b'?');

/// Whether reply notifications are on: they need `SITE_URL` for the links to
/// pages in the mails.
pub fn enabled(state: &State) -> bool {
    state.config.site_url.is_some()
}

/// Addresses compare trimmed and case-insensitively.
pub fn same_address(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The keyed hash that stands for a mailbox where only "the same mailbox"
/// matters (the once-a-day limit), so the address itself is not stored
/// there: every spelling of one mailbox ([`crate::domain::mailbox`]) has one.
pub(crate) fn mailbox_key(state: &State, email: &str) -> String {
    let mailbox = crate::domain::mailbox(email);
    ids::hex(&keys::hmac(&state.config.keys.address, mailbox.as_bytes())[..16])
}

/// The page a comment is on: `SITE_URL` + post.
pub(crate) fn page_url(site_url: &str, post: &str) -> String {
    // A post that names a query (`/?p=123`) keeps it: it is another page.
    let path = match post.split_once('?') {
        Some((path, query)) => format!(
            "{}?{}",
            utf8_percent_encode(path, PATH),
            utf8_percent_encode(query, QUERY)
        ),
        None => utf8_percent_encode(post, PATH).to_string(),
    };
    if path.starts_with('/') {
        format!("{site_url}{path}")
    } else {
        format!("{site_url}/{path}")
    }
}

fn link(state: &State, base: &str, action: NotifyAction, comment_id: &str, days: u64) -> String {
    let token = NotifyToken {
        action,
        comment_id: comment_id.to_owned(),
        expires_s: ids::now_ms() / 1000 + days * DAY_MS / 1000,
    };
    format!(
        "{base}/comment/notify?token={}",
        token.sign(&state.config.keys.notify)
    )
}

fn base_url(state: &State, comment: &CommentRecord) -> String {
    state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| comment.links_base.clone())
}

fn visitor_mail(state: &State, to: &str, subject: String, text: String) -> Mail {
    let c = &state.config;
    Mail {
        from_name: c.site_name.clone(),
        from: c.sender().to_owned(),
        to: to.to_owned(),
        reply_to: None,
        subject,
        text,
        list_unsubscribe: None,
    }
}

/// The confirmation mail of a subscription, its comment in hand.
pub(crate) fn confirmation_mail(
    state: &State,
    sub: &Subscription,
    comment: &CommentRecord,
) -> Mail {
    let c = &state.config;
    let site_url = c.site_url.as_deref().unwrap_or_default();
    let confirm = link(
        state,
        &base_url(state, comment),
        NotifyAction::Confirm,
        &sub.comment_id,
        CONFIRM_LINK_DAYS,
    );
    let text = format!(
        "Hello,\n\nsomeone who commented on {site} ({site_url}) with this address asked to be \
emailed when their comments get a reply. If that was you, the comment is shown with the \
button that confirms on this page:\n\n{confirm}\n\n\
If it was not you, ignore this mail: nothing more will be sent to you, \
and the request is forgotten in {CONFIRM_LINK_DAYS} days.\n\n-- \n{site}\n",
        site = c.site_name,
    );
    visitor_mail(
        state,
        &sub.email,
        format!("[{}] Confirm reply notifications", c.site_name),
        text,
    )
}

/// The mail telling a subscriber about a reply to their comment.
pub(crate) fn reply_mail(
    state: &State,
    sub: &Subscription,
    parent: &CommentRecord,
    reply: &CommentRecord,
) -> Mail {
    let c = &state.config;
    let site_url = c.site_url.as_deref().unwrap_or_default();
    let unsubscribe = link(
        state,
        &base_url(state, parent),
        NotifyAction::Unsubscribe,
        &sub.comment_id,
        UNSUBSCRIBE_LINK_DAYS,
    );
    let text = format!(
        "{author} replied to your comment on {page}:\n\n{body}\n\n\
Read the conversation: {page}\n\n-- \n\
You get this mail because you asked to be told about replies to your comment. \
Stop these mails: {unsubscribe}\n",
        author = reply.name,
        page = page_url(site_url, &reply.post),
        body = reply.body,
    );
    let mut mail = visitor_mail(
        state,
        &sub.email,
        format!("[{}] {} replied to your comment", c.site_name, reply.name),
        text,
    );
    mail.list_unsubscribe = Some(unsubscribe);
    mail
}

/// The mail an outbox entry to a visitor sends; `None` when there is nothing
/// to send any more (unsubscribed, deleted, or the reply is the subscriber's
/// own).
pub(crate) async fn mail_for(
    state: &State,
    entry: &OutboxEntry,
    now_ms: u64,
) -> Result<Option<Mail>, StoreError> {
    let store = &state.store;
    match entry.kind {
        MailKind::Confirm => {
            let Some(sub) = store.get_subscription(&entry.id, now_ms).await? else {
                return Ok(None);
            };
            let Some(comment) = store.get_comment(&sub.comment_id, now_ms).await? else {
                return Ok(None);
            };
            Ok(Some(confirmation_mail(state, &sub, &comment)))
        }
        MailKind::Reply => {
            let Some(reply) = store.get_comment(&entry.id, now_ms).await? else {
                return Ok(None);
            };
            let Some(parent_id) = reply.parent.as_deref() else {
                return Ok(None);
            };
            let (sub, parent) = (
                store.get_subscription(parent_id, now_ms).await?,
                store.get_comment(parent_id, now_ms).await?,
            );
            match (sub, parent) {
                (Some(sub), Some(parent))
                    if reply.status == CommentStatus::Approved && reply.notifies(&sub) =>
                {
                    Ok(Some(reply_mail(state, &sub, &parent, &reply)))
                }
                _ => Ok(None),
            }
        }
        MailKind::Contact | MailKind::Comment | MailKind::Alert(_) | MailKind::Feedback => Ok(None),
    }
}

/// Every subscription of `email` among `comments`, the address's comments
/// as `rust-aws export --email` / `erase --email` find them: a subscription is
/// keyed by its comment and holds that comment's author's address, so there
/// is none elsewhere.
pub async fn subscriptions_of(
    store: &dyn Subscriptions,
    comments: &[CommentRecord],
    email: &str,
    now_ms: u64,
) -> Result<Vec<Subscription>, StoreError> {
    let mut found = Vec::new();
    for comment in comments {
        if let Some(sub) = store.get_subscription(&comment.id, now_ms).await?
            && same_address(&sub.email, email)
        {
            found.push(sub);
        }
    }
    Ok(found)
}

/// Removes every subscription of `email` among `comments` (see
/// [`subscriptions_of`]), with the address in it, whatever its state (an
/// expired one DynamoDB has not swept yet included); returns the ids of the
/// comments whose subscription went. Deleting a comment removes its
/// subscription already; this is for comments that stay (`erase` of a
/// subscription alone, or a comment purged past its expiry).
pub async fn erase_subscriptions_of(
    store: &dyn Subscriptions,
    comments: &[CommentRecord],
    email: &str,
) -> Result<Vec<String>, StoreError> {
    let mut erased = Vec::new();
    for comment in comments {
        let owned = comment
            .email
            .as_deref()
            .is_some_and(|e| same_address(e, email));
        if owned && store.unsubscribe(&comment.id).await? {
            erased.push(comment.id.clone());
        }
    }
    Ok(erased)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_join_site_and_post_and_escape_what_a_path_cannot_hold() {
        let site = "https://blog.example.org";
        assert_eq!(
            page_url(site, "/2026/11/rust/"),
            "https://blog.example.org/2026/11/rust/"
        );
        assert_eq!(
            page_url(site, "hello-world"),
            "https://blog.example.org/hello-world"
        );
        assert_eq!(
            page_url(site, "/a b?c#d\r\n"),
            "https://blog.example.org/a%20b?c%23d%0D%0A"
        );
        // Query-string permalinks stay distinct pages.
        assert_eq!(page_url(site, "/?p=123"), "https://blog.example.org/?p=123");
        assert_eq!(
            page_url(site, "/?page_id=7&x=a?b"),
            "https://blog.example.org/?page_id=7&x=a?b"
        );
    }

    #[test]
    fn addresses_are_the_same_whatever_their_case_and_spaces() {
        assert!(same_address(" Ann@Example.org", "ann@example.org "));
        assert!(!same_address("ann@example.org", "anne@example.org"));
    }
}
