//! The spam verdict (PRODUCT.md, "Spam defence"): every comment and contact
//! message that passed validation is judged before anything is stored,
//! mailed or alerted. Local rules always (too many links, a blocklisted word
//! or domain, the same body within a day), then Akismet when `AKISMET_KEY`
//! is set. The visitor's answer is the same whatever the verdict.
//!
//! The rules are pure functions; the duplicate rule keeps a keyed hash of
//! each body for a day ([`crate::store::SpamFolder::seen_body`]); Akismet is
//! one call on [`crate::config::outbound`] within [`AKISMET_TIMEOUT`] and the
//! request's deadline: no answer, a late one or an odd one leaves the item
//! unchecked, which waits for the owner.

pub mod akismet;

use std::fmt;
use std::time::Duration;

use serde_json::json;

use crate::config::ConfigError;
use crate::config::state::State;
use crate::domain::{ContactRecord, MailKind, OutboxEntry};
use crate::domain::{Held, OutboundCall, SpamItem};
use crate::store::{Store, StoreError, StoreResult};
use crate::web::deadline::Deadline;
use akismet::{Akismet, Checked, Correction};

/// The longest Akismet may take before the item is left unchecked.
pub const AKISMET_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The spam configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct SpamConfig {
    /// More links than this in the text is spam (`SPAM_MAX_LINKS`).
    pub(crate) max_links: usize,
    /// Lowercased words and domains (`SPAM_BLOCKLIST`).
    pub(crate) blocklist: Vec<String>,
    /// Akismet, when `AKISMET_KEY` is set.
    pub akismet: Option<Akismet>,
}

impl fmt::Debug for SpamConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The blocklist's entries are the owner's business, not the log's.
        f.debug_struct("SpamConfig")
            .field("max_links", &self.max_links)
            .field("blocklist_entries", &self.blocklist.len())
            .field("akismet", &self.akismet)
            .finish()
    }
}

fn err(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Reads `SPAM_MAX_LINKS`, `SPAM_BLOCKLIST`, `AKISMET_KEY` and `AKISMET_URL`
/// (Akismet's `blog` is `SITE_URL`, required with the key).
pub(crate) fn from_lookup(
    get: &impl Fn(&str) -> Option<String>,
    site_url: Option<&str>,
) -> Result<SpamConfig, ConfigError> {
    let max_links = match get("SPAM_MAX_LINKS") {
        None => 2,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 1_000)
            .ok_or_else(|| err("SPAM_MAX_LINKS", format!("must be 0 to 1000, got {v:?}")))?,
    };
    let mut blocklist = Vec::new();
    for entry in get("SPAM_BLOCKLIST").unwrap_or_default().split(',') {
        let entry = entry.trim().to_lowercase();
        if entry.is_empty() {
            continue;
        }
        if entry.chars().count() > 200 || entry.chars().any(char::is_control) {
            return Err(err(
                "SPAM_BLOCKLIST",
                "entries must be words or domains of at most 200 characters, comma-separated",
            ));
        }
        blocklist.push(entry);
    }
    let url = get("AKISMET_URL");
    let akismet = match get("AKISMET_KEY") {
        None => {
            if url.is_some() {
                return Err(err("AKISMET_URL", "is set but AKISMET_KEY is not"));
            }
            None
        }
        Some(key) => {
            if key.len() > 256 || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(err("AKISMET_KEY", "is not a plausible Akismet key"));
            }
            let blog = site_url.ok_or_else(|| {
                err(
                    "SITE_URL",
                    "is required with AKISMET_KEY (Akismet's blog: the site the key is registered for)",
                )
            })?;
            let url = match url {
                None => akismet::DEFAULT_URL.to_owned(),
                Some(u)
                    if crate::web::intake::origin_of_url(&u).is_some()
                        && u.parse::<http::Uri>().is_ok() =>
                {
                    u.trim_end_matches('/').to_owned()
                }
                Some(_) => return Err(err("AKISMET_URL", "must be an absolute http(s) URL")),
            };
            Some(Akismet {
                key,
                url,
                blog: blog.to_owned(),
            })
        }
    };
    Ok(SpamConfig {
        max_links,
        blocklist,
        akismet,
    })
}

/// Links in `text`: each `http://`, `https://` and bare `www.`, in any case.
pub fn count_links(text: &str) -> usize {
    let lower = text.to_lowercase();
    let schemes = lower.matches("http://").count() + lower.matches("https://").count();
    let bare = lower
        .match_indices("www.")
        .filter(|(i, _)| !lower[..*i].ends_with("//"))
        .count();
    schemes + bare
}

/// Whether any of `texts` contains an entry of `blocklist` (lowercased): a
/// domain-like entry (with `.`, `@` or `/`) anywhere, a word as a whole word,
/// so that `cialis` does not condemn `specialist`.
pub fn blocked(blocklist: &[String], texts: &[&str]) -> bool {
    let texts: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
    blocklist.iter().any(|entry| {
        let domain_like = entry.contains(['.', '@', '/']);
        texts.iter().any(|text| {
            if domain_like {
                return text.contains(entry.as_str());
            }
            text.match_indices(entry.as_str()).any(|(i, m)| {
                let before = text[..i].chars().next_back();
                let after = text[i + m.len()..].chars().next();
                !before.is_some_and(char::is_alphanumeric)
                    && !after.is_some_and(char::is_alphanumeric)
            })
        })
    })
}

/// The verdict on one submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not spam: the normal flow.
    Ham,
    /// No verdict could be had (Akismet unreachable, late or odd): a
    /// comment waits for the owner even with `MODERATION=off`; a contact
    /// message is delivered.
    Unchecked,
    /// Spam, by the rule named: into the folder.
    Spam(&'static str),
    /// Blatant spam: stored nowhere, counted.
    Discard,
}

/// What Akismet is told about the visitor: sent, never stored (nor logged:
/// its `Debug` shows nothing).
#[derive(Clone, Default)]
pub(crate) struct Visitor {
    /// The source address the rate limit uses.
    pub ip: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// The `Referer` header.
    pub referrer: Option<String>,
}

impl fmt::Debug for Visitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Visitor { .. }")
    }
}

/// Akismet's fields for a held record (everything but the visitor's
/// address, agent and referrer, which are never stored). `site_url` makes
/// a comment's permalink when its post is a path.
pub fn item_fields(held: &Held, site_url: Option<&str>) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut add = |k: &str, v: &str| fields.push((k.to_owned(), v.to_owned()));
    match held {
        Held::Comment(c) => {
            add(
                "comment_type",
                if c.parent.is_some() {
                    "reply"
                } else {
                    "comment"
                },
            );
            if let (Some(site), true) = (site_url, c.post.starts_with('/')) {
                add("permalink", &format!("{site}{}", c.post));
            }
            add("comment_author", &c.name);
            if let Some(email) = &c.email {
                add("comment_author_email", email);
            }
            if let Some(url) = &c.url {
                add("comment_author_url", url);
            }
            add("comment_content", &c.body);
        }
        Held::Contact(m) => {
            add("comment_type", "contact-form");
            add("comment_author", &m.name);
            add("comment_author_email", &m.email);
            let content = match &m.subject {
                Some(subject) => format!("{subject}\n\n{}", m.message),
                None => m.message.clone(),
            };
            add("comment_content", &content);
        }
    }
    let created = crate::domain::ids::rfc3339(held.created_ms());
    fields.push(("comment_date_gmt".to_owned(), created));
    fields
}

/// The keyed hash the duplicate rule compares: comments with comments,
/// contact messages with contact messages, after trimming, case-insensitive.
fn body_key(state: &State, held: &Held) -> String {
    let family = match held {
        Held::Comment(_) => "comment",
        Held::Contact(_) => "contact",
    };
    let normalized = held.text().trim().to_lowercase();
    let message = format!("spam-body\0{family}\0{normalized}");
    crate::domain::ids::hex(
        &crate::security::keys::hmac(&state.config.keys.ip, message.as_bytes())[..16],
    )
}

/// Judges a submission: local rules, then Akismet when configured. A store
/// error (the duplicate rule's record) is the caller's 503.
pub(crate) async fn screen(
    state: &State,
    held: &Held,
    visitor: &Visitor,
    deadline: &Deadline,
) -> Result<Verdict, StoreError> {
    let config = &state.config.spam;
    let mut texts = vec![held.author(), held.text()];
    let (email, url) = match held {
        Held::Comment(c) => (c.email.as_deref(), c.url.as_deref()),
        Held::Contact(m) => (Some(m.email.as_str()), None),
    };
    texts.extend(email);
    texts.extend(url);
    if let Held::Contact(ContactRecord {
        subject: Some(s), ..
    }) = held
    {
        texts.push(s);
    }
    if count_links(held.text()) > config.max_links {
        return Ok(Verdict::Spam("links"));
    }
    if blocked(&config.blocklist, &texts) {
        return Ok(Verdict::Spam("blocklist"));
    }
    let key = body_key(state, held);
    let seen = state
        .store
        .seen_body(&key, held.id(), crate::domain::ids::now_ms());
    match deadline.run(seen).await {
        Some(Ok(true)) => return Ok(Verdict::Spam("duplicate")),
        Some(Ok(false)) => {}
        Some(Err(e)) => return Err(e),
        None => return Err(StoreError::new("duplicate check timed out")),
    }
    let Some(ak) = &config.akismet else {
        return Ok(Verdict::Ham);
    };
    let mut fields = item_fields(held, state.config.site_url.as_deref());
    for (k, v) in [
        ("user_ip", &visitor.ip),
        ("user_agent", &visitor.user_agent),
        ("referrer", &visitor.referrer),
    ] {
        fields.push((k.to_owned(), v.clone().unwrap_or_default()));
    }
    let url = akismet::endpoint(ak, "comment-check");
    let call = crate::config::outbound::post(
        &url,
        "application/x-www-form-urlencoded",
        &[],
        akismet::form(ak, &fields).into_bytes(),
    );
    let checked = match deadline
        .run_for(AKISMET_TIMEOUT, crate::web::deadline::STORE_WRITE, call)
        .await
    {
        Some(Ok(answer)) => {
            let tip = answer
                .headers
                .get("x-akismet-pro-tip")
                .and_then(|v| v.to_str().ok());
            akismet::interpret(answer.status, tip, &answer.body)
        }
        Some(Err(e)) => Checked::Unknown(format!("Akismet {}", e.class)),
        None => Checked::Unknown(format!("Akismet did not answer within {AKISMET_TIMEOUT:?}")),
    };
    Ok(match checked {
        Checked::Ham => Verdict::Ham,
        Checked::Spam => Verdict::Spam("akismet"),
        Checked::Discard => Verdict::Discard,
        Checked::Unknown(why) => {
            tracing::warn!(reason = %why, "no Akismet verdict; the item waits for the owner");
            Verdict::Unchecked
        }
    })
}

/// Puts a submission judged spam in the folder, or counts a discarded one:
/// never mailed, alerted or published.
pub(crate) async fn hold(state: &State, held: Held, verdict: Verdict) -> StoreResult<()> {
    match verdict {
        Verdict::Spam(reason) => {
            let item = SpamItem {
                reason: reason.to_owned(),
                marked_ms: held.created_ms(),
                held,
            };
            state.store.put_spam(&item).await?;
            tracing::info!(kind = item.held.kind(), id = %item.held.id(), reason, "held as spam");
        }
        Verdict::Discard => {
            tracing::info!(
                kind = held.kind(),
                "discarded as blatant spam (Akismet's pro-tip)"
            );
            crate::outbox::emit_metric(crate::config::contract::metrics::SPAM_DISCARDED);
        }
        Verdict::Ham | Verdict::Unchecked => {}
    }
    Ok(())
}

/// The correction for Akismet about `held`, as an outbox call: sent by the
/// function when it has `AKISMET_KEY`, dropped otherwise.
pub fn feedback(
    held: &Held,
    correction: Correction,
    site_url: Option<&str>,
    now_ms: u64,
) -> OutboundCall {
    let payload = json!({
        "correction": correction.as_str(),
        "fields": item_fields(held, site_url),
    });
    OutboundCall {
        entry: OutboxEntry {
            kind: MailKind::Feedback,
            id: held.id().to_owned(),
        },
        payload: payload.to_string(),
        created_ms: now_ms,
    }
}

/// What condemning a comment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condemned {
    /// Taken down into the spam folder, with a correction for Akismet.
    Done(Box<SpamItem>),
    /// It is in the spam folder already.
    Already,
    /// No such comment.
    NotFound,
}

/// "Spam" on a comment in any status (the owner's `rust-aws spam ID`):
/// put in the folder, the correction recorded, then removed from the flow
/// as a deletion removes it (its count, subscription and notices). Each step
/// is idempotent: a run cut short is finished by running it again.
pub async fn condemn<S: Store + ?Sized>(
    store: &S,
    id: &str,
    now_ms: u64,
) -> StoreResult<Condemned> {
    let Some(comment) = store.get_comment(id, now_ms).await? else {
        return Ok(if store.get_spam(id, now_ms).await?.is_some() {
            Condemned::Already
        } else {
            Condemned::NotFound
        });
    };
    let item = SpamItem {
        held: Held::Comment(comment),
        reason: "owner".to_owned(),
        marked_ms: now_ms,
    };
    store.put_spam(&item).await?;
    let call = feedback(&item.held, Correction::Spam, None, now_ms);
    store.put_outbound(std::slice::from_ref(&call), 0).await?;
    store
        .decide(id, crate::domain::Decision::Delete, now_ms)
        .await?;
    Ok(Condemned::Done(Box::new(item)))
}

/// "Not spam" (the owner's `rust-aws ham ID`): back into the normal flow
/// with a correction for Akismet; `None` when the folder has no such item.
pub async fn release<S: Store + ?Sized>(
    store: &S,
    id: &str,
    now_ms: u64,
) -> StoreResult<Option<SpamItem>> {
    let Some(item) = store.get_spam(id, now_ms).await? else {
        return Ok(None);
    };
    let call = feedback(&item.held, Correction::Ham, None, now_ms);
    store.release_spam(id, Some(&call), now_ms).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn links_are_counted_by_scheme_and_bare_www() {
        assert_eq!(count_links("no links here"), 0);
        assert_eq!(count_links("see https://a.example and http://b.example"), 2);
        assert_eq!(count_links("HTTPS://A.EXAMPLE www.b.example"), 2);
        // `https://www.x` is one link, not two.
        assert_eq!(count_links("https://www.x.example"), 1);
    }

    #[test]
    fn the_blocklist_matches_words_whole_and_domains_anywhere() {
        let bl = list(&["casino", "spam.example"]);
        assert!(blocked(&bl, &["Best CASINO bonus"]));
        assert!(blocked(&bl, &["casino!"]));
        assert!(!blocked(&bl, &["casinos are a word of their own"]));
        assert!(blocked(&bl, &["visit https://www.SPAM.example/x"]));
        assert!(blocked(&bl, &["ok", "mail@spam.example"]));
        assert!(!blocked(&bl, &["a fine comment"]));
        assert!(!blocked(&[], &["anything"]));
        // Not a substring of another word.
        assert!(!blocked(&list(&["cialis"]), &["a specialist wrote"]));
    }

    fn cfg(vars: &[(&str, &str)], site: Option<&str>) -> Result<SpamConfig, ConfigError> {
        let map: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_lookup(&|k: &str| map.get(k).cloned(), site)
    }

    #[test]
    fn configuration_defaults_and_mistakes_are_named() {
        let c = cfg(&[], None).unwrap();
        assert_eq!(
            (c.max_links, c.blocklist.len(), c.akismet.is_none()),
            (2, 0, true)
        );
        let c = cfg(&[("SPAM_BLOCKLIST", " Casino, ,spam.EXAMPLE ")], None).unwrap();
        assert_eq!(c.blocklist, list(&["casino", "spam.example"]));
        assert_eq!(
            cfg(&[("SPAM_MAX_LINKS", "x")], None).unwrap_err().variable,
            "SPAM_MAX_LINKS"
        );
        assert_eq!(
            cfg(&[("AKISMET_KEY", "abc")], None).unwrap_err().variable,
            "SITE_URL"
        );
        assert_eq!(
            cfg(&[("AKISMET_URL", "http://x")], None)
                .unwrap_err()
                .variable,
            "AKISMET_URL"
        );
        let c = cfg(
            &[
                ("AKISMET_KEY", "abc123"),
                ("AKISMET_URL", "http://127.0.0.1:1/"),
            ],
            Some("https://blog.example.org"),
        )
        .unwrap();
        let a = c.akismet.unwrap();
        assert_eq!(a.url, "http://127.0.0.1:1");
        assert!(!format!("{a:?}").contains("abc123"));
    }
}
