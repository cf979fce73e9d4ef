//! The route table: every `(method, path)` the function serves and its
//! handler, in one list. The router, the `Allow` header, the contract that
//! `template.yaml` is checked against and the contract test all read it.
//!
//! One module per resource beside it; handlers take what they need from
//! [`State`] and the [`RequestInfo`], never from the router.

pub(crate) mod admin;
pub(crate) mod comment;
pub(crate) mod contact;
pub(crate) mod feed;
pub(crate) mod moderate;
pub(crate) mod subscription;
pub(crate) mod widget;

use http::Response;
use lambda_http::{Body, Request};

use crate::BoxFuture;
use crate::config::state::State;
use crate::web::error::ApiError;
use crate::web::request::RequestInfo;
use crate::web::submit;

/// A handler: answers every outcome itself (errors included), so the router
/// only dispatches.
pub(crate) type Handler =
    for<'a> fn(&'a State, &'a RequestInfo, Request) -> BoxFuture<'a, Response<Body>>;

/// One row of the table.
#[derive(Clone, Copy)]
pub(crate) struct Route {
    /// `GET`, `POST`… (`HEAD` and `OPTIONS` are implied, see [`allow`]).
    pub method: &'static str,
    /// The exact path, after any stage prefix is removed.
    pub path: &'static str,
    /// What answers it.
    pub handler: Handler,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Every route the function serves.
pub(crate) const TABLE: &[Route] = &[
    Route {
        method: "GET",
        path: "/comment",
        handler: |s, i, r| Box::pin(async move { json(i, comment::list(s, &r).await) }),
    },
    Route {
        method: "POST",
        path: "/comment",
        handler: |s, i, r| Box::pin(submit::run::<comment::CommentForm>(s, i, r)),
    },
    Route {
        method: "GET",
        path: "/comment/count",
        handler: |s, i, r| Box::pin(async move { json(i, comment::count(s, &r).await) }),
    },
    Route {
        method: "GET",
        path: "/comment/feed",
        handler: |s, i, r| Box::pin(async move { json(i, feed::atom(s, i, &r).await) }),
    },
    Route {
        method: "GET",
        path: "/comment/moderate",
        handler: |s, _, r| Box::pin(async move { moderate::show(s, &r).await }),
    },
    Route {
        method: "POST",
        path: "/comment/moderate",
        handler: |s, i, r| Box::pin(moderate::decide(s, i, r)),
    },
    Route {
        method: "GET",
        path: "/comment/notify",
        handler: |s, _, r| Box::pin(async move { subscription::show(s, &r).await }),
    },
    Route {
        method: "POST",
        path: "/comment/notify",
        handler: |s, i, r| Box::pin(subscription::act(s, i, r)),
    },
    Route {
        method: "POST",
        path: "/contact",
        handler: |s, i, r| Box::pin(submit::run::<contact::ContactForm>(s, i, r)),
    },
    Route {
        method: "GET",
        path: "/embed.js",
        handler: |_, _, r| Box::pin(std::future::ready(widget::SCRIPT.respond(r.headers()))),
    },
    Route {
        method: "GET",
        path: "/embed.css",
        handler: |_, _, r| Box::pin(std::future::ready(widget::STYLESHEET.respond(r.headers()))),
    },
    // The owner's console (routes/admin.rs).
    Route {
        method: "GET",
        path: "/admin",
        handler: |s, i, r| Box::pin(async move { admin::home(s, i, &r).await }),
    },
    Route {
        method: "POST",
        path: "/admin/link",
        handler: |s, i, r| Box::pin(admin::link(s, i, r)),
    },
    Route {
        method: "GET",
        path: "/admin/sign-in",
        handler: |s, i, r| Box::pin(async move { admin::sign_in_link(s, i, &r).await }),
    },
    Route {
        method: "POST",
        path: "/admin/sign-in",
        handler: |s, i, r| Box::pin(admin::sign_in(s, i, r)),
    },
    Route {
        method: "POST",
        path: "/admin/sign-out",
        handler: |s, i, r| Box::pin(admin::sign_out(s, i, r)),
    },
    Route {
        method: "POST",
        path: "/admin/decide",
        handler: |s, i, r| Box::pin(admin::decide(s, i, r)),
    },
    Route {
        method: "GET",
        path: "/admin/published",
        handler: |s, i, r| Box::pin(async move { admin::published(s, i, &r).await }),
    },
    Route {
        method: "GET",
        path: "/admin/spam",
        handler: |s, i, r| Box::pin(async move { admin::spam_folder(s, i, &r).await }),
    },
    Route {
        method: "POST",
        path: "/admin/spam",
        handler: |s, i, r| Box::pin(admin::spam_action(s, i, r)),
    },
    Route {
        method: "GET",
        path: "/admin/outbox",
        handler: |s, i, r| Box::pin(async move { admin::outbox(s, i, &r).await }),
    },
    Route {
        method: "POST",
        path: "/admin/outbox",
        handler: |s, i, r| Box::pin(admin::retry(s, i, r)),
    },
    Route {
        method: "GET",
        path: "/admin/console.css",
        handler: |_, _, r| Box::pin(std::future::ready(admin::STYLESHEET.respond(r.headers()))),
    },
];

/// An API answer: the success as is, an error in the API's JSON error shape.
fn json(info: &RequestInfo, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|e| crate::web::respond::error(&e, &info.request_id))
}

/// The routes on `path`, in table order.
pub(crate) fn on(path: &str) -> impl Iterator<Item = &'static Route> + '_ {
    TABLE.iter().filter(move |r| r.path == path)
}

/// The `Allow` value of `path` (`None`: no such path): its methods, `HEAD`
/// wherever `GET` is, and `OPTIONS`.
pub(crate) fn allow(path: &str) -> Option<String> {
    let mut methods: Vec<&str> = Vec::new();
    for route in on(path) {
        methods.push(route.method);
        if route.method == "GET" {
            methods.push("HEAD");
        }
    }
    if methods.is_empty() {
        return None;
    }
    methods.push("OPTIONS");
    Some(methods.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_head_beside_get_and_options_last() {
        assert_eq!(
            allow("/comment").as_deref(),
            Some("GET, HEAD, POST, OPTIONS")
        );
        assert_eq!(allow("/contact").as_deref(), Some("POST, OPTIONS"));
        assert_eq!(allow("/nowhere"), None);
    }

    #[test]
    fn no_route_appears_twice() {
        for (i, a) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..]
                    .iter()
                    .all(|b| (a.method, a.path) != (b.method, b.path)),
                "{a:?} twice"
            );
        }
    }
}
