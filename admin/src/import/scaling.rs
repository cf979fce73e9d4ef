//! The importer's cost grows with the file, nothing else: synthetic Disqus
//! exports (made-up readers) of growing size, read and planned.

use std::time::{Duration, Instant};

use super::{Format, disqus, plan, tests::NOW};

/// A Disqus export of `comments` comments: ten a page, every third a reply
/// to the one before it (so reply chains run through each page), HTML
/// bodies with a link, as Disqus writes them.
pub(crate) fn synthetic_disqus(comments: usize) -> String {
    let mut xml = String::with_capacity(comments * 700);
    xml.push_str(concat!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
        "<disqus xmlns=\"http://disqus.com\" xmlns:dsq=\"http://disqus.com/disqus-internals\">\n",
        "  <category dsq:id=\"1\"><forum>example</forum><title>General</title></category>\n",
    ));
    for page in 0..comments.div_ceil(10) {
        xml.push_str(&format!(
            "  <thread dsq:id=\"t{page}\">\n    <id>page-{page}</id><forum>example</forum><category dsq:id=\"1\"/>\n    <link>https://blog.example.org/{}/{page}/</link><title>Page {page}</title>\n    <createdAt>2024-01-01T08:00:00Z</createdAt><isClosed>false</isClosed><isDeleted>false</isDeleted>\n  </thread>\n",
            2020 + page % 5
        ));
    }
    for n in 0..comments {
        let parent = if n % 3 == 2 {
            format!("<parent dsq:id=\"p{}\"/>", n - 1)
        } else {
            String::new()
        };
        xml.push_str(&format!(
            "  <post dsq:id=\"p{n}\">\n    <id/>\n    <message><![CDATA[<p>Comment number {n} &amp; a thought about page {page}.</p><p>See <a href=\"https://www.example.com/articles/{n}/a-rather-long-path\" rel=\"nofollow noopener\" title=\"https://www.example.com/articles/{n}/a-rather-long-path\">https://www.example.com/articles/{n}/a-ra...</a> for more.</p>]]></message>\n    <createdAt>2024-02-{:02}T{:02}:{:02}:00Z</createdAt>\n    <isDeleted>false</isDeleted><isSpam>{}</isSpam>\n    <author><email>reader{n}@example.org</email><name>Reader {n}</name><isAnonymous>false</isAnonymous><username>reader{n}</username></author>\n    <thread dsq:id=\"t{page}\"/>{parent}\n  </post>\n",
            1 + n % 28,
            n % 24,
            n % 60,
            n % 50 == 49,
            page = n / 10,
        ));
    }
    xml.push_str("</disqus>\n");
    xml
}

/// Reads and plans an export: everything an import does before writing.
fn read(xml: &str) -> usize {
    let items = disqus::parse(xml, &|_| {}).unwrap();
    plan(Format::Disqus, items, NOW).comments.len()
}

/// The best of a few runs, which the machine's other work disturbs least.
fn best_time(xml: &str) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            assert!(read(xml) > 0);
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn four_times_the_comments_take_far_less_than_sixteen_times_as_long() {
    let small = synthetic_disqus(1_500);
    let large = synthetic_disqus(6_000);
    assert_eq!(
        read(&large),
        6_000 - 6_000 / 50,
        "every comment but the spam"
    );
    let (small_time, large_time) = (best_time(&small), best_time(&large));
    assert!(
        // Linear is 4x, quadratic 16x: 10x tells them apart with room for a
        // loaded machine (5x failed about one run in six under parallel builds).
        large_time <= small_time * 10,
        "1,500 comments in {small_time:?}, 6,000 in {large_time:?}: not linear"
    );
}

/// The importer's times for the sizes PRODUCT.md names; run with
/// `cargo test --release --lib -- --ignored --nocapture read_times`.
#[test]
#[ignore = "a measurement, not a check: prints the times"]
fn read_times_of_large_disqus_exports() {
    for comments in [5_000, 20_000, 100_000] {
        let xml = synthetic_disqus(comments);
        let time = best_time(&xml);
        println!(
            "{comments} comments ({:.1} MB): read and planned in {time:.2?}",
            xml.len() as f64 / 1e6
        );
    }
}
