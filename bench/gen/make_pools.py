#!/usr/bin/env python3
"""Sentence pools for gen_records.py, from the pages and records bundled in the repository.

    bench/gen/make_pools.py [REPO]     writes bench/gen/pools/<lang>.txt

Each pool is one sentence a line: the visible text of the Debian documentation pages in
data/site and tests/fixtures (GPL-2.0+ or CC-BY-SA-3.0; GPL-2+: see the COPYRIGHT files beside
the pages and bench/gen/README.md) and the bodies and titles of data/sample.ndjson (written for
this project), split at sentence ends. Sentences shorter than 8 or longer than 300 characters
and duplicates are dropped; a language keeps at most LIMIT bytes (the total stays under 400 KB).
Python 3 standard library only; the output is the same for the same input.
"""
import html.parser
import json
import os
import re
import sys

LIMIT = {"ja": 150_000, "en": 90_000, "zh": 40_000, "fr": 40_000, "de": 40_000}
SKIP_TAGS = {"script", "style", "head", "title", "pre", "code", "nav"}


class Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.skip = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in SKIP_TAGS:
            self.skip += 1
        elif tag in ("p", "div", "li", "br", "h1", "h2", "h3", "td", "dt", "dd"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIP_TAGS and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


SPLIT = re.compile(r"(?<=[。！？!?])|(?<=[.;:])\s+(?=[A-ZÀ-ÖØ-Þ\"“(])|\n+")
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")


def sentences(text):
    for s in SPLIT.split(text):
        s = " ".join(s.split())
        if 8 <= len(s) <= 300 and re.search(r"\w", s) and not s.startswith(("http", "$", "#")):
            yield s


def lang_of(folder, s):
    """The page's language, except for untranslated (English) paragraphs on CJK pages."""
    if folder in ("ja", "zh-cn"):
        if folder == "ja" and KANA.search(s):
            return "ja"
        if folder == "zh-cn" and CJK.search(s) and not KANA.search(s):
            return "zh"
        return "en" if not CJK.search(s) else None
    return {"en": "en", "fr": "fr", "de": "de"}.get(folder)


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    pools = {k: [] for k in LIMIT}
    seen = set()

    def add(lang, s):
        if lang in pools and s not in seen:
            seen.add(s)
            pools[lang].append(s)

    # The project's own sample records first: short social posts.
    with open(os.path.join(repo, "data", "sample.ndjson"), encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            lang = (r.get("lang") or "en")[:2]
            for s in sentences(r.get("body", "") + "\n" + r.get("title", "")):
                add(lang, s)
    pages = []
    for top in ("data/site", "tests/fixtures/site", "tests/fixtures/ja-pages"):
        for d, _, files in sorted(os.walk(os.path.join(repo, top))):
            pages += [os.path.join(d, f) for f in sorted(files) if f.endswith(".html")]
    for p in pages:
        folder = os.path.relpath(p, repo).split(os.sep)[2]
        with open(p, encoding="utf-8", errors="replace") as f:
            t = Text()
            t.feed(f.read())
        for s in sentences("".join(t.parts)):
            lang = lang_of(folder, s)
            if lang:
                add(lang, s)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pools")
    os.makedirs(out, exist_ok=True)
    for lang, ss in pools.items():
        kept, size = [], 0
        for s in ss:
            n = len(s.encode()) + 1
            if size + n > LIMIT[lang]:
                break
            kept.append(s)
            size += n
        with open(os.path.join(out, lang + ".txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(kept) + "\n")
        print(f"{lang}: {len(kept)} sentences, {size} bytes")


if __name__ == "__main__":
    main()
