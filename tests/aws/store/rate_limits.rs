//! `store::RateLimits`: one counter per route, source and minute; every hit
//! counted exactly once, however many arrive together.

use rust_aws::store::RateWindow;

use super::*;

conformance!(
    rate_windows_count_per_route_source_and_minute,
    concurrent_hits_are_each_counted_once,
);

async fn rate_windows_count_per_route_source_and_minute(store: Subject) {
    let minute = now_ms() / 60_000;
    let source = new_id();
    let w = |route, source, minute| RateWindow {
        route,
        source,
        minute,
    };
    for n in 1..=3 {
        assert_eq!(
            store
                .hit_rate(&w("/comment", &source, minute))
                .await
                .unwrap(),
            n
        );
    }
    assert_eq!(
        store
            .hit_rate(&w("/contact", &source, minute))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .hit_rate(&w("/comment", "other", minute))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .hit_rate(&w("/comment", &source, minute + 1))
            .await
            .unwrap(),
        1
    );
}

async fn concurrent_hits_are_each_counted_once(store: Subject) {
    let (source, minute) = (new_id(), now_ms() / 60_000);
    let mut counts = concurrently(20, || {
        let (store, source) = (store.clone(), source.clone());
        async move {
            let window = RateWindow {
                route: "/comment",
                source: &source,
                minute,
            };
            store.hit_rate(&window).await.unwrap()
        }
    })
    .await;
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=20).collect::<Vec<_>>(),
        "every hit counted, none twice"
    );
}
