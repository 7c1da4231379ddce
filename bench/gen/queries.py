#!/usr/bin/env python3
"""The query mix of bench/scale.sh, from the sentence pools (seeded, standard library only).

    bench/gen/queries.py [--per-class N] [--seed S] > queries.tsv

Each line is CLASS<TAB>ROUTE<TAB>PARAMS, PARAMS URL-encoded as the server takes them
(`/v1/ROUTE?PARAMS`). Classes, N lines each (default 100):

  word        one English word              search?q=
  words       2-4 words (English or Japanese, as the site's languages)
  phrase      a "quoted phrase" of 2-3 consecutive English words
  filter      a word with type=photo|video|article, lang=ja|en and facets=1
  japanese    a Japanese word (kanji or katakana run)
  prefix1 .. prefix6   as-you-type: the first 1-6 characters of a word (half English, half
              Japanese), sent to /v1/suggest, which completes the word and runs the
              search-as-you-type query (prefix=1) for titles
Words are drawn with Zipf weights over the pools' words, as a site's searches repeat the
common words.
"""
import argparse
import itertools
import os
import random
import re
import urllib.parse

EN = re.compile(r"[a-z]{3,12}")
JA = re.compile(r"[\u30a0-\u30ff]{3,8}|[\u4e00-\u9fff]{2,4}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    pool = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pools")
    read = lambda l: [s for s in open(os.path.join(pool, l + ".txt"), encoding="utf-8").read().split("\n") if s]
    en_s, ja_s = read("en"), read("ja")
    stop = {"the", "and", "for", "are", "with", "that", "this", "from", "you", "not", "can", "but", "was"}
    en_w = [w for w, _ in __import__("collections").Counter(
        w for s in en_s for w in EN.findall(s.lower()) if w not in stop).most_common()]
    ja_w = [w for w, _ in __import__("collections").Counter(w for s in ja_s for w in JA.findall(s)).most_common()]
    r = random.Random(a.seed)
    cum = lambda n: list(itertools.accumulate(1.0 / (i + 1) for i in range(n)))
    en_c, ja_c = cum(len(en_w)), cum(len(ja_w))
    en = lambda: en_w[r.choices(range(len(en_w)), cum_weights=en_c)[0]]
    ja = lambda: ja_w[r.choices(range(len(ja_w)), cum_weights=ja_c)[0]]
    out = []
    q = lambda **kw: urllib.parse.urlencode(kw, quote_via=urllib.parse.quote)
    for _ in range(a.per_class):
        out.append(("word", "search", q(q=en())))
        n = r.randint(2, 4)
        out.append(("words", "search", q(q=" ".join(en() for _ in range(n)) if r.random() < 0.5
                                         else " ".join(ja() for _ in range(n)))))
        while True:
            s = EN.findall(r.choice(en_s).lower())
            if len(s) >= 3:
                i = r.randrange(len(s) - 2)
                out.append(("phrase", "search", q(q='"%s"' % " ".join(s[i:i + r.randint(2, 3)]))))
                break
        out.append(("filter", "search", q(q=en() if r.random() < 0.5 else ja(),
                                          type=r.choice(["photo", "video", "article"]),
                                          lang=r.choice(["ja", "en"]), facets=1)))
        out.append(("japanese", "search", q(q=ja())))
        for k in range(1, 7):
            w = en() if r.random() < 0.5 else ja()
            while len(w) < k:
                w = en() if r.random() < 0.5 else ja()
            out.append(("prefix%d" % k, "suggest", q(q=w[:k])))
    for c, route, p in out:
        print(c, route, p, sep="\t")


if __name__ == "__main__":
    main()
