#!/usr/bin/env python3
"""N NDJSON records shaped like the site, from the sentence pools in bench/gen/pools/.

    bench/gen/gen_records.py N [--seed S] [--start K] > records.ndjson

The same N and seed give the same bytes. Records k = start .. start+N-1 have ids "g-<k>", so a
later run with --start and --edit can rewrite some of them (index update).

    --edit         each record gets a new title and body (same id, type, language)

Shape (the design's picture of the site): about 70% Japanese, 20% English, 10% other (Chinese,
French, German); 45% comments, 25% photos, 10% videos, 20% articles. Comments and captions are
one to three sentences (tens to a few hundred characters), articles 3-12 sentences, and one
article in ten is long (20-80 sentences). Sentences are drawn from each pool with Zipf weights
(s = 0.9), so a few are common and most are rare, as words are in real text; one record in
four gets a hashtag made of two pool words, so the vocabulary keeps growing with N (Heaps' law)
instead of stopping at the pools'. Dates are spread over 2019-2026 with more recent posts; tags
and authors are Zipf-distributed (s = 1.1) over a tag list made from pool words and 200,000
author names. Every record says "visibility": "public". Python 3 standard library only.
"""
import argparse
import itertools
import json
import os
import random
import re
import sys

LANGS = [("ja", 0.70), ("en", 0.20), ("zh", 0.04), ("fr", 0.03), ("de", 0.03)]
TYPES = [("comment", 0.45), ("photo", 0.25), ("video", 0.10), ("article", 0.20)]
WORD = re.compile(r"[A-Za-zÀ-ÿ]{4,12}|[\u30a0-\u30ff]{3,8}|[\u4e00-\u9fff]{2,4}")


def zipf_cum(n, s):
    return list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(n)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--edit", action="store_true")
    a = ap.parse_args()

    pool_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pools")
    pools = {}
    for lang, _ in LANGS:
        with open(os.path.join(pool_dir, lang + ".txt"), encoding="utf-8") as f:
            ss = [s for s in f.read().split("\n") if s]
        # A fixed shuffle decides which sentences are common (the same for every seed).
        random.Random(lang).shuffle(ss)
        pools[lang] = (ss, zipf_cum(len(ss), 0.9))
    words = sorted({w.lower() for ss, _ in pools.values() for s in ss for w in WORD.findall(s)})
    random.Random("tags").shuffle(words)
    tags = words[:5000]
    tag_cum = zipf_cum(len(tags), 1.1)
    word_cum = zipf_cum(len(words), 1.0)
    author_cum = zipf_cum(200_000, 1.1)
    lang_names, lang_w = zip(*LANGS)
    type_names, type_w = zip(*TYPES)
    day0 = 737060  # 2019-01-01 as a proleptic ordinal
    days = 8 * 365
    import datetime

    out = sys.stdout
    for k in range(a.start, a.start + a.n):
        # Each record has its own generator: record k is the same whatever N and start are,
        # and an edit of k differs from k only in its text.
        r = random.Random(a.seed * 1_000_003 + k)
        lang = r.choices(lang_names, lang_w)[0]
        typ = r.choices(type_names, type_w)[0]
        day = day0 + int(days * r.random() ** 0.6)
        published = datetime.date.fromordinal(day).isoformat()
        ntags = r.choice((0, 1, 1, 2, 2, 3, 4))
        rec_tags = sorted({tags[i] for i in r.choices(range(len(tags)), cum_weights=tag_cum, k=ntags)})
        author = "u%06d" % r.choices(range(200_000), cum_weights=author_cum)[0]
        if a.edit:
            r = random.Random(a.seed * 1_000_003 + k + 7_777_777_777)
        ss, cum = pools[lang]
        if typ == "comment":
            n = r.choice((1, 1, 1, 2, 2, 3))
        elif typ in ("photo", "video"):
            n = r.choice((1, 2, 2, 3))
        else:
            n = r.randint(20, 80) if r.random() < 0.1 else r.randint(3, 12)
        picks = r.choices(range(len(ss)), cum_weights=cum, k=n + 1)
        sep = "" if lang in ("ja", "zh") else " "
        body = sep.join(ss[i] for i in picks[1:])
        if r.random() < 0.25:
            w1, w2 = r.choices(range(len(words)), cum_weights=word_cum, k=2)
            body += " #" + words[w1] + words[w2]
        title = ss[picks[0]][:80] if typ != "comment" else ""
        rec = {
            "id": "g-%d" % k,
            "url": "https://example.social/%s/%d" % (typ + "s", k),
            "title": title,
            "body": body,
            "type": typ,
            "lang": lang,
            "published": published,
            "tags": rec_tags,
            "author": author,
            "visibility": "public",
        }
        out.write(json.dumps(rec, ensure_ascii=False))
        out.write("\n")


if __name__ == "__main__":
    main()
