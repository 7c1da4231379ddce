#!/usr/bin/env python3
"""bench/scale.svg: how cost grows with the collection (figures of bench/RESULTS.md, "Scale").

    bench/scale_chart.py > bench/scale.svg

Three panels over N records (log scale): build CPU seconds per 1,000 records, index bytes per
record, and the in-process query mix's p50 and p99 (wall and CPU, ms). Standard library only;
the points are copied from RESULTS.md (None: not measured).
"""
import math

N = [10_000, 100_000, 1_000_000]
PANELS = [
    ("build CPU s / 1k records (2 threads)", {"CPU": [0.94, 0.79, 0.77]}),
    ("index bytes / record", {"size": [1988, 1978, 1970]}),
    ("query mix, in process (ms)", {"p50 wall": [0.255, 1.425, 9.12], "p99 wall": [24.9, 31.1, 86.7],
                                    "p99 CPU": [1.45, 6.79, 67.0], "p50 CPU": [0.275, 1.008, 8.67]}),
]
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
W, H, PAD = 300, 220, 45


def panel(i, title, series):
    x0 = i * (W + 20) + PAD
    vals = [v for s in series.values() for v in s if v is not None]
    lo, hi = min(vals + [0.1]), max(vals)
    logy = hi / max(lo, 1e-9) > 50
    def y(v):
        if logy:
            return 30 + (H - 60) * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))
        return 30 + (H - 60) * (1 - v / (hi * 1.1))
    def x(n):
        return x0 + (W - PAD - 10) * (math.log10(n) - 4) / 2
    out = [f'<text x="{x0}" y="18" font-size="12">{title}{" (log)" if logy else ""}</text>',
           f'<line x1="{x0}" y1="{H-30}" x2="{x0+W-PAD}" y2="{H-30}" stroke="#000"/>',
           f'<line x1="{x0}" y1="30" x2="{x0}" y2="{H-30}" stroke="#000"/>']
    for n, label in zip(N, ["10k", "100k", "1M"]):
        out.append(f'<text x="{x(n)-10:.0f}" y="{H-14}" font-size="10">{label}</text>')
    for k, (name, s) in enumerate(series.items()):
        pts = [(x(n), y(v), v) for n, v in zip(N, s) if v is not None]
        c = COLORS[k % len(COLORS)]
        out.append('<polyline fill="none" stroke="%s" points="%s"/>' % (c, " ".join(f"{a:.1f},{b:.1f}" for a, b, _ in pts)))
        for a, b, v in pts:
            out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{c}"/><text x="{a+4:.1f}" y="{b-4:.1f}" font-size="9">{v:g}</text>')
        out.append(f'<text x="{x0+W-PAD-60}" y="{40+12*k}" font-size="10" fill="{c}">{name}</text>')
    return out


body = []
for i, (t, s) in enumerate(PANELS):
    body += panel(i, t, s)
print(f'<svg xmlns="http://www.w3.org/2000/svg" width="{3*(W+20)+PAD}" height="{H}" font-family="sans-serif">')
print("\n".join(body))
print("</svg>")
