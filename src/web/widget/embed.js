/* rust-aws widget: comments, comment counts and a contact form for any page.
 * Served by the API itself as GET /embed.js; no framework, no build step.
 * Every node is built with createElement/textContent and styled by class only,
 * so it runs under a strict Content-Security-Policy (no inline script or
 * style, no eval) and no comment text can ever become markup. */
(() => {
  "use strict";
  const me = document.currentScript || document.querySelector("script[src*='/embed.js']");
  // The API is wherever this script came from (a stage prefix included).
  const API = me.src.replace(/\/embed\.js([?#].*)?$/, "");

  const STRINGS = {
    en: {
      comments: "Comments", none: "No comments yet.", loading: "Loading comments…",
      loadFailed: "Comments could not be loaded.", more: "Load more comments", retry: "Try again",
      reply: "Reply", replyTo: "Reply to {name}", replying: "Replying to {name}",
      cancel: "Cancel reply", leave: "Leave a comment", name: "Name",
      email: "Email (optional, never shown)", url: "Website (optional)", body: "Comment",
      notify: "Email me replies (needs an email)", submit: "Post comment", sending: "Sending…",
      pending: "Awaiting moderation", thanksPending: "Thank you! Your comment awaits moderation.",
      published: "Your comment is published.", sent: "Thank you! Your message has been sent.",
      hp: "Leave this field empty", fix: "Please correct the marked fields.",
      required: "Please fill in this field.", tooShort: "Too short: at least {n} characters.",
      tooLong: "Too long: at most {n} characters.", invalid: "This value is not allowed.",
      badEmail: "Enter a valid email address.", badUrl: "Enter a web address starting with http:// or https://.",
      captcha: "Please complete the challenge.", rateLimited: "Too many submissions. Try again in {n} seconds.",
      busy: "The service is busy. Try again in a moment.", network: "The server could not be reached.",
      failed: "Something went wrong. Please try again.", feed: "Comments feed (Atom)",
      count: { zero: "No comments", one: "{n} comment", other: "{n} comments" },
    },
    de: {
      comments: "Kommentare", none: "Noch keine Kommentare.", loading: "Kommentare werden geladen…",
      loadFailed: "Die Kommentare konnten nicht geladen werden.", more: "Weitere Kommentare laden", retry: "Erneut versuchen",
      reply: "Antworten", replyTo: "{name} antworten", replying: "Antwort an {name}",
      cancel: "Antwort abbrechen", leave: "Kommentar schreiben", name: "Name",
      email: "E-Mail (optional, wird nie angezeigt)", url: "Website (optional)", body: "Kommentar",
      notify: "Antworten per E-Mail erhalten (braucht eine E-Mail)", submit: "Kommentar senden",
      sending: "Wird gesendet…", pending: "Wartet auf Freigabe",
      thanksPending: "Danke! Ihr Kommentar wartet auf Freigabe.", published: "Ihr Kommentar ist veröffentlicht.",
      sent: "Danke! Ihre Nachricht wurde gesendet.", hp: "Dieses Feld leer lassen",
      fix: "Bitte korrigieren Sie die markierten Felder.", required: "Bitte füllen Sie dieses Feld aus.",
      tooShort: "Zu kurz: mindestens {n} Zeichen.", tooLong: "Zu lang: höchstens {n} Zeichen.",
      invalid: "Dieser Wert ist nicht erlaubt.", badEmail: "Bitte eine gültige E-Mail-Adresse eingeben.",
      badUrl: "Bitte eine Adresse mit http:// oder https:// eingeben.", captcha: "Bitte lösen Sie die Prüfung.",
      rateLimited: "Zu viele Einsendungen. Bitte in {n} Sekunden erneut versuchen.",
      busy: "Der Dienst ist ausgelastet. Bitte gleich erneut versuchen.",
      network: "Der Server ist nicht erreichbar.", failed: "Etwas ist schiefgegangen. Bitte erneut versuchen.",
      feed: "Kommentar-Feed (Atom)",
      count: { zero: "Keine Kommentare", one: "{n} Kommentar", other: "{n} Kommentare" },
    },
  };

  // The server's rules, checked before sending: [required, min, max, kind]
  // with kind 1 = single line, 2 = multi-line, "email", "url".
  const COMMENT = { name: [1, 1, 100, 1], email: [0, 0, 254, "email"], url: [0, 0, 2048, "url"], body: [1, 2, 5000, 2] };
  const CONTACT = { name: [1, 1, 100, 1], email: [1, 0, 254, "email"], subject: [0, 1, 200, 1], message: [1, 1, 10000, 2] };
  const EMAIL = /^[\w.!#$%&'*+/=?^`{|}~-]+@[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?)*$/i;
  const SINGLE = /[\0-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;
  const MULTI = /[\0-\x08\v\f\x0e-\x1f\x7f-\x9f]/;
  const PENDING_DAYS = 30; // how long the server keeps an undecided comment
  const CAPTCHAS = {
    turnstile: ["https://challenges.cloudflare.com/turnstile/v0/api.js", "turnstile"],
    hcaptcha: ["https://js.hcaptcha.com/1/api.js", "hcaptcha"],
  };

  let ids = 0;
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };
  const fill = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => v[k]);
  const isWeb = (u) => { try { return /^https?:$/.test(new URL(u).protocol); } catch { return false; } };

  /** The strings for an element: its (or an ancestor's) data-lang, the
   * script's, the page's lang, English; window.rustAwsStrings overrides. */
  function strings(node) {
    const tag = node.closest("[data-lang]")?.dataset.lang || me.dataset.lang || document.documentElement.lang || "en";
    let lang = tag.toLowerCase().split("-")[0];
    try { new Intl.PluralRules(lang); } catch { lang = "en"; }
    const extra = window.rustAwsStrings || {};
    return Object.assign({}, STRINGS.en, extra.en, STRINGS[lang], extra[lang], { lang });
  }

  function check(value, [required, min, max, kind], S) {
    const v = value.trim();
    const n = [...v].length;
    if (!n) return required ? S.required : "";
    if (kind == "email") return n > max || !EMAIL.test(v) ? S.badEmail : "";
    if (kind == "url") return n > max || !isWeb(v) ? S.badUrl : "";
    if ((kind == 1 ? SINGLE : MULTI).test(v)) return S.invalid;
    return n < min ? fill(S.tooShort, { n: min }) : n > max ? fill(S.tooLong, { n: max }) : "";
  }

  /** Shows `msg` beside `input` (or clears it), tied by aria-describedby. */
  function mark(input, msg) {
    let p = input.racError;
    if (!p && !msg) return;
    if (!p) {
      p = input.racError = el("span", "rac-error");
      p.id = "rac-e" + ++ids;
      (input.closest("label") || input).after(p);
      input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + p.id).trim());
    }
    p.textContent = msg;
    p.hidden = !msg;
    if (msg) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function say(status, text, ok) {
    status.textContent = text;
    status.classList.toggle("rac-ok", !!ok);
  }

  /** Renders the captcha provider's widget into `form` when `host` names a
   * site key; returns a function that resets it (tokens are single-use). */
  function captcha(form, host, before) {
    const key = host.dataset.captchaSitekey;
    if (!key) return () => {};
    const [src, name] = CAPTCHAS[host.dataset.captcha] || CAPTCHAS.turnstile;
    const box = el("div", "rac-captcha");
    if (before) before.before(box);
    else form.append(box);
    let id;
    const render = () => { id = window[name].render(box, { sitekey: key }); };
    if (window[name]) render();
    else {
      const queue = (window.rustAwsCaptcha ||= []);
      queue.push(render);
      // Explicit rendering: the provider calls back once it has loaded.
      window.rustAwsCaptchaReady = () => queue.splice(0).forEach((f) => f());
      if (queue.length == 1) {
        const s = el("script");
        s.src = src + "?render=explicit&onload=rustAwsCaptchaReady";
        s.async = true;
        document.head.append(s);
      }
    }
    return () => id != null && window[name].reset(id);
  }

  /** Checks and posts `form`; field errors land beside their fields. */
  async function submit(form, url, rules, S, status, done, resetCaptcha) {
    let first;
    for (const name in rules) {
      const input = form.elements[name];
      if (!input || !input.name) continue;
      const msg = check(input.value, rules[name], S);
      mark(input, msg);
      if (msg) first ||= input;
    }
    if (first) {
      say(status, S.fix);
      return first.focus();
    }
    const button = form.querySelector("button:not([type=button]),input[type=submit]");
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    say(status, S.sending);
    let res, data;
    try {
      res = await fetch(url, { method: "POST", body: new FormData(form), headers: { Accept: "application/json" } });
      data = await res.json().catch(() => ({}));
    } catch {
      return say(status, S.network);
    } finally {
      if (button) button.disabled = false;
      form.removeAttribute("aria-busy");
    }
    resetCaptcha();
    if (res.ok) return done(data);
    let text = S.failed;
    if (data.error == "validation_failed") {
      text = S.fix;
      for (const f of data.fields || []) {
        const input = form.elements[f.field];
        const rule = rules[f.field] || [];
        const msg = f.field == "captcha" ? S.captcha
          : f.code == "required" ? S.required
          : f.code == "too_short" ? fill(S.tooShort, { n: rule[1] })
          : f.code == "too_long" ? fill(S.tooLong, { n: rule[2] })
          : rule[3] == "email" ? S.badEmail : rule[3] == "url" ? S.badUrl : f.message;
        if (input && input.name && input.type != "hidden") {
          mark(input, msg);
          first ||= input;
        } else text = msg;
      }
      first?.focus();
    } else if (data.error == "rate_limited") {
      text = fill(S.rateLimited, { n: res.headers.get("Retry-After") || 60 });
    } else if (data.error == "unavailable") text = S.busy;
    say(status, text);
  }

  function field(S, name, tag, attrs) {
    const wrap = el("div", "rac-field");
    const label = el("label", "", S[name]);
    const input = Object.assign(el(tag), { id: "rac-f" + ++ids, name }, attrs);
    label.htmlFor = input.id;
    wrap.append(label, input);
    return [wrap, input];
  }

  function honeypot(host, S) {
    const name = host.dataset.honeypot || "_gotcha";
    const [wrap] = field({ [name]: S.hp }, name, "input", { tabIndex: -1, autocomplete: "off" });
    wrap.className = "rac-hp";
    wrap.setAttribute("aria-hidden", "true");
    return wrap;
  }

  /** Comments kept by this browser until the list shows them approved. */
  const stash = {
    get(key) {
      try {
        const list = JSON.parse(localStorage.getItem(key)) || [];
        return list.filter((c) => Date.now() - Date.parse(c.created_at) < PENDING_DAYS * 864e5);
      } catch { return []; }
    },
    set(key, list) {
      try { list.length ? localStorage.setItem(key, JSON.stringify(list)) : localStorage.removeItem(key); } catch { /* storage off */ }
    },
  };

  function comments(root) {
    const S = strings(root);
    const post = root.dataset.post || location.pathname;
    const key = "rust-aws:" + post;
    const avatars = root.dataset.avatars != "off";
    const dates = new Intl.DateTimeFormat(S.lang, { dateStyle: "medium", timeStyle: "short" });
    const list = el("ol", "rac-list");
    const more = el("button", "rac-more", S.more);
    const status = el("p", "rac-status");
    const form = el("form", "rac-form");
    const replies = new Map();
    const seen = new Set();
    let cursor = null;
    let pending = stash.get(key);

    list.setAttribute("aria-label", S.comments);
    more.type = "button";
    more.hidden = true;
    status.setAttribute("role", "status");
    root.classList.add("rac");
    root.replaceChildren(list, more, status, form);
    if (root.dataset.feed != "off") {
      const feed = el("a", "rac-feed", S.feed);
      feed.href = API + "/comment/feed?post=" + encodeURIComponent(post);
      feed.type = "application/atom+xml";
      status.after(feed);
    }

    function render(c, waiting) {
      const li = el("li", "rac-comment" + (waiting ? " rac-pending" : ""));
      const head = el("div", "rac-head");
      const name = el(isWeb(c.url) ? "a" : "span", "rac-name", c.name);
      const time = el("time", "rac-time", dates.format(new Date(c.created_at)));
      li.id = "comment-" + c.id;
      li.tabIndex = -1;
      if (name.tagName == "A") {
        name.href = c.url;
        name.rel = "nofollow ugc noopener";
      }
      time.dateTime = c.created_at;
      if (avatars) {
        const img = el(c.avatar ? "img" : "span", "rac-avatar", c.avatar ? null : [...c.name.trim()][0]);
        if (c.avatar) {
          Object.assign(img, { alt: "", width: 40, height: 40, loading: "lazy", referrerPolicy: "no-referrer" });
          img.src = "https://www.gravatar.com/avatar/" + encodeURIComponent(c.avatar) + "?s=80&d=identicon";
        } else img.setAttribute("aria-hidden", "true");
        head.append(img);
      }
      head.append(name, " ", time);
      if (waiting) head.append(" ", el("span", "rac-badge", waiting.ok ? S.published : S.pending));
      li.append(head, el("p", "rac-body", c.body));
      if (!c.parent && !waiting) {
        const reply = el("button", "rac-reply", S.reply);
        const sub = el("ol", "rac-replies");
        reply.type = "button";
        reply.setAttribute("aria-label", fill(S.replyTo, { name: c.name }));
        reply.onclick = () => replyTo(c, li, reply);
        li.append(reply, sub);
        replies.set(c.id, sub);
      }
      (replies.get(c.parent) || list).append(li);
      return li;
    }

    // The commenter's own comments go after what is loaded, until the list has them.
    function showPending() {
      for (const n of list.querySelectorAll(".rac-pending")) n.remove();
      pending = pending.filter((c) => !seen.has(c.id));
      stash.set(key, pending);
      for (const c of pending) render(c, c);
    }

    async function load() {
      more.disabled = true;
      if (!seen.size) say(status, S.loading);
      const url = API + "/comment?post=" + encodeURIComponent(post) +
        (cursor ? "&cursor=" + encodeURIComponent(cursor) : "") +
        (root.dataset.limit ? "&limit=" + encodeURIComponent(root.dataset.limit) : "");
      let data;
      try {
        // Lists are cacheable for a minute; while this reader has a comment
        // awaiting moderation, revalidate so it shows as soon as it is approved.
        const res = await fetch(url, { cache: pending.length ? "no-cache" : "default" });
        if (!res.ok) throw res;
        data = await res.json();
      } catch {
        // The same button tries the same page again.
        Object.assign(more, { disabled: false, hidden: false, textContent: S.retry });
        return say(status, S.loadFailed);
      }
      let first;
      for (const n of list.querySelectorAll(".rac-pending")) n.remove();
      for (const c of data.comments) {
        if (seen.has(c.id)) continue;
        seen.add(c.id);
        const li = render(c);
        first ||= li;
      }
      cursor = data.next_cursor;
      Object.assign(more, { disabled: false, hidden: !cursor, textContent: S.more });
      showPending();
      say(status, seen.size || pending.length ? "" : S.none);
      return first;
    }

    more.onclick = () => load().then((first) => first?.focus());

    const parent = Object.assign(el("input"), { type: "hidden", name: "parent" });
    const replying = el("p", "rac-replying");
    const note = el("span");
    const cancel = el("button", "rac-cancel", S.cancel);
    const [nameRow] = field(S, "name", "input", { required: true, maxLength: 100, autocomplete: "name" });
    const [emailRow, email] = field(S, "email", "input", { type: "email", maxLength: 254, autocomplete: "email" });
    const [urlRow] = field(S, "url", "input", { type: "url", maxLength: 2048, autocomplete: "url" });
    const [bodyRow, body] = field(S, "body", "textarea", { required: true, rows: 5, maxLength: 5000 });
    const [notifyRow, notify] = field(S, "notify", "input", { type: "checkbox", disabled: true });
    const send = el("button", "rac-submit", S.submit);
    let back;

    notifyRow.className = "rac-field rac-check";
    notifyRow.append(notifyRow.firstChild); // the label after its box
    email.oninput = () => { notify.disabled = !email.value.trim(); };
    cancel.type = "button";
    replying.hidden = true;
    replying.append(note, " ", cancel);
    form.noValidate = true;
    form.setAttribute("aria-label", S.leave);
    form.append(Object.assign(el("input"), { type: "hidden", name: "post", value: post }), parent,
      replying, nameRow, emailRow, urlRow, bodyRow, notifyRow, honeypot(root, S), send);
    const resetCaptcha = captcha(form, root, send);

    function replyTo(c, li, button) {
      parent.value = c.id;
      note.textContent = fill(S.replying, { name: c.name });
      replying.hidden = false;
      back = button;
      li.append(form);
      body.focus();
    }
    function endReply() {
      parent.value = "";
      replying.hidden = true;
      root.append(form);
    }
    cancel.onclick = () => { endReply(); back.focus(); };
    form.onkeydown = (e) => e.key == "Escape" && parent.value && cancel.onclick();

    form.onsubmit = (e) => {
      e.preventDefault();
      submit(form, API + "/comment", COMMENT, S, status, (data) => {
        const c = {
          id: data.id, parent: parent.value || null, name: form.elements.name.value.trim(),
          url: form.elements.url.value.trim() || null, body: body.value.trim(),
          created_at: new Date().toISOString(), ok: data.status == "approved",
        };
        pending.push(c);
        body.value = "";
        endReply();
        showPending();
        say(status, c.ok ? S.published : S.thanksPending, true);
        document.getElementById("comment-" + c.id)?.focus();
      }, resetCaptcha);
    };

    // A link to one comment (a feed entry's): once it is rendered, scroll to
    // it, loading further pages while it is not there yet (lists are oldest
    // first, feeds newest first).
    const target = /^#comment-/.test(location.hash) && decodeURIComponent(location.hash.slice(1));
    (async () => {
      await load();
      for (let pages = 0; target && pages < 20; pages++) {
        const n = document.getElementById(target);
        if (n && root.contains(n)) {
          n.scrollIntoView({ block: "start" });
          return n.focus({ preventScroll: true });
        }
        if (!cursor || !(await load())) return;
      }
    })();
  }

  function counts(spans) {
    const by = new Map();
    for (const s of spans) {
      const post = s.dataset.rustAwsCount;
      if (post) by.set(post, [...(by.get(post) || []), s]);
    }
    const posts = [...by.keys()];
    for (let i = 0; i < posts.length; i += 50) {
      const chunk = posts.slice(i, i + 50);
      fetch(API + "/comment/count?" + chunk.map((p) => "post=" + encodeURIComponent(p)).join("&"))
        .then((r) => (r.ok ? r.json() : Promise.reject(r)))
        .then((d) => {
          for (const p of chunk) for (const s of by.get(p)) {
            const S = strings(s);
            const n = d.counts[p] || 0;
            const rule = n ? new Intl.PluralRules(S.lang).select(n) : "zero";
            s.textContent = fill(s.dataset[rule] || S.count[rule] || S.count.other, { n });
          }
        })
        .catch(() => {}); // the page keeps the span's own text
    }
  }

  function contact(form) {
    const S = strings(form);
    const status = el("p", "rac-status");
    const send = form.querySelector("button:not([type=button]),input[type=submit]");
    status.setAttribute("role", "status");
    form.noValidate = true;
    form.append(status);
    const resetCaptcha = captcha(form, form, send);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      submit(form, form.getAttribute("action") || API + "/contact", CONTACT, S, status, () => {
        form.reset();
        say(status, S.sent, true);
      }, resetCaptcha);
    });
  }

  /** Enhances everything on the page not yet enhanced; call again after
   * adding markup (e.g. on a client-side navigation). */
  function init() {
    const fresh = (sel) => [...document.querySelectorAll(sel)].filter((n) => !n.racDone && (n.racDone = true));
    fresh("[data-rust-aws-comments]").forEach(comments);
    counts(fresh("[data-rust-aws-count]"));
    fresh("form[data-rust-aws-contact]").forEach(contact);
  }
  window.rustAws = { init };
  if (document.readyState == "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
