//! Importing comments from other systems: each format's reader turns a file
//! into [`SourceComment`]s (pure functions, no store), then [`plan`] applies
//! our rules and threading, and the command writes what the plan keeps.
//!
//! A malformed file is refused whole ([`FormatError`], naming the line or
//! element) before anything is written; an item that breaks a rule is skipped
//! with a reason and the rest go on.

pub mod artalk;
pub mod commento;
pub mod cusdis;
pub mod disqus;
pub mod html;
pub mod isso;
mod json;
pub mod jsonl;
pub mod remark42;
#[cfg(test)]
mod scaling;
pub mod wordpress;

use std::collections::{HashMap, HashSet};
use std::fmt;

use sha2::{Digest, Sha256};

use rust_aws::domain::ids;
use rust_aws::domain::{CommentRecord, CommentStatus};
use rust_aws::domain::{Email, MultiLine, SingleLine, WebUrl};

/// The formats `import --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Disqus's XML export (Admin → Community → Export).
    Disqus,
    /// WordPress's WXR export (Tools → Export).
    Wordpress,
    /// Isso's SQLite database (comments.db).
    Isso,
    /// Cusdis's SQLite database, or its PostgreSQL tables as a directory of
    /// pages.csv and comments.csv or one JSON file.
    Cusdis,
    /// Remark42's backup file, gzipped or not.
    Remark42,
    /// Commento's (or Comentario's) JSON export, gzipped or not.
    Commento,
    /// Artalk's Artrans JSON, gzipped or not.
    Artalk,
    /// Our own JSON Lines (`rust-aws export`).
    Jsonl,
}

impl Format {
    /// The name used on the command line and in derived ids.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Format::Disqus => "disqus",
            Format::Wordpress => "wordpress",
            Format::Isso => "isso",
            Format::Cusdis => "cusdis",
            Format::Remark42 => "remark42",
            Format::Commento => "commento",
            Format::Artalk => "artalk",
            Format::Jsonl => "jsonl",
        }
    }
}

/// A file that cannot be read as its format: nothing is imported from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// Where: `line 12`, `<post> at line 40`, `table comments`.
    pub at: String,
    /// What is wrong.
    pub message: String,
}

impl FormatError {
    /// An error at `at`.
    pub fn new(at: impl Into<String>, message: impl fmt::Display) -> Self {
        Self {
            at: at.into(),
            message: message.to_string(),
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

impl std::error::Error for FormatError {}

/// The text of an export file: UTF-8, as every format read here is written
/// (a leading byte-order mark is dropped). Anything else is refused with the
/// place of the first byte that is not UTF-8.
pub(crate) fn utf8_text(mut bytes: Vec<u8>) -> Result<String, FormatError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    if bytes.starts_with(BOM) {
        bytes.drain(..BOM.len());
    }
    String::from_utf8(bytes).map_err(|e| {
        let bytes = e.as_bytes();
        let bad = e.utf8_error().valid_up_to();
        let line_start = bytes[..bad]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = bytes[..line_start].iter().filter(|&&b| b == b'\n').count() + 1;
        let column = String::from_utf8_lossy(&bytes[line_start..bad]).chars().count() + 1;
        FormatError::new(
            format!("line {line}, column {column} (byte {bad})"),
            format_args!(
                "not UTF-8 text (byte 0x{:02X}); the exports are UTF-8: convert the file (e.g. with iconv) and import again",
                bytes[bad]
            ),
        )
    })
}

/// The bytes of a file that may be gzipped (Remark42's backups, Commento's
/// downloads, Artalk's piped exports): unpacked when they start with gzip's
/// magic number, else as they are. A gzip stream cut short or damaged
/// refuses the file.
pub(crate) fn gunzip(bytes: Vec<u8>) -> Result<Vec<u8>, FormatError> {
    use std::io::Read;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let mut unpacked = Vec::with_capacity(bytes.len().saturating_mul(4));
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .read_to_end(&mut unpacked)
        .map_err(|e| {
            FormatError::new(
                format!("gzip data, after {} bytes unpacked", unpacked.len()),
                format_args!("{e}: the file is cut short or damaged; download it again"),
            )
        })?;
    Ok(unpacked)
}

/// One comment as its source describes it, before our rules apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceComment {
    /// The source's id for it (unique within the file).
    pub source_id: String,
    /// The source's id of the comment it replies to.
    pub parent: Option<String>,
    /// The page, already our `post` (the path of the page's URL), or why
    /// none could be made.
    pub post: Result<String, String>,
    /// Author's name as given (blank for anonymous).
    pub name: String,
    /// Author's address, as given.
    pub email: Option<String>,
    /// Author's website, as given.
    pub url: Option<String>,
    /// Plain text (HTML already converted).
    pub body: String,
    /// Submission time, or why the source's date is unusable.
    pub created_ms: Result<u64, String>,
    /// Set when the source itself says not to publish it (deleted, spam,
    /// pending, a pingback): counted and reported, never imported.
    pub(crate) excluded: Option<String>,
}

/// A source comment left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// The source's id.
    pub source_id: String,
    /// Why.
    pub reason: String,
}

/// A comment the plan keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The source's id.
    pub source_id: String,
    /// What will be stored (approved, id derived from the source's id).
    pub record: CommentRecord,
    /// Its parent is not in the file: the command checks the store for it,
    /// and makes the comment top-level if the store has no such parent.
    pub(crate) parent_outside_file: bool,
    /// Things dropped on the way (an invalid address, a parent not imported).
    pub notes: Vec<String>,
}

/// What an import will do.
#[derive(Debug, Default)]
pub struct Plan {
    /// To store, in file order.
    pub comments: Vec<Planned>,
    /// Left out, with reasons.
    pub skipped: Vec<Skipped>,
}

/// Name given to comments whose source has no author name (anonymous ones).
pub(crate) const ANONYMOUS: &str = "Anonymous";

/// Our id for a source's comment: stable, so a second import finds the first
/// one's comments. Our own export keeps its ids.
pub(crate) fn derive_id(format: Format, source_id: &str) -> String {
    let native = source_id.len() == 32
        && source_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if format == Format::Jsonl && native {
        return source_id.to_owned();
    }
    let digest = Sha256::digest(format!("{}\0{source_id}", format.as_str()).as_bytes());
    ids::hex(&digest[..16])
}

/// The `post` of a page URL: its path (`https://blog.example.org/2026/11/x/?a#b`
/// → `/2026/11/x/`), where the widget of that page looks for its comments.
/// A bare path is taken as it is. Query parameters that name the page
/// itself stay (WordPress's plain permalinks: `/?p=123`, `/?page_id=7`),
/// so such pages do not all become `/`; any other query (tracking, a
/// session) is dropped.
pub(crate) fn post_from_link(link: &str) -> Result<String, String> {
    let link = link.trim();
    let (path, query) = if link.starts_with('/') {
        let link = link.split('#').next().unwrap_or(link);
        match link.split_once('?') {
            Some((path, query)) => (path.to_owned(), Some(query.to_owned())),
            None => (link.to_owned(), None),
        }
    } else {
        match url::Url::parse(link) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {
                (url.path().to_owned(), url.query().map(str::to_owned))
            }
            _ if link.is_empty() => return Err("the page has no URL".to_owned()),
            _ => {
                return Err(format!(
                    "the page URL {link:?} is not an http(s) URL or a path"
                ));
            }
        }
    };
    let mut kept = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if PAGE_PARAMETERS.contains(&key.as_ref()) {
            kept.append_pair(&key, &value);
            any = true;
        }
    }
    Ok(if any {
        format!("{path}?{}", kept.finish())
    } else {
        path
    })
}

/// Query parameters that say which page a URL is: WordPress's plain
/// permalinks (posts, pages, attachments, custom post types).
const PAGE_PARAMETERS: &[&str] = &["p", "page_id", "attachment_id", "post_type"];

/// The earliest and latest dates an import accepts: anything else is a broken
/// date in the source, and would sort the comment where nobody looks.
fn check_date(ms: u64, now_ms: u64) -> Result<u64, String> {
    const EARLIEST_MS: u64 = 631_152_000_000; // 1990-01-01
    if ms < EARLIEST_MS {
        return Err(format!("date {} is before 1990", ids::rfc3339(ms)));
    }
    if ms > now_ms + rust_aws::domain::DAY_MS {
        return Err(format!("date {} is in the future", ids::rfc3339(ms)));
    }
    Ok(ms)
}

/// Parses an RFC 3339 or `YYYY-MM-DD HH:MM:SS[.fff]` date, UTC unless it
/// ends in an offset (`Z`, `+05:30`, `-0700` as Go's layouts write it).
pub(crate) fn parse_date(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let bad = || format!("bad date {text:?}");
    let (local, offset_ms) = split_offset(text).ok_or_else(bad)?;
    let local_ms = humantime::parse_rfc3339_weak(local)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .ok_or_else(bad)?;
    u64::try_from(local_ms - offset_ms).map_err(|_| bad())
}

/// A date without its numeric UTC offset, and the offset in milliseconds
/// (0 for none); `None` for an offset that is not one.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    // The date's own hyphens are in its first ten characters.
    let Some(sign_at) = text.get(10..).and_then(|time| time.rfind(['+', '-'])) else {
        return Some((text, 0));
    };
    let (local, zone) = text.split_at(10 + sign_at);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits = zone[1..].replace(':', "");
    if !matches!(digits.len(), 2 | 4) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Some(0), |m| m.parse().ok())?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((local.trim_end(), sign * (hours * 60 + minutes) * 60_000))
}

/// Applies our rules to what a source holds: the same field rules as
/// `POST /comment` (an invalid optional address or website is dropped, an
/// invalid required field skips the comment), the source's first copy of a
/// duplicated id, and one level of threading (a reply hangs under its
/// top-level ancestor on the same post; a reply whose ancestor is not
/// imported becomes top-level).
pub(crate) fn plan(format: Format, items: Vec<SourceComment>, now_ms: u64) -> Plan {
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    let mut unique = Vec::with_capacity(items.len());
    for item in items {
        if seen.insert(item.source_id.clone()) {
            unique.push(item);
        } else {
            plan.skipped.push(Skipped {
                source_id: item.source_id,
                reason: "duplicate id: the first comment with this id is the one imported".into(),
            });
        }
    }
    let by_id: HashMap<&str, &SourceComment> =
        unique.iter().map(|c| (c.source_id.as_str(), c)).collect();

    // First pass: each comment on its own.
    let mut valid: HashMap<&str, Planned> = HashMap::new();
    for item in &unique {
        match validate(format, item, now_ms) {
            Ok(planned) => {
                valid.insert(&item.source_id, planned);
            }
            Err(reason) => plan.skipped.push(Skipped {
                source_id: item.source_id.clone(),
                reason,
            }),
        }
    }

    // Second pass: threading, now that every comment's fate is known.
    let importable: HashSet<String> = valid.keys().map(|k| (*k).to_owned()).collect();
    let mut ancestors = Ancestors::new(&by_id);
    for item in &unique {
        let Some(mut planned) = valid.remove(item.source_id.as_str()) else {
            continue;
        };
        if let Some(first_parent) = &item.parent {
            match ancestors.top(first_parent) {
                Ancestor::InFile(top) if top == item.source_id => {
                    planned
                        .notes
                        .push("its parents form a loop: imported as top-level".into());
                }
                Ancestor::InFile(top) => {
                    let parent_post = by_id[top].post.as_ref().ok();
                    if !importable.contains(top) {
                        planned.notes.push(format!(
                            "parent {top} is not imported: imported as top-level"
                        ));
                    } else if parent_post != Some(&planned.record.post) {
                        planned.notes.push(format!(
                            "parent {top} is on another page: imported as top-level"
                        ));
                    } else {
                        planned.record.parent = Some(derive_id(format, top));
                    }
                }
                Ancestor::Outside(top) => {
                    planned.record.parent = Some(derive_id(format, top));
                    planned.parent_outside_file = true;
                }
                Ancestor::Loop => {
                    planned
                        .notes
                        .push("its parents form a loop: imported as top-level".into());
                }
            }
        }
        plan.comments.push(planned);
    }
    plan
}

#[derive(Debug, Clone, Copy)]
enum Ancestor<'a> {
    /// The top of the chain is this comment of the file.
    InFile(&'a str),
    /// The chain leaves the file at this id.
    Outside(&'a str),
    /// The chain loops.
    Loop,
}

/// The top of the chain of parents starting at each id asked for,
/// remembered: every comment's chain is walked once in all, so a file of
/// long reply chains stays linear.
struct Ancestors<'a> {
    by_id: &'a HashMap<&'a str, &'a SourceComment>,
    known: HashMap<&'a str, Ancestor<'a>>,
}

impl<'a> Ancestors<'a> {
    fn new(by_id: &'a HashMap<&'a str, &'a SourceComment>) -> Self {
        Self {
            by_id,
            known: HashMap::new(),
        }
    }

    fn top(&mut self, start: &'a str) -> Ancestor<'a> {
        let mut chain: Vec<&'a str> = Vec::new();
        let mut on_chain: HashSet<&'a str> = HashSet::new();
        let mut current = start;
        let found = loop {
            if let Some(known) = self.known.get(current) {
                break *known;
            }
            if !on_chain.insert(current) {
                break Ancestor::Loop;
            }
            chain.push(current);
            match self.by_id.get(current).copied() {
                None => break Ancestor::Outside(current),
                Some(c) => match c.parent.as_deref() {
                    Some(up) => current = up,
                    None => break Ancestor::InFile(c.source_id.as_str()),
                },
            }
        };
        for id in chain {
            self.known.insert(id, found);
        }
        found
    }
}

fn validate(format: Format, item: &SourceComment, now_ms: u64) -> Result<Planned, String> {
    if let Some(why) = &item.excluded {
        return Err(why.clone());
    }
    let field = |e: rust_aws::domain::FieldError| e.message;
    let post = item.post.clone()?;
    let post = SingleLine::parse("post", &post, 1, 512).map_err(field)?;
    let name = if item.name.trim().is_empty() {
        ANONYMOUS
    } else {
        item.name.as_str()
    };
    let name = SingleLine::parse("name", name, 1, 100).map_err(field)?;
    let body = MultiLine::parse("body", &item.body, 2, 5000).map_err(field)?;
    let created_ms = item
        .created_ms
        .clone()
        .and_then(|ms| check_date(ms, now_ms))?;
    let mut notes = Vec::new();
    let email = match item
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        None => None,
        Some(raw) => match Email::parse("email", raw) {
            Ok(e) => Some(e.as_str().to_owned()),
            Err(e) => {
                notes.push(format!("{}: address dropped", e.message));
                None
            }
        },
    };
    let url = match item.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => None,
        Some(raw) => match WebUrl::parse("url", raw) {
            Ok(u) => Some(u.as_str().to_owned()),
            Err(e) => {
                notes.push(format!("{}: website dropped", e.message));
                None
            }
        },
    };
    Ok(Planned {
        source_id: item.source_id.clone(),
        record: CommentRecord {
            id: derive_id(format, &item.source_id),
            post: post.as_str().to_owned(),
            parent: None,
            name: name.as_str().to_owned(),
            email,
            url,
            body: body.as_str().to_owned(),
            created_ms,
            status: CommentStatus::Approved,
            // Source IPs are not carried over: a hash of them serves only
            // rate limiting, which an old comment does not need.
            ip_hash: String::new(),
            links_base: String::new(),
            // Imported comments asked nobody for consent to be mailed.
            notify: false,
            mailbox: None,
        },
        parent_outside_file: false,
        notes,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const NOW: u64 = 1_790_000_000_000; // 2026-09

    pub(crate) fn source(id: &str, parent: Option<&str>) -> SourceComment {
        SourceComment {
            source_id: id.into(),
            parent: parent.map(Into::into),
            post: Ok("/p/".into()),
            name: "Ada Example".into(),
            email: Some("ada@example.org".into()),
            url: None,
            body: "A comment body".into(),
            created_ms: Ok(1_700_000_000_000),
            excluded: None,
        }
    }

    fn parent_of(plan: &Plan, id: &str) -> Option<String> {
        plan.comments
            .iter()
            .find(|p| p.source_id == id)
            .unwrap()
            .record
            .parent
            .clone()
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_with_its_place() {
        let mut bytes = "<disqus>\n  <post>caf".as_bytes().to_vec();
        bytes.push(0xE9); // Latin-1 é
        bytes.extend_from_slice(b"</post>\n</disqus>");
        let err = utf8_text(bytes).unwrap_err();
        assert_eq!(err.at, "line 2, column 12 (byte 20)", "{err}");
        assert!(err.message.contains("0xE9"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let text = utf8_text(b"\xEF\xBB\xBF<a>\xC3\xA9</a>".to_vec()).unwrap();
        assert_eq!(text, "<a>\u{e9}</a>");
    }

    #[test]
    fn dates_with_offsets_are_read_as_utc() {
        let utc = Ok(1_635_425_415_000); // 2021-10-28T12:50:15Z
        assert_eq!(parse_date("2021-10-28T12:50:15Z"), utc);
        assert_eq!(parse_date("2021-10-28 12:50:15"), utc);
        assert_eq!(
            parse_date("2021-10-28 20:50:15 +0800"),
            utc,
            "Artalk's layout"
        );
        assert_eq!(parse_date("2021-10-28T07:50:15-05:00"), utc);
        assert_eq!(parse_date("2021-10-28T12:50:15+00"), utc);
        assert_eq!(
            parse_date("2021-10-28T07:50:15.123456789-05:00"),
            Ok(1_635_425_415_123),
            "Go's RFC 3339 with nanoseconds"
        );
        assert_eq!(parse_date("2021-10-28 12:50:15.5"), Ok(1_635_425_415_500));
        for bad in [
            "2021-10-28 12:50:15 +0860",
            "2021-10-28 12:50:15 +8",
            "yesterday",
            "",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gzipped_bytes_are_unpacked_and_a_cut_stream_refused() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(&b"{\"version\":1}\n".repeat(1000))
            .unwrap();
        let packed = encoder.finish().unwrap();
        assert_eq!(
            gunzip(packed.clone()).unwrap(),
            b"{\"version\":1}\n".repeat(1000)
        );
        assert_eq!(gunzip(b"plain".to_vec()).unwrap(), b"plain");
        let err = gunzip(packed[..packed.len() / 2].to_vec()).unwrap_err();
        assert!(err.at.starts_with("gzip data"), "{err}");
        assert!(err.message.contains("cut short"), "{err}");
    }

    #[test]
    fn ids_derive_from_the_source_and_ours_are_kept() {
        assert_eq!(
            derive_id(Format::Disqus, "42"),
            derive_id(Format::Disqus, "42")
        );
        assert_ne!(
            derive_id(Format::Disqus, "42"),
            derive_id(Format::Wordpress, "42")
        );
        assert_eq!(derive_id(Format::Disqus, "42").len(), 32);
        let ours = "0123456789abcdef0123456789abcdef";
        assert_eq!(derive_id(Format::Jsonl, ours), ours);
        assert_ne!(derive_id(Format::Disqus, ours), ours);
    }

    #[test]
    fn a_page_url_becomes_its_path() {
        assert_eq!(
            post_from_link("https://blog.example.org/2026/11/x/?utm=1#c"),
            Ok("/2026/11/x/".into())
        );
        assert_eq!(post_from_link("/2026/11/x/"), Ok("/2026/11/x/".into()));
        assert_eq!(
            post_from_link("/2026/11/x/?utm=1#c"),
            Ok("/2026/11/x/".into())
        );
        assert!(post_from_link("javascript:alert(1)").is_err());
        assert!(post_from_link("").is_err());
    }

    #[test]
    fn plain_permalinks_stay_distinct_pages() {
        assert_eq!(
            post_from_link("https://blog.example.org/?p=123"),
            Ok("/?p=123".into())
        );
        assert_eq!(
            post_from_link("https://blog.example.org/?page_id=7&utm_source=feed#comments"),
            Ok("/?page_id=7".into())
        );
        assert_eq!(
            post_from_link("http://blog.example.org/index.php?post_type=recipe&p=9"),
            Ok("/index.php?post_type=recipe&p=9".into())
        );
        assert_eq!(post_from_link("/?p=5"), Ok("/?p=5".into()));
        assert_ne!(
            post_from_link("https://blog.example.org/?p=1"),
            post_from_link("https://blog.example.org/?p=2")
        );
    }

    #[test]
    fn deep_replies_hang_under_their_top_level_ancestor() {
        let items = vec![
            source("1", None),
            source("2", Some("1")),
            source("3", Some("2")),
            source("4", Some("3")),
        ];
        let plan = plan(Format::Disqus, items, NOW);
        let top = derive_id(Format::Disqus, "1");
        assert_eq!(parent_of(&plan, "1"), None);
        for id in ["2", "3", "4"] {
            assert_eq!(parent_of(&plan, id).as_deref(), Some(top.as_str()), "{id}");
        }
    }

    #[test]
    fn a_reply_under_a_skipped_ancestor_becomes_top_level() {
        let mut spam = source("1", None);
        spam.excluded = Some("spam".into());
        let plan = plan(Format::Disqus, vec![spam, source("2", Some("1"))], NOW);
        assert_eq!(parent_of(&plan, "2"), None);
        assert_eq!(plan.skipped.len(), 1);
        assert!(plan.comments[0].notes[0].contains("not imported"));
    }

    #[test]
    fn an_unknown_parent_is_left_for_the_store_to_resolve() {
        let plan = plan(Format::Disqus, vec![source("2", Some("99"))], NOW);
        assert!(plan.comments[0].parent_outside_file);
        assert_eq!(parent_of(&plan, "2"), Some(derive_id(Format::Disqus, "99")));
    }

    #[test]
    fn parent_loops_end_as_top_level() {
        let items = vec![
            source("1", Some("2")),
            source("2", Some("1")),
            source("3", Some("3")),
        ];
        let plan = plan(Format::Disqus, items, NOW);
        for id in ["1", "2", "3"] {
            assert_eq!(parent_of(&plan, id), None, "{id}");
        }
    }

    #[test]
    fn duplicate_ids_keep_the_first() {
        let mut second = source("1", None);
        second.body = "another body".into();
        let plan = plan(Format::Disqus, vec![source("1", None), second], NOW);
        assert_eq!(plan.comments.len(), 1);
        assert_eq!(plan.comments[0].record.body, "A comment body");
        assert!(plan.skipped[0].reason.contains("duplicate"));
    }

    #[test]
    fn rule_breaking_comments_are_skipped_with_the_reason() {
        let mut long = source("1", None);
        long.body = "x".repeat(5001);
        let mut old = source("2", None);
        old.created_ms = Ok(0);
        let mut bad_date = source("3", None);
        bad_date.created_ms = Err("bad date \"0000-00-00\"".into());
        let mut control = source("4", None);
        control.name = "Eve\u{202e}".into();
        let plan = plan(Format::Disqus, vec![long, old, bad_date, control], NOW);
        assert!(plan.comments.is_empty());
        let reasons: Vec<_> = plan.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert!(reasons[0].contains("5000"), "{reasons:?}");
        assert!(reasons[1].contains("1990"), "{reasons:?}");
        assert!(reasons[2].contains("bad date"), "{reasons:?}");
        assert!(reasons[3].contains("control"), "{reasons:?}");
    }

    #[test]
    fn invalid_optional_fields_are_dropped_not_fatal() {
        let mut item = source("1", None);
        item.email = Some("not an address".into());
        item.url = Some("javascript:alert(1)".into());
        item.name = "  ".into();
        let plan = plan(Format::Disqus, vec![item], NOW);
        let record = &plan.comments[0].record;
        assert_eq!(
            (record.email.as_deref(), record.url.as_deref()),
            (None, None)
        );
        assert_eq!(record.name, ANONYMOUS);
        assert_eq!(plan.comments[0].notes.len(), 2);
    }

    proptest::proptest! {
        #[test]
        fn any_date_text_is_read_or_refused_without_panicking(text in "\\PC{0,40}") {
            let _ = parse_date(&text);
        }

        #[test]
        fn gzip_lookalikes_are_refused_not_panicked_on(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut bytes = vec![0x1f, 0x8b];
            bytes.extend(tail);
            let _ = gunzip(bytes);
        }
    }
}
