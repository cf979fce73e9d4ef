//! Isso's SQLite database: `threads(id, uri, title)` and `comments(tid, id,
//! parent, created, modified, mode, remote_addr, text, author, email, website,
//! likes, dislikes, voters, notification)`; `created` is Unix seconds as a
//! float, `mode` 1 published, 2 waiting for moderation, 4 deleted (kept while
//! it has replies). `text` is what the reader typed (Markdown), kept as is.

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use super::{FormatError, SourceComment, post_from_link};

const QUERY: &str = "SELECT c.id, c.parent, c.created, c.mode, c.text, c.author, c.email, \
                     c.website, t.uri FROM comments AS c LEFT JOIN threads AS t ON c.tid = t.id \
                     ORDER BY c.id";

fn text(value: Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Null | Value::Blob(_) => None,
    }
}

fn created_ms(value: Value) -> Result<u64, String> {
    let seconds = match value {
        Value::Real(f) => f,
        Value::Integer(i) => i as f64,
        Value::Text(s) => s.trim().parse().map_err(|_| format!("bad date {s:?}"))?,
        Value::Null | Value::Blob(_) => return Err("no date".to_owned()),
    };
    if !seconds.is_finite() || !(0.0..=1e11).contains(&seconds) {
        return Err(format!("bad date {seconds}"));
    }
    Ok((seconds * 1000.0).round() as u64)
}

/// Reads an Isso database, opened read-only.
pub fn read(path: &Path) -> Result<Vec<SourceComment>, FormatError> {
    let file = path.display().to_string();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| FormatError::new(&file, e))?;
    let mut statement = conn
        .prepare(QUERY)
        .map_err(|e| FormatError::new(format!("{file}: tables comments and threads"), e))?;
    let rows = statement
        .query_map([], |row| {
            let mut values = (0..9)
                .map(|i| row.get::<_, Value>(i))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter();
            let mut next = || values.next().unwrap_or(Value::Null);
            let (id, parent, created, mode) = (next(), next(), next(), next());
            let (body, author, email, website, uri) = (next(), next(), next(), next(), next());
            let mode = match mode {
                Value::Integer(m) => m,
                _ => 0,
            };
            let excluded = match mode {
                1 => None,
                2 => Some("waiting for moderation in Isso".to_owned()),
                4 => Some("deleted in Isso".to_owned()),
                other => Some(format!("Isso mode {other}")),
            };
            Ok(SourceComment {
                source_id: text(id).unwrap_or_default(),
                parent: text(parent),
                post: text(uri).map_or_else(
                    || Err("its thread is not in the database".to_owned()),
                    |u| post_from_link(&u),
                ),
                name: text(author).unwrap_or_default(),
                email: text(email),
                url: text(website),
                body: text(body).unwrap_or_default(),
                created_ms: created_ms(created),
                excluded,
            })
        })
        .map_err(|e| FormatError::new(&file, e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| FormatError::new(&file, e))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Isso's schema, as its `isso/db/` modules create it.
    pub(crate) const SCHEMA: &str = "
        CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
        CREATE TABLE comments (
            tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
            created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
            text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
            likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
            notification INTEGER DEFAULT 0);";

    fn db(name: &str, sql: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("isso-{}-{name}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let conn = Connection::open(&path).unwrap();
        // Isso's own connections leave foreign keys unchecked; a comment of a
        // missing thread is what this test is about.
        conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(sql).unwrap();
        path
    }

    #[test]
    fn comments_keep_thread_author_and_mode() {
        let path = db(
            "modes",
            "INSERT INTO threads VALUES (1, '/2024/05/isso/', 'Isso');
             INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email, website, voters)
               VALUES (1, 1, NULL, 1714557600.25, 1, '192.0.2.0', 'Hello *world*', 'Ada', 'ada@example.org', 'https://ada.example.org', x'00'),
                      (1, 2, 1, 1714561200.0, 2, '192.0.2.0', 'pending', NULL, NULL, NULL, x'00'),
                      (1, 3, 1, 1714561200.0, 4, '192.0.2.0', '', NULL, NULL, NULL, x'00'),
                      (9, 4, NULL, 'yesterday', 1, '192.0.2.0', 'orphan', 'Bo', NULL, NULL, x'00');",
        );
        let comments = read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(comments.len(), 4);
        assert_eq!(comments[0].post, Ok("/2024/05/isso/".into()));
        assert_eq!(comments[0].body, "Hello *world*");
        assert_eq!(comments[0].created_ms, Ok(1_714_557_600_250));
        assert_eq!(comments[1].parent.as_deref(), Some("1"));
        assert!(
            comments[1]
                .excluded
                .as_deref()
                .unwrap()
                .contains("moderation")
        );
        assert!(comments[2].excluded.as_deref().unwrap().contains("deleted"));
        assert!(comments[3].post.is_err(), "thread 9 does not exist");
        assert!(comments[3].created_ms.is_err(), "a text date");
    }

    #[test]
    fn a_file_that_is_not_an_isso_database_is_refused() {
        let path = std::env::temp_dir().join(format!("isso-{}-not.db", std::process::id()));
        std::fs::write(&path, "this is not SQLite").unwrap();
        let err = read(&path).unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert!(err.message.contains("not a database"), "{err}");
    }
}
