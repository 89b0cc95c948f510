#!/usr/bin/env python3
"""Aggregates bench/run.sh's raw CSV: medians per (workload, test, server), ratios against redis-server and
against the ceiling, a Markdown table on stdout, a summary CSV and an SVG bar chart of the ratios."""
import csv
import math
import statistics
import sys
from collections import defaultdict

raw, summary_path, chart_path = sys.argv[1], sys.argv[2], sys.argv[3]
missing = set(sys.argv[4].split()) if len(sys.argv) > 4 else set()

samples = defaultdict(lambda: defaultdict(list))
order = []
with open(raw) as f:
    for row in csv.DictReader(f):
        test = row["test"].split(" (")[0]
        key = (row["workload"], test)
        if key not in order:
            order.append(key)
        samples[key][row["server"]].append((float(row["rps"]), float(row["p50_ms"]), float(row["p99_ms"])))


def med(values, i):
    return statistics.median(v[i] for v in values) if values else float("nan")


def fmt_ratio(x):
    return "n/a" if math.isnan(x) else f"{x:.2f}"


rows = []
for key in order:
    s = samples[key]
    f, r, c = s.get("ferredis", []), s.get("redis", []), s.get("ceiling", [])
    fr, rr, cr = med(f, 0), med(r, 0), med(c, 0)
    rows.append({
        "workload": key[0], "test": key[1],
        "ferredis_rps": fr, "redis_rps": rr, "ceiling_rps": cr,
        "ferredis_p50": med(f, 1), "redis_p50": med(r, 1), "ceiling_p50": med(c, 1),
        "ferredis_p99": med(f, 2), "redis_p99": med(r, 2), "ceiling_p99": med(c, 2),
        "vs_redis": fr / rr if rr else float("nan"),
        "vs_ceiling": fr / cr if cr else float("nan"),
        "p99_vs_ceiling": med(f, 2) / med(c, 2) if c and med(c, 2) else float("nan"),
    })

benchmark_cmd = {"LRANGE_100": "lrange", "LPUSH": "lpush", "MSET": "mset"}
print("| workload | test | ferredis rps | redis rps | ceiling rps | ferredis p50/p99 ms | redis p50/p99 ms | ceiling p50/p99 ms | ferredis/redis | ferredis/ceiling | p99 vs ceiling |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for row in rows:
    cmd = benchmark_cmd.get(row["test"], row["test"].lower())
    note = " (not implemented)" if cmd in missing else ""
    print(f"| {row['workload']} | {row['test']}{note} | {row['ferredis_rps']:.0f} | {row['redis_rps']:.0f} | "
          f"{row['ceiling_rps']:.0f} | {row['ferredis_p50']:.3f}/{row['ferredis_p99']:.3f} | "
          f"{row['redis_p50']:.3f}/{row['redis_p99']:.3f} | {row['ceiling_p50']:.3f}/{row['ceiling_p99']:.3f} | "
          f"{fmt_ratio(row['vs_redis'])} | {fmt_ratio(row['vs_ceiling'])} | {fmt_ratio(row['p99_vs_ceiling'])} |")

valid = [r for r in rows if benchmark_cmd.get(r["test"], r["test"].lower()) not in missing]


def geo(xs):
    xs = [x for x in xs if x > 0 and not math.isnan(x)]
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else float("nan")


for name, field in (("ferredis/redis", "vs_redis"), ("ferredis/ceiling", "vs_ceiling")):
    xs = [r[field] for r in valid if not math.isnan(r[field])]
    if xs:
        worst = min(valid, key=lambda r: r[field])
        print(f"\n**{name}**: geometric mean {geo(xs):.2f}, worst {min(xs):.2f} ({worst['workload']} {worst['test']})")
xs = [r["p99_vs_ceiling"] for r in valid if not math.isnan(r["p99_vs_ceiling"])]
if xs:
    worst = max(valid, key=lambda r: r["p99_vs_ceiling"])
    print(f"\n**p99 ferredis/ceiling**: geometric mean {geo(xs):.2f}, worst {max(xs):.2f} "
          f"({worst['workload']} {worst['test']})")
if missing:
    print(f"\nNot implemented in ferredis yet (their rows measure error replies): {' '.join(sorted(missing))}")

with open(summary_path, "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ["workload"])
    w.writeheader()
    w.writerows(rows)

# SVG: one pair of bars per row (ferredis/redis, ferredis/ceiling), a line at 1.0.
bar_h, gap, left, width = 10, 8, 260, 420
height = len(rows) * (2 * bar_h + gap) + 60
scale = width / 2.0
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 60}" height="{height}" font-family="sans-serif" font-size="11">',
       f'<text x="10" y="18" font-size="13">ferredis throughput ratio (blue: vs redis-server, orange: vs ceiling)</text>']
y = 35
for row in rows:
    svg.append(f'<text x="10" y="{y + bar_h + 3}">{row["workload"]} {row["test"]}</text>')
    for i, (field, colour) in enumerate((("vs_redis", "#3b6fb6"), ("vs_ceiling", "#e08a2c"))):
        v = row[field]
        if not math.isnan(v):
            svg.append(f'<rect x="{left}" y="{y + i * bar_h}" width="{min(v, 2.0) * scale:.1f}" height="{bar_h - 1}" fill="{colour}"/>')
            svg.append(f'<text x="{left + min(v, 2.0) * scale + 4:.1f}" y="{y + i * bar_h + bar_h - 2}">{v:.2f}</text>')
    y += 2 * bar_h + gap
svg.append(f'<line x1="{left + scale}" y1="28" x2="{left + scale}" y2="{height - 10}" stroke="#444" stroke-dasharray="4"/>')
svg.append("</svg>")
with open(chart_path, "w") as f:
    f.write("\n".join(svg))
