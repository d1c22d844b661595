#!/usr/bin/python3
"""A local web server of real-world-shaped pages and feeds for Advocate's fetch tests (127.0.0.1 only).

Pages: /og.html (OpenGraph only), /twitter.html (Twitter card only), /plain.html (neither: <title>, meta
description, a relative canonical link), /latin1-header.html (windows-1252, charset only in the HTTP header),
/latin1-meta.html (ISO-8859-1, charset only in <meta>), /notitle.html, /big.html (3 MB), /image.png (not HTML),
/redirect/N (N redirects, then /og.html), /away?to=URL (one redirect to any URL), /missing (404).
Feeds: /rss.xml (RSS 2.0), /atom.xml (Atom), /broken.xml (not well-formed), /etag.xml (RSS with an ETag and
Last-Modified; answers 304 to a matching conditional request). Extra entries can be added to /rss.xml by
writing lines "guid<TAB>url<TAB>title[<TAB>pubDate]" into DIR/rss-extra.

Every request appends "METHOD PATH STATUS If-None-Match" to DIR/requests. Prints "READY <port>" once listening.
"""
import argparse
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIRECTORY = "."

OG = """<!doctype html><html><head><meta charset="utf-8">
<meta property="og:title" content="Zonnepark Delfzijl levert stroom aan 12.000 huishoudens">
<meta property="og:description" content="Het nieuwe zonnepark van Acme draait sinds maandag op volle kracht – een mijlpaal.">
<meta property="og:image" content="/images/zonnepark.jpg">
<meta property="og:url" content="http://{host}/nieuws/zonnepark-delfzijl">
<title>Nieuws | Acme Energie</title></head><body><h1>Zonnepark</h1></body></html>"""

TWITTER = """<!doctype html><html><head><meta charset="utf-8">
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="We are hiring: twenty field engineers">
<meta name="twitter:description" content="Join the team that keeps the grid running.">
<meta name="twitter:image" content="https://cdn.acme.example/jobs.jpg">
<title>Careers | Acme</title></head><body></body></html>"""

PLAIN = """<!doctype html><html><head><meta charset="utf-8">
<title>  Klantdag 2026:
 wat we hoorden  </title>
<meta name="description" content="Verslag van de klantdag in Utrecht.">
<link rel="canonical" href="/blog/klantdag-2026">
</head><body><p>Tekst</p></body></html>"""

LATIN1_HEADER = """<!doctype html><html><head>
<title>Caf\u00e9 \u2013 \u20ac 5 korting voor na\u00efeve klanten</title></head><body></body></html>"""

LATIN1_META = """<!doctype html><html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">
<title>Ge\u00efnteresseerd in \u00e9\u00e9n dag bij ons?</title></head><body></body></html>"""

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Acme nieuws</title>
<link>http://{host}/</link><description>Nieuws</description>
<item><title>Windpark op zee: eerste turbine staat</title><link>http://{host}/nieuws/windpark</link>
<guid isPermaLink="false">acme-news-1001</guid>
<description>&lt;p&gt;De eerste &lt;b&gt;turbine&lt;/b&gt; van ons windpark staat.&lt;/p&gt;</description>
<media:thumbnail url="http://{host}/images/windpark.jpg"/></item>
<item><title>Nieuwe CEO benoemd</title><link>http://{host}/nieuws/ceo</link>
<description><![CDATA[Onze nieuwe CEO begint <i>1 januari</i>.]]></description></item>
{extra}</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Acme engineering</title><id>urn:acme:eng</id>
<updated>2026-11-20T10:00:00Z</updated>
<entry><title type="html">Hoe we &lt;em&gt;slimme meters&lt;/em&gt; testen</title>
<link rel="alternate" href="/eng/slimme-meters"/><link rel="enclosure" type="image/png" href="/eng/meter.png"/>
<id>tag:acme.example,2026:eng-77</id><updated>2026-11-20T10:00:00Z</updated>
<summary>Een kijkje in ons testlab.</summary></entry>
<entry><title>Open source bij Acme</title><link href="http://{host}/eng/open-source"/>
<id>tag:acme.example,2026:eng-78</id><updated>2026-11-21T10:00:00Z</updated>
<content type="html">&lt;p&gt;Wat we teruggeven.&lt;/p&gt;</content></entry>
</feed>"""

ETAG_RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>
<item><title>Blog: de energietransitie in 5 grafieken</title><link>http://{host}/blog/grafieken</link>
<guid>blog-1</guid></item></channel></rss>"""

ETAG = '"v1-blog"'
LAST_MODIFIED = "Fri, 20 Nov 2026 10:00:00 GMT"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self, status):
        with open(os.path.join(DIRECTORY, "requests"), "a") as log:
            log.write(f"{self.command} {self.path} {status} {self.headers.get('If-None-Match', '-')}\n")
            log.flush()

    def send(self, status, body=b"", content_type="text/html; charset=utf-8", headers=()):
        self.note(status)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        host = self.headers.get("Host", "127.0.0.1")
        path = self.path.split("?")[0]
        if path == "/og.html":
            return self.send(200, OG.replace("{host}", host).encode())
        if path == "/twitter.html":
            return self.send(200, TWITTER.encode())
        if path == "/plain.html":
            return self.send(200, PLAIN.encode())
        if path == "/latin1-header.html":
            return self.send(200, LATIN1_HEADER.encode("cp1252"), "text/html; charset=windows-1252")
        if path == "/latin1-meta.html":
            return self.send(200, LATIN1_META.encode("iso-8859-1"), "text/html")
        if path == "/notitle.html":
            return self.send(200, b"<html><body><p>no title here</p></body></html>")
        if path == "/big.html":
            return self.send(200, b"<html><head><title>Big</title></head><body>" + b"x" * 3_000_000 + b"</body></html>")
        if path == "/image.png":
            return self.send(200, b"\x89PNG\r\n\x1a\n", "image/png")
        if path.startswith("/redirect/"):
            left = int(path.rsplit("/", 1)[1])
            target = "/og.html" if left <= 1 else f"/redirect/{left - 1}"
            return self.send(302, b"", None, [("Location", target)])
        if path == "/away":
            target = self.path.split("to=", 1)[1] if "to=" in self.path else "/"
            return self.send(302, b"", None, [("Location", target)])
        if path == "/rss.xml":
            extra = ""
            try:
                with open(os.path.join(DIRECTORY, "rss-extra")) as handle:
                    for line in handle:
                        guid, url, title, *date = line.rstrip("\n").split("\t")
                        published = f"<pubDate>{date[0]}</pubDate>" if date else ""
                        extra += f"<item><title>{title}</title><link>{url}</link><guid>{guid}</guid>{published}</item>\n"
            except FileNotFoundError:
                pass
            return self.send(200, RSS.replace("{host}", host).replace("{extra}", extra).encode(), "application/rss+xml")
        if path == "/atom.xml":
            return self.send(200, ATOM.replace("{host}", host).encode(), "application/atom+xml")
        if path == "/broken.xml":
            return self.send(200, b"<?xml version='1.0'?><rss><channel><item><title>cut off", "application/rss+xml")
        if path == "/etag.xml":
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == LAST_MODIFIED:
                return self.send(304, b"", None, [("ETag", ETAG)])
            return self.send(200, ETAG_RSS.replace("{host}", host).encode(), "application/rss+xml",
                             [("ETag", ETAG), ("Last-Modified", LAST_MODIFIED)])
        return self.send(404, b"<html><head><title>Not found</title></head></html>")


def main():
    global DIRECTORY
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    DIRECTORY = args.dir
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
