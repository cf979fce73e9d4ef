#!/usr/bin/env python3
"""Writes the seed corpus, fuzz/corpus/<target>/, from the nasty cases below.

The corpus is committed; this script is how it was made and how to change it
(edit a list, run `python3 fuzz/make_corpus.py`, commit the result). Every
seed is a file named by what it tries, so a reviewer can read the corpus.
Run from anywhere; it rewrites only fuzz/corpus/.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures")

KEY = bytes([7] * 32)  # rust_aws_fuzz::KEY
SECRET = b"fuzz-secret-0123456789abcdef-0123456789"  # rust_aws_fuzz::SECRET


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def hm(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


MODERATION_KEY = hm(SECRET, b"rust-aws/v1/moderation-links")
CURSOR_KEY = hm(SECRET, b"rust-aws/v1/list-cursor")


def token(key, action, cid, expires):
    payload = f"{action}.{cid}.{expires}"
    return f"{payload}.{b64u(hm(key, payload.encode()))}"


def cursor(key, post, ms, cid):
    pos = f"{ms}.{cid}"
    return f"{b64u(pos.encode())}.{b64u(hm(key, (pos + chr(10) + post).encode())[:16])}"


# Text that must be refused, or accepted only as inert text, in every field.
NASTY_TEXT = {
    "nul": "a\x00b",
    "escape_sequence": "a\x1b[2Jb",
    "del_and_c1": "a\x7f\u0085b",
    "bidi_override": "admin\u202egnp.exe",
    "bidi_isolate": "a\u2066b\u2069",
    "zero_width": "a\u200bb\u200dc\ufeff",
    "crlf_bcc": "Hi\r\nBcc: victim@example.com",
    "lf_header": "Hi\nSubject: spoofed",
    "cr_only": "Hi\rTo: victim@example.com",
    "script": "<script>alert(1)</script>",
    "img_onerror": "<img src=x onerror=alert(1)>",
    "textarea_break": "</textarea><svg onload=alert(1)>",
    "quotes": "\"'`&amp;",
    "emoji_and_combining": "Zoe\u0308 \U0001f980",
    "long_line": "x" * 5001,
}

VALID_CONTACT = {"name": "Ann", "email": "ann@example.org", "subject": "Hello", "message": "Hi there"}
VALID_COMMENT = {"post": "/2026/11/p/", "name": "Bob", "email": "bob@example.org",
                 "url": "https://bob.example.net", "body": "Great write-up."}


def field_variants():
    """(label, fields) pairs: a valid submission with one field made nasty."""
    out = [("valid_contact", dict(VALID_CONTACT)), ("valid_comment", dict(VALID_COMMENT))]
    picks = ["crlf_bcc", "nul", "bidi_override", "zero_width", "script", "lf_header"]
    for base_name, base in (("contact", VALID_CONTACT), ("comment", VALID_COMMENT)):
        for field in base:
            for nasty in picks[:3] if field not in ("message", "body", "subject", "name") else picks:
                v = dict(base)
                v[field] = (base[field] + NASTY_TEXT[nasty]) if field != "email" else "a@b.c" + NASTY_TEXT[nasty]
                out.append((f"{base_name}_{field}_{nasty}", v))
    return out


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def urlencode(fields):
    from urllib.parse import quote_plus
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in fields.items())


def multipart(boundary, fields):
    body = "preamble\r\n"
    for k, v in fields.items():
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
    return body + f"--{boundary}--\r\n"


def body_json():
    t = "body_json"
    for label, f in field_variants()[:30]:
        write(t, label, json.dumps(f, ensure_ascii=False))
    write(t, "deep_10k_arrays", "[" * 10_000 + "]" * 10_000)
    write(t, "deep_10k_objects", '{"a":' * 10_000 + "1" + "}" * 10_000)
    write(t, "deep_in_field", '{"name":' + "[" * 10_000 + "]" * 10_000 + "}")
    write(t, "duplicate_keys", '{"name":"A","name":"B","email":"a@b.c","message":"hi"}')
    write(t, "duplicate_honeypot", '{"_gotcha":"","_gotcha":"x"}')
    write(t, "huge_numbers", '{"name":1e999999,"email":123456789012345678901234567890,"message":-0}')
    write(t, "non_string_values", '{"name":true,"email":null,"message":{"a":[1]},"subject":[]}')
    write(t, "invalid_utf8", b'{"name":"\xff\xfe","email":"a@b.c","message":"\xc0\xaf"}')
    write(t, "lone_surrogate_escape", '{"name":"\\ud800","email":"a@b.c","message":"\\udfff x"}')
    write(t, "escaped_nul_crlf", '{"name":"A\\u0000","email":"a@b.c\\r\\nBcc: x@y","message":"hi\\r\\n"}')
    write(t, "bom_prefix", "\ufeff" + json.dumps(VALID_CONTACT))
    write(t, "trailing_garbage", json.dumps(VALID_CONTACT) + " trailing")
    write(t, "not_an_object", '["name","Ann"]')


def body_form():
    t = "body_form"
    for label, f in field_variants()[:30]:
        write(t, label, urlencode(f))
    write(t, "invalid_utf8_value", b"name=%FF%FE&email=a%40b.c&message=%C0%AF")
    write(t, "invalid_utf8_name", b"%FF=1&name=A")
    write(t, "raw_invalid_utf8", b"name=\xff&message=\xed\xa0\x80")
    write(t, "truncated_percent", "name=%&email=%4&message=%zz")
    write(t, "duplicate_keys", "name=A&name=B&email=a%40b.c&message=hi")
    write(t, "no_equals_and_empty_pairs", "&&name&=&==&message==x=")
    write(t, "crlf_raw", "name=A%0D%0ABcc:%20x@y&email=a%40b.c%0D%0ATo:%20y@z&message=hi")
    write(t, "plus_and_nul", "name=a+%00+b&email=a%40b.c&message=%00")
    write(t, "honeypot_filled", urlencode({**VALID_CONTACT, "_gotcha": "http://spam"}))
    write(t, "redirect_javascript", urlencode({**VALID_CONTACT, "_redirect": "javascript:alert(1)"}))


def body_multipart():
    t = "body_multipart"
    b = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    for label, f in field_variants()[:24]:
        write(t, label, b + "\n" + multipart(b, f))
    write(t, "file_part", "XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--XyZ--\r\n")
    write(t, "no_closing_boundary", "XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end")
    write(t, "invalid_utf8_value", b"XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n\xff\xfe\r\n--XyZ--\r\n")
    write(t, "invalid_utf8_headers", b"XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"\xff\"\r\n\r\nx\r\n--XyZ--\r\n")
    write(t, "crlf_in_name_param", "XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"a\r\nBcc: x\"\r\n\r\nx\r\n--XyZ--\r\n")
    write(t, "boundary_in_value", "XyZ\n--XyZ\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\n--XyZ not a delimiter\r\n--XyZ--\r\n")
    write(t, "empty_form", "XyZ\n--XyZ--\r\n")
    write(t, "headerless_part", "XyZ\n--XyZ\r\n\r\nx\r\n--XyZ--\r\n")
    write(t, "duplicate_fields", "XyZ\n" + multipart("XyZ", {"name": "A"}) .replace("--XyZ--", "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nB\r\n--XyZ--"))
    write(t, "quoted_boundary_70", ("\"" + "b" * 70 + "\"") + "\n" + multipart("b" * 70, VALID_CONTACT))
    write(t, "padding_after_delimiter", "XyZ\n--XyZ \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ--")


def content_type():
    t = "content_type"
    for name, v in [
        ("json", "application/json"), ("json_utf8", "Application/JSON; charset=UTF-8"),
        ("json_latin1", "application/json; charset=latin1"), ("form", "application/x-www-form-urlencoded"),
        ("multipart", "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk"),
        ("multipart_quoted", 'multipart/form-data; boundary="a b"'), ("multipart_empty", "multipart/form-data; boundary="),
        ("multipart_71", "multipart/form-data; boundary=" + "x" * 71), ("multipart_unicode", "multipart/form-data; boundary=\u00e9"),
        ("crlf", "application/json\r\nX-Injected: 1"), ("nul", "application/json\x00"),
        ("accept_list", "text/html, application/json;q=0.9"), ("many_params", "a/b" + ";x=y" * 200),
        ("origin", "HTTPS://Blog.Example.com:8443/a/b?c#d"), ("origin_userinfo", "https://user@evil.com@good.com/"),
        ("origin_backslash", "https:\\\\evil.com"), ("origin_tab", "https://good.com\t.evil.com/"),
        ("origin_js", "javascript:alert(1)//https://good.com"), ("origin_fragment", "https://a/p?x=1#form"),
        ("origin_bidi", "https://good.com\u202e/moc.live"), ("origin_zero_width", "https://goo\u200bd.com/"),
        ("origin_ipv6", "http://[::1]:3000/"), ("origin_nul", "https://a\x00b/"),
        ("invalid_utf8", b"application/json; charset=\xff"),
    ]:
        write(t, name, v)


def token_seeds():
    t = "token"
    good = token(KEY, "approve", "abc123", 2000)
    write(t, "valid", good)
    write(t, "expired", token(KEY, "delete", "0123456789abcdef0123456789abcdef", 999))
    write(t, "action_swapped", good.replace("approve", "delete", 1))
    write(t, "id_changed", good.replace("abc123", "abc124", 1))
    write(t, "expiry_changed", good.replace("2000", "9000", 1))
    write(t, "expiry_leading_zero", token(KEY, "approve", "abc123", "02000"))
    write(t, "expiry_huge", token(KEY, "approve", "abc123", "99999999999999999999999"))
    write(t, "expiry_negative", token(KEY, "approve", "abc123", "-1"))
    write(t, "extra_part", good + ".extra")
    write(t, "truncated_tag", good[:-2])
    write(t, "padded_tag", good + "=")
    write(t, "std_alphabet_tag", good.replace("-", "+").replace("_", "/"))
    write(t, "empty_parts", "....")
    write(t, "over_200", "a" * 201)
    write(t, "dots_in_id", token(KEY, "approve", "a.b", 2000))
    write(t, "crlf", good + "\r\n")
    write(t, "unicode_action", token(KEY, "appr\u00f6ve", "abc", 2000))
    write(t, "nul", "approve.\x00.2000.AAAA")


def cursor_seeds():
    t = "cursor"
    good = cursor(KEY, "/a/", 1_700_000_000_000, "ab12")
    write(t, "valid", good)
    write(t, "other_post", cursor(KEY, "/b/", 5, "ab"))
    write(t, "forged_position", b64u(b"6.ab") + "." + good.split(".", 1)[1])
    write(t, "huge_ms", cursor(KEY, "/a/", "184467440737095516160", "x"))
    write(t, "negative_ms", cursor(KEY, "/a/", "-1", "x"))
    write(t, "newline_in_id", cursor(KEY, "/a/", 5, "x\n/b/"))
    write(t, "invalid_utf8_position", b64u(b"5.\xff") + ".AAAAAAAAAAAAAAAAAAAAAA")
    write(t, "long_tag", good + "AAAA")
    write(t, "short_tag", good[:-4])
    write(t, "padding", good + "==")
    write(t, "over_256", "A" * 300)
    write(t, "junk", "%%%.%%%")
    write(t, "empty", "")
    write(t, "dot", ".")


def query_seeds():
    t = "query"
    # First byte picks the route: 0 list, 1 count, 2 moderation page.
    app_token = token(MODERATION_KEY, "approve", "0123456789abcdef0123456789abcdef", 4_000_000_000)
    app_cursor = cursor(CURSOR_KEY, "/p/", 1_700_000_000_000, "0123456789abcdef0123456789abcdef")
    seeds = [
        ("list", 0, "post=/2026/11/p/"), ("list_limit", 0, "post=/p/&limit=100"),
        ("list_limit_huge", 0, "post=/p/&limit=18446744073709551616"), ("list_limit_negative", 0, "post=/p/&limit=-1"),
        ("list_cursor", 0, f"post=/p/&cursor={app_cursor}"), ("list_cursor_other_post", 0, f"post=/q/&cursor={app_cursor}"),
        ("list_duplicate_post", 0, "post=/a/&post=/b/"), ("list_invalid_utf8", 0, b"post=%FF%FE"),
        ("list_nul", 0, "post=%00"), ("list_bidi", 0, "post=%E2%80%AE"), ("list_zero_width", 0, "post=%E2%80%8B"),
        ("list_crlf", 0, "post=/p/%0D%0ASet-Cookie:%20x=1"), ("list_script", 0, "post=%3Cscript%3Ealert(1)%3C/script%3E"),
        ("list_513", 0, "post=" + "x" * 513),
        ("count", 1, "post=/a/&post=/b/&post=/a/"), ("count_51", 1, "&".join(f"post=/p{i}/" for i in range(51))),
        ("count_invalid_utf8", 1, b"post=%FF"), ("count_replacement_char", 1, "post=%EF%BF%BD"), ("count_empty", 1, ""),
        ("moderate_signed", 2, f"token={app_token}"), ("moderate_forged", 2, "token=approve.x.9999999999.AAAA"),
        ("moderate_script", 2, "token=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"), ("moderate_duplicate", 2, f"token={app_token}&token=x"),
    ]
    for name, route, q in seeds:
        if isinstance(q, str):
            q = q.encode()
        write(t, name, bytes([route]) + q)


def event_seeds():
    t = "event"
    fixtures = {}
    for name in sorted(os.listdir(FIXTURES)):
        with open(os.path.join(FIXTURES, name)) as f:
            fixtures[name] = json.load(f)
        write(t, "fixture_" + name.replace(".json", ""), json.dumps(fixtures[name]))
    v2 = fixtures["apigw-v2-http-api.json"]

    def variant(name, body=None, b64=False, ct="application/json", path="/contact", method="POST", headers=None, query="", ctx=None, claim_b64=False):
        e = json.loads(json.dumps(v2))
        e["rawPath"] = path
        e["rawQueryString"] = query
        e["requestContext"]["http"]["method"] = method
        e["requestContext"]["http"]["path"] = path
        e["headers"]["content-type"] = ct
        for k, val in (headers or {}).items():
            if val is None:
                e["headers"].pop(k, None)
            else:
                e["headers"][k] = val
        if ctx:
            e["requestContext"].update(ctx)
        if body is None:
            e["body"] = None
        elif b64:
            e["body"] = base64.b64encode(body if isinstance(body, bytes) else body.encode()).decode()
        else:
            e["body"] = body
        e["isBase64Encoded"] = b64 or claim_b64
        write(t, name, json.dumps(e, ensure_ascii=False))

    variant("contact_crlf_everywhere", json.dumps({k: v + "\r\nBcc: victim@example.com" for k, v in VALID_CONTACT.items()}))
    variant("comment_script", json.dumps({**VALID_COMMENT, "name": NASTY_TEXT["script"], "body": NASTY_TEXT["textarea_break"]}), path="/comment")
    variant("comment_bidi_zero_width", json.dumps({**VALID_COMMENT, "post": "/p/\u202e", "name": "a\u200bb"}), path="/comment")
    variant("form_base64", urlencode(VALID_CONTACT), b64=True, ct="application/x-www-form-urlencoded", headers={"accept": "text/html"})
    variant("form_base64_invalid_utf8", b"name=\xff&email=a%40b.c&message=hi", b64=True, ct="application/x-www-form-urlencoded")
    variant("multipart_base64", multipart("XyZ", VALID_CONTACT), b64=True, ct="multipart/form-data; boundary=XyZ")
    variant("deep_json", "[" * 10_000 + "]" * 10_000)
    variant("duplicate_keys", '{"name":"A","name":"B","email":"a@b.c","message":"hi"}')
    variant("huge_numbers", '{"name":1e999999,"email":123456789012345678901234567890,"message":"x"}')
    variant("foreign_origin", json.dumps(VALID_CONTACT), headers={"origin": "https://evil.example"})
    variant("null_origin", json.dumps(VALID_CONTACT), headers={"origin": "null"})
    variant("spoofed_xff", json.dumps(VALID_CONTACT), headers={"x-forwarded-for": "1.2.3.4, 5.6.7.8"})
    variant("host_header_poison", json.dumps(VALID_COMMENT), path="/comment", headers={"host": "evil.example"})
    variant("domain_name_poison", json.dumps(VALID_COMMENT), path="/comment", ctx={"domainName": "evil.example/x?"})
    variant("options_preflight", None, method="OPTIONS", headers={"origin": "https://blog.example.com"})
    variant("wrong_method", None, method="DELETE")
    variant("unknown_path", None, path="/admin", method="GET")
    variant("list_query", None, path="/comment", method="GET", query="post=%2Fp%2F&limit=5")
    variant("moderate_get", None, path="/comment/moderate", method="GET", query="token=approve.x.1.AAAA")
    variant("moderate_post", "token=approve.x.1.AAAA", path="/comment/moderate", ct="application/x-www-form-urlencoded")
    variant("oversized", json.dumps({**VALID_CONTACT, "message": "x" * 140_000}))
    variant("text_plain", "hi", ct="text/plain")
    # Not from API Gateway (it always encodes correctly): a direct Invoke only.
    variant("base64_invalid", "name=Ann&x=%", ct="application/x-www-form-urlencoded", claim_b64=True)
    write(t, "not_json", b"\xff\xfe{")
    write(t, "empty_object", "{}")


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    body_json()
    body_form()
    body_multipart()
    content_type()
    token_seeds()
    cursor_seeds()
    query_seeds()
    event_seeds()
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        print(f"{t}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
