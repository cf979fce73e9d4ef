//! Origins of URLs, for the origin rule and the redirect targets of plain forms.

/// The lowercase `scheme://host[:port]` of an absolute http(s) URL, or `None`
/// (also for URLs with credentials, which have no business in a redirect).
pub fn origin_of_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#', '\\']).next()?;
    if authority.is_empty()
        || authority.contains('@')
        || authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    Some(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// `url` with `key=value` added to its query (before any fragment).
pub fn append_query(url: &str, key: &str, value: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let pair: String = form_urlencoded::Serializer::new(String::new())
        .append_pair(key, value)
        .finish();
    match fragment {
        Some(f) => format!("{base}{sep}{pair}#{f}"),
        None => format!("{base}{sep}{pair}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_is_scheme_host_and_port_lowercased() {
        assert_eq!(
            origin_of_url("HTTPS://Blog.Example.com:8443/a/b?c").as_deref(),
            Some("https://blog.example.com:8443")
        );
        assert_eq!(
            origin_of_url("https://example.com").as_deref(),
            Some("https://example.com")
        );
    }

    #[test]
    fn non_http_or_credentialed_urls_have_no_origin() {
        for u in [
            "javascript:alert(1)",
            "/relative",
            "https://user@evil.com@good.com/",
            "ftp://x",
            "https://",
            "https:\\\\evil.com",
        ] {
            assert_eq!(origin_of_url(u), None, "{u}");
        }
    }

    #[test]
    fn append_query_keeps_existing_query_and_fragment() {
        assert_eq!(
            append_query("https://a/p", "error", "rate_limited"),
            "https://a/p?error=rate_limited"
        );
        assert_eq!(
            append_query("https://a/p?x=1#form", "error", "x"),
            "https://a/p?x=1&error=x#form"
        );
    }
}
