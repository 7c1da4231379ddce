#!/usr/bin/env python3
"""A typo'd copy of a BEIR collection's test queries, for measuring typo tolerance.

Each test query gets one slip in its longest word (the first of the longest when several):
a transposition of two neighbouring letters, a deletion or a substitution, chosen with the
position and the letter by a seeded random generator, so the same seed writes the same file.

  bench/typo_queries.py BEIR_DIR OUT.jsonl [--seed 1]

OUT.jsonl has the BEIR query format (_id, text) and holds the queries of qrels/test.tsv only;
`mixi-search eval --beir BEIR_DIR --queries OUT.jsonl` measures them against the same qrels.
"""
import argparse
import gzip
import json
import random
import re
import string
import sys
from pathlib import Path


def open_text(path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def slip(word, rng):
    """The word with one slip: transposition, deletion or substitution."""
    ops = ["deletion", "substitution"]
    if any(a != b for a, b in zip(word, word[1:])):
        ops.append("transposition")
    op = rng.choice(sorted(ops))
    if op == "transposition":
        i = rng.choice([k for k in range(len(word) - 1) if word[k] != word[k + 1]])
        return word[:i] + word[i + 1] + word[i] + word[i + 2:], op
    i = rng.randrange(len(word))
    if op == "deletion":
        return word[:i] + word[i + 1:], op
    letter = rng.choice([c for c in string.ascii_lowercase if c != word[i].lower()])
    return word[:i] + letter + word[i + 1:], op


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("beir", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--split", default="test")
    args = ap.parse_args()

    queries_path = next((p for p in (args.beir / "queries.jsonl", args.beir / "queries.jsonl.gz") if p.exists()), None)
    if queries_path is None:
        sys.exit(f"{args.beir}: no queries.jsonl[.gz]")
    with open(args.beir / "qrels" / f"{args.split}.tsv", encoding="utf-8") as f:
        ids = {line.split("\t")[0] for line in f if line.strip() and not line.startswith("query-id")}
    rng = random.Random(args.seed)
    counts = {}
    written = 0
    with open_text(queries_path) as f, open(args.out, "w", encoding="utf-8") as out:
        for line in f:
            q = json.loads(line)
            if q["_id"] not in ids:
                continue
            words = list(re.finditer(r"[A-Za-z]+", q["text"]))
            text = q["text"]
            if words:
                longest = max(words, key=lambda m: len(m.group()))  # the first of the longest
                if len(longest.group()) >= 2:
                    typo, op = slip(longest.group(), rng)
                    counts[op] = counts.get(op, 0) + 1
                    text = text[:longest.start()] + typo + text[longest.end():]
            out.write(json.dumps({"_id": q["_id"], "text": text}, ensure_ascii=False) + "\n")
            written += 1
    print(f"{written} queries, seed {args.seed}: " + ", ".join(f"{v} {k}s" for k, v in sorted(counts.items())),
          file=sys.stderr)


if __name__ == "__main__":
    main()
