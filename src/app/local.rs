//! The local HTTP server: the same [`App`] on `127.0.0.1`, for laptops.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::app::App;
use crate::web::request::{BodyTooLarge, LocalContext};

/// Bodies above this are refused before buffering (the app's own limit is 128 KiB).
const READ_LIMIT: usize = 1024 * 1024;

/// Serves `app` on `127.0.0.1:port` until the process ends.
pub async fn serve(app: App, port: u16) -> std::io::Result<()> {
    let listener =
        TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    tracing::info!(
        "listening on {base_url} (in-memory store unless TABLE_NAME is set; try POST {base_url}/contact)"
    );
    serve_on(listener, app, base_url).await
}

/// Serves on an already bound listener (tests bind port 0).
pub async fn serve_on(listener: TcpListener, app: App, base_url: String) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let app = app.clone();
        let base_url = base_url.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let app = app.clone();
                let base_url = base_url.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(answer(app, req, peer.ip(), base_url).await)
                }
            });
            if let Err(e) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended");
            }
        });
    }
}

async fn answer(
    app: App,
    req: hyper::Request<hyper::body::Incoming>,
    peer: IpAddr,
    base_url: String,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let (bytes, too_large) = match Limited::new(body, READ_LIMIT).collect().await {
        Ok(b) => (b.to_bytes(), false),
        Err(_) => (Bytes::new(), true),
    };
    let mut req = http::Request::from_parts(parts, Body::from(bytes.to_vec()));
    if too_large {
        req.extensions_mut().insert(BodyTooLarge);
    }
    req.extensions_mut().insert(LocalContext {
        peer,
        request_id: crate::domain::ids::new_id(),
        base_url,
    });
    let Ok(res) = app.oneshot(req).await;
    let (parts, body) = res.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(t) => Bytes::from(t),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}
