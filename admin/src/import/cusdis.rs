//! Cusdis's data: its self-hosted SQLite database file, or, for PostgreSQL
//! owners, its `pages` and `comments` tables as a directory of `pages.csv`
//! and `comments.csv` (`psql -c "\copy pages to pages.csv csv header"`, the
//! same for comments) or as one JSON file `{"pages": [...], "comments":
//! [...]}` whose objects have the tables' column names.
//!
//! The tables are Prisma's (djyde/cusdis `prisma/sqlite/schema.prisma`,
//! `prisma/pgsql/schema.prisma`; columns as the migrations under
//! `prisma/*/migrations/` create them): `pages(id, slug, url, title,
//! created_at, updated_at, projectId)` and `comments(id, pageId, created_at,
//! updated_at, deletedAt, moderatorId, by_email, by_nickname, content,
//! approved, parentId)`, and `projects(id, …, deleted_at)` in the database.
//! Cusdis shows a comment when it is `approved`, its `deletedAt` is null and
//! its project is not deleted (`service/comment.service.ts`). `content` is
//! the Markdown typed, which Cusdis renders with HTML and links turned off
//! (markdown-it, same file): what readers saw is the text as typed, so it is
//! kept as it is. A page is the `slug` the widget was given (`data-page-id`)
//! and its `url` (`data-page-url`, `service/page.service.ts`): the URL's path
//! is the post, else the slug when it is a path. Prisma writes SQLite dates
//! as milliseconds since 1970 (SQLite's own default, `CURRENT_TIMESTAMP`, is
//! text), and booleans as 0 and 1; PostgreSQL's `\copy` writes `TIMESTAMP(3)`
//! as `2024-05-01 10:00:00.123` (UTC, as Prisma stores it) and booleans as
//! `t` and `f`, and an empty unquoted field for null.

use std::collections::HashMap;
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use super::json::{self, Record};
use super::{FormatError, SourceComment, parse_date, post_from_link, utf8_text};

/// A row of `pages`: what makes a post.
struct Page {
    slug: String,
    url: Option<String>,
}

/// A row of `comments`, as every form of the data gives it.
struct Row {
    id: String,
    page: String,
    parent: Option<String>,
    created_ms: Result<u64, String>,
    deleted: bool,
    approved: bool,
    project_deleted: bool,
    nickname: String,
    email: Option<String>,
    content: String,
}

/// Reads Cusdis's data from `path`: a directory of CSV files, a SQLite
/// database or a JSON file, told apart by what is there.
pub fn read(path: &Path) -> Result<Vec<SourceComment>, FormatError> {
    const SQLITE: &[u8] = b"SQLite format 3\0";
    let name = path.display().to_string();
    if path.is_dir() {
        let table = |file: &str| {
            let path = path.join(file);
            std::fs::read(&path)
                .map_err(|e| FormatError::new(path.display().to_string(), e))
                .and_then(|bytes| {
                    utf8_text(bytes)
                        .map_err(|e| FormatError::new(format!("{file} {}", e.at), e.message))
                })
        };
        return parse_csv(&table("pages.csv")?, &table("comments.csv")?);
    }
    let bytes = std::fs::read(path).map_err(|e| FormatError::new(&name, e))?;
    if bytes.starts_with(SQLITE) {
        return read_sqlite(path);
    }
    parse_json(&utf8_text(bytes)?)
}

/// The comments of `rows` on the pages of `pages`.
fn comments(rows: Vec<Row>, pages: &HashMap<String, Page>) -> Vec<SourceComment> {
    rows.into_iter()
        .map(|row| {
            let excluded = if row.deleted {
                Some("deleted in Cusdis".to_owned())
            } else if row.project_deleted {
                Some("its Cusdis project is deleted".to_owned())
            } else if !row.approved {
                Some("not approved in Cusdis".to_owned())
            } else {
                None
            };
            SourceComment {
                post: post(pages.get(&row.page), &row.page),
                source_id: row.id,
                parent: row.parent.filter(|p| !p.is_empty()),
                name: row.nickname,
                email: row.email,
                url: None,
                body: row.content,
                created_ms: row.created_ms,
                excluded,
            }
        })
        .collect()
}

fn post(page: Option<&Page>, id: &str) -> Result<String, String> {
    let page = page.ok_or_else(|| format!("its page {id} is not in the data"))?;
    match page.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => post_from_link(url),
        None if page.slug.starts_with('/') => post_from_link(&page.slug),
        None => Err(format!(
            "its page {:?} has no URL, and its Cusdis page id is not a path",
            page.slug
        )),
    }
}

// ---- PostgreSQL: CSV ------------------------------------------------------

/// One CSV table: its column positions by name, and its records with the
/// line each starts on.
struct Table {
    file: &'static str,
    columns: HashMap<String, usize>,
    records: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn read(file: &'static str, text: &str, needed: &[&str]) -> Result<Self, FormatError> {
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let place = |e: &csv::Error| {
            let line = e.position().map_or(1, csv::Position::line);
            format!("{file} line {line}")
        };
        let headers = reader
            .headers()
            .map_err(|e| FormatError::new(place(&e), e))?
            .clone();
        let columns: HashMap<String, usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_owned(), i))
            .collect();
        if let Some(missing) = needed.iter().find(|c| !columns.contains_key(**c)) {
            return Err(FormatError::new(
                format!("{file} line 1"),
                format_args!(
                    "no column {missing:?}: the header is the table's column names (\\copy … csv header)"
                ),
            ));
        }
        let mut records = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let why = match e.kind() {
                    csv::ErrorKind::UnequalLengths { .. } => {
                        format!("{e}: the file is cut short or not one table")
                    }
                    _ => e.to_string(),
                };
                FormatError::new(place(&e), why)
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            records.push((line, record));
        }
        Ok(Self {
            file,
            columns,
            records,
        })
    }
}

/// A field of a record; `None` for psql's null (an empty field).
fn field<'r>(table: &Table, record: &'r csv::StringRecord, column: &str) -> Option<&'r str> {
    table
        .columns
        .get(column)
        .and_then(|&i| record.get(i))
        .filter(|v| !v.is_empty())
}

/// Reads the two tables as `psql`'s `\copy … csv header` writes them.
pub fn parse_csv(pages_csv: &str, comments_csv: &str) -> Result<Vec<SourceComment>, FormatError> {
    let pages_table = Table::read("pages.csv", pages_csv, &["id", "slug", "url"])?;
    let comments_table = Table::read(
        "comments.csv",
        comments_csv,
        &[
            "id",
            "pageId",
            "created_at",
            "deletedAt",
            "by_email",
            "by_nickname",
            "content",
            "approved",
            "parentId",
        ],
    )?;
    let mut pages = HashMap::new();
    for (_, record) in &pages_table.records {
        let get = |column| field(&pages_table, record, column);
        pages.insert(
            get("id").unwrap_or_default().to_owned(),
            Page {
                slug: get("slug").unwrap_or_default().to_owned(),
                url: get("url").map(str::to_owned),
            },
        );
    }
    let table = &comments_table;
    let mut rows = Vec::with_capacity(table.records.len());
    for (line, record) in &table.records {
        let get = |column| field(table, record, column);
        let at = |column: &str| format!("{} line {line}, column {column}", table.file);
        let approved = get("approved").unwrap_or("f");
        rows.push(Row {
            id: get("id")
                .ok_or_else(|| FormatError::new(at("id"), "is empty: every comment has one"))?
                .to_owned(),
            page: get("pageId").unwrap_or_default().to_owned(),
            parent: get("parentId").map(str::to_owned),
            created_ms: get("created_at").map_or_else(|| Err("no date".to_owned()), parse_date),
            deleted: get("deletedAt").is_some(),
            approved: json::yes_no(approved).ok_or_else(|| {
                FormatError::new(at("approved"), format_args!("is {approved:?}, not t or f"))
            })?,
            project_deleted: false,
            nickname: get("by_nickname").unwrap_or_default().to_owned(),
            email: get("by_email").map(str::to_owned),
            content: get("content").unwrap_or_default().to_owned(),
        });
    }
    Ok(comments(rows, &pages))
}

// ---- PostgreSQL: JSON -----------------------------------------------------

/// Reads `{"pages": [...], "comments": [...]}` with the tables' columns.
pub fn parse_json(input: &str) -> Result<Vec<SourceComment>, FormatError> {
    const WHAT: &str = "Cusdis's pages and comments";
    let document = json::document(input)?;
    let mut pages = HashMap::new();
    for (n, value) in json::array(&document, "pages", WHAT)?.iter().enumerate() {
        let record = Record::new(value, format!("pages[{n}]"))?;
        pages.insert(
            record.required("id")?.to_owned(),
            Page {
                slug: record.text("slug")?.unwrap_or_default().to_owned(),
                url: record.text("url")?.map(str::to_owned),
            },
        );
    }
    let list = json::array(&document, "comments", WHAT)?;
    let mut rows = Vec::with_capacity(list.len());
    for (n, value) in list.iter().enumerate() {
        let record = Record::new(value, format!("comments[{n}]"))?;
        rows.push(Row {
            id: record.required("id")?.to_owned(),
            page: record.text("pageId")?.unwrap_or_default().to_owned(),
            parent: record.text("parentId")?.map(str::to_owned),
            created_ms: record
                .text("created_at")?
                .map_or_else(|| Err("no date".to_owned()), parse_date),
            deleted: record.text("deletedAt")?.is_some(),
            approved: record.flag("approved")?,
            project_deleted: false,
            nickname: record.text("by_nickname")?.unwrap_or_default().to_owned(),
            email: record.text("by_email")?.map(str::to_owned),
            content: record.text("content")?.unwrap_or_default().to_owned(),
        });
    }
    Ok(comments(rows, &pages))
}

// ---- SQLite ---------------------------------------------------------------

const PAGES: &str = "SELECT id, slug, url FROM pages";
const COMMENTS: &str = "SELECT c.id, c.\"pageId\", c.\"parentId\", c.created_at, c.\"deletedAt\", \
     c.approved, c.by_nickname, c.by_email, c.content, pr.deleted_at \
     FROM comments AS c LEFT JOIN pages AS p ON c.\"pageId\" = p.id \
     LEFT JOIN projects AS pr ON p.\"projectId\" = pr.id ORDER BY c.rowid";

fn text(value: Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Null | Value::Blob(_) => None,
    }
}

/// A date as Prisma (milliseconds) or SQLite's default (text) wrote it.
fn date_ms(value: Value) -> Result<u64, String> {
    match value {
        Value::Integer(ms) => u64::try_from(ms).map_err(|_| format!("bad date {ms}")),
        Value::Text(s) => parse_date(&s),
        Value::Real(f) => Err(format!("bad date {f}")),
        Value::Null | Value::Blob(_) => Err("no date".to_owned()),
    }
}

/// Reads a Cusdis SQLite database, opened read-only.
fn read_sqlite(path: &Path) -> Result<Vec<SourceComment>, FormatError> {
    let file = path.display().to_string();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| FormatError::new(&file, e))?;
    let query = |sql: &str, tables: &str| {
        conn.prepare(sql)
            .map_err(|e| FormatError::new(format!("{file}: tables {tables}"), e))
    };
    let sqlite = |e: rusqlite::Error| FormatError::new(&file, e);
    let mut pages = HashMap::new();
    let mut statement = query(PAGES, "pages")?;
    let mut found = statement.query([]).map_err(sqlite)?;
    while let Some(row) = found.next().map_err(sqlite)? {
        let id: Value = row.get(0).map_err(sqlite)?;
        let slug: Value = row.get(1).map_err(sqlite)?;
        let url: Value = row.get(2).map_err(sqlite)?;
        if let Some(id) = text(id) {
            let slug = text(slug).unwrap_or_default();
            pages.insert(
                id,
                Page {
                    slug,
                    url: text(url),
                },
            );
        }
    }
    let mut statement = query(COMMENTS, "comments, pages and projects")?;
    let mut found = statement.query([]).map_err(sqlite)?;
    let mut rows = Vec::new();
    while let Some(row) = found.next().map_err(sqlite)? {
        let mut values = (0..10)
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(sqlite)?
            .into_iter();
        let mut next = || values.next().unwrap_or(Value::Null);
        let (id, page, parent, created, deleted) = (next(), next(), next(), next(), next());
        let (approved, nickname, email, content, project_deleted) =
            (next(), next(), next(), next(), next());
        let id = text(id).unwrap_or_default();
        let approved = match approved {
            Value::Integer(b) => b != 0,
            other => text(other).and_then(|w| json::yes_no(&w)).unwrap_or(false),
        };
        rows.push(Row {
            id,
            page: text(page).unwrap_or_default(),
            parent: text(parent),
            created_ms: date_ms(created),
            deleted: !matches!(deleted, Value::Null),
            approved,
            project_deleted: !matches!(project_deleted, Value::Null),
            nickname: text(nickname).unwrap_or_default(),
            email: text(email),
            content: text(content).unwrap_or_default(),
        });
    }
    Ok(comments(rows, &pages))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The tables as Cusdis's SQLite migrations leave them (the columns this
    /// importer reads, and the ones beside them).
    pub(crate) const SCHEMA: &str = r#"
        CREATE TABLE "projects" ("id" TEXT NOT NULL PRIMARY KEY, "title" TEXT NOT NULL,
            "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "deleted_at" DATETIME,
            "ownerId" TEXT NOT NULL, "token" TEXT, "fetch_latest_comments_at" DATETIME,
            "enable_notification" BOOLEAN DEFAULT true, "webhook" TEXT, "enableWebhook" BOOLEAN);
        CREATE TABLE "pages" ("id" TEXT NOT NULL PRIMARY KEY, "slug" TEXT NOT NULL, "url" TEXT,
            "title" TEXT, "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "projectId" TEXT NOT NULL);
        CREATE TABLE "comments" ("id" TEXT NOT NULL PRIMARY KEY, "pageId" TEXT NOT NULL,
            "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
            "updated_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "deletedAt" DATETIME,
            "moderatorId" TEXT, "by_email" TEXT, "by_nickname" TEXT NOT NULL,
            "content" TEXT NOT NULL, "approved" BOOLEAN NOT NULL DEFAULT false, "parentId" TEXT);"#;

    fn db(name: &str, sql: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("cusdis-{}-{name}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(sql).unwrap();
        path
    }

    #[test]
    fn the_database_gives_approved_comments_with_their_page_and_date() {
        let path = db(
            "rules",
            r#"INSERT INTO projects (id, title, ownerId) VALUES ('pr1', 'Blog', 'u'), ('pr2', 'Old', 'u');
             UPDATE projects SET deleted_at = 1700000000000 WHERE id = 'pr2';
             INSERT INTO pages (id, slug, url, projectId) VALUES
               ('pg1', 'hello', 'https://blog.example.org/2024/05/hello/?utm_source=x', 'pr1'),
               ('pg2', '/about/', NULL, 'pr1'), ('pg3', 'gone', 'https://old.example.org/x/', 'pr2');
             INSERT INTO comments (id, pageId, created_at, by_nickname, by_email, content, approved, parentId, deletedAt) VALUES
               ('c1', 'pg1', 1714557600000, 'Ada', 'ada@example.org', 'Hi <b>there</b>', 1, NULL, NULL),
               ('c2', 'pg1', '2024-05-01 11:00:00', 'Bo', NULL, 'reply', 1, 'c1', NULL),
               ('c3', 'pg1', 1714557600000, 'Cy', NULL, 'pending', 0, NULL, NULL),
               ('c4', 'pg2', 1714557600000, 'Di', NULL, 'deleted', 1, NULL, 1714557700000),
               ('c5', 'pg3', 1714557600000, 'Ed', NULL, 'old project', 1, NULL, NULL),
               ('c6', 'pg2', 1714557600000, 'Fay', NULL, 'on about', 1, NULL, NULL);"#,
        );
        let comments = read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(comments.len(), 6);
        assert_eq!(comments[0].post, Ok("/2024/05/hello/".into()));
        assert_eq!(comments[0].created_ms, Ok(1_714_557_600_000));
        assert_eq!(
            comments[0].body, "Hi <b>there</b>",
            "shown as typed by Cusdis"
        );
        assert_eq!(comments[0].excluded, None);
        assert_eq!(
            comments[1].created_ms,
            Ok(1_714_561_200_000),
            "SQLite's text date"
        );
        assert_eq!(comments[1].parent.as_deref(), Some("c1"));
        let reasons: Vec<_> = comments[2..5]
            .iter()
            .map(|c| c.excluded.as_deref())
            .collect();
        assert_eq!(
            reasons,
            [
                Some("not approved in Cusdis"),
                Some("deleted in Cusdis"),
                Some("its Cusdis project is deleted")
            ]
        );
        assert_eq!(
            comments[5].post,
            Ok("/about/".into()),
            "a path as the page id"
        );
    }

    #[test]
    fn a_database_without_cusdis_tables_is_refused_naming_them() {
        let path = std::env::temp_dir().join(format!("cusdis-{}-other.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE threads (id INTEGER);")
            .unwrap();
        let err = read(&path).unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert!(err.at.ends_with("tables pages"), "{err}");
    }

    #[test]
    fn a_database_cut_short_is_refused_naming_the_file() {
        let path = db(
            "cut",
            &format!(
                "INSERT INTO pages (id, slug, url, projectId) VALUES ('pg1', 'a', 'https://blog.example.org/a/', 'pr1');
                 INSERT INTO comments (id, pageId, by_nickname, content, approved) VALUES {};",
                (0..2000)
                    .map(|n| format!("('c{n}', 'pg1', 'Reader {n}', '{}', 1)", "text ".repeat(40)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        );
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = read(&path).unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert!(err.at.contains("cusdis-"), "names the file: {err}");
        assert!(err.message.contains("malformed"), "{err}");
    }

    const PAGES_CSV: &str = "id,slug,url,title,created_at,updated_at,projectId\n\
        pg1,hello,https://blog.example.org/?p=12,Hello,2024-05-01 09:00:00,2024-05-01 09:00:00,pr1\n\
        pg2,no-url,,,2024-05-01 09:00:00,2024-05-01 09:00:00,pr1\n";

    const COMMENTS_CSV: &str = "id,pageId,created_at,updated_at,deletedAt,moderatorId,by_email,by_nickname,content,approved,parentId\n\
        c1,pg1,2024-05-01 10:00:00.250,2024-05-01 10:00:00.250,,,ada@example.org,Ada,\"Two lines,\nwith \"\"quotes\"\"\",t,\n\
        c2,pg1,2024-05-01 11:00:00,2024-05-01 11:00:00,,u1,,Owner,Thanks,t,c1\n\
        c3,pg1,2024-05-01 12:00:00,2024-05-01 12:00:00,,,,Cy,Hidden,f,\n\
        c4,pg2,2024-05-01 12:00:00,2024-05-01 12:00:00,,,,Di,Nowhere,t,\n";

    #[test]
    fn psql_csv_tables_are_read_with_their_quoting_and_nulls() {
        let comments = parse_csv(PAGES_CSV, COMMENTS_CSV).unwrap();
        assert_eq!(comments.len(), 4);
        assert_eq!(comments[0].post, Ok("/?p=12".into()));
        assert_eq!(comments[0].body, "Two lines,\nwith \"quotes\"");
        assert_eq!(comments[0].created_ms, Ok(1_714_557_600_250));
        assert_eq!(comments[0].parent, None);
        assert_eq!(comments[1].parent.as_deref(), Some("c1"));
        assert_eq!(comments[1].email, None, "null");
        assert_eq!(
            comments[2].excluded.as_deref(),
            Some("not approved in Cusdis")
        );
        assert!(comments[3].post.as_ref().unwrap_err().contains("no URL"));
    }

    #[test]
    fn a_cut_or_wrong_csv_is_refused_naming_file_and_line() {
        let cut = &COMMENTS_CSV[..COMMENTS_CSV.len() - 30];
        let err = parse_csv(PAGES_CSV, cut).unwrap_err();
        assert_eq!(err.at, "comments.csv line 6", "{err}");
        assert!(err.message.contains("cut short"), "{err}");
        let err = parse_csv(PAGES_CSV, &COMMENTS_CSV.replace(",t,c1", ",yes,c1")).unwrap_err();
        assert_eq!(err.at, "comments.csv line 4, column approved", "{err}");
        let err = parse_csv("id,title\n", COMMENTS_CSV).unwrap_err();
        assert_eq!(err.at, "pages.csv line 1", "{err}");
    }

    #[test]
    fn the_json_form_reads_like_the_tables() {
        let input = r#"{"pages": [{"id": "pg1", "slug": "hello", "url": "https://blog.example.org/hello/", "projectId": "pr1"}],
            "comments": [
              {"id": "c1", "pageId": "pg1", "created_at": "2024-05-01T10:00:00.25", "deletedAt": null, "by_email": "ada@example.org", "by_nickname": "Ada", "content": "Hi", "approved": true, "parentId": null},
              {"id": "c2", "pageId": "pg1", "created_at": "2024-05-01T11:00:00", "deletedAt": "2024-05-02T00:00:00", "by_nickname": "Bo", "content": "gone", "approved": true, "parentId": "c1"}]}"#;
        let comments = parse_json(input).unwrap();
        assert_eq!(comments[0].post, Ok("/hello/".into()));
        assert_eq!(comments[0].created_ms, Ok(1_714_557_600_250));
        assert_eq!(comments[0].excluded, None);
        assert_eq!(comments[1].excluded.as_deref(), Some("deleted in Cusdis"));
        let err = parse_json(&input.replace(
            r#""approved": true, "parentId": "c1""#,
            r#""approved": "yes", "parentId": "c1""#,
        ))
        .unwrap_err();
        assert_eq!(err.at, "comments[1].approved", "{err}");
    }

    proptest::proptest! {
        #[test]
        fn any_cut_of_the_csv_tables_is_read_or_refused(cut in 0..COMMENTS_CSV.len()) {
            if let Err(err) = parse_csv(PAGES_CSV, &COMMENTS_CSV[..cut]) {
                proptest::prop_assert!(err.at.starts_with("comments.csv line "), "{}", err);
            }
        }
    }
}
