#!/usr/bin/env python3
"""Draws bench/results.svg from the tables the bench scripts write (results.md,
results-generations.md, results-audit.md): for every operation, each peer's median wall time
divided by mcp-gen's, measured in the same run. A bar longer than 1 means mcp-gen was faster.

Plain SVG from the standard library, so it runs wherever the benchmarks run.
Usage: python3 bench/chart.py [BENCH_DIR_OF_RESULTS] (default: the directory of this script).
"""
import os
import re
import sys

here = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))


def rows(name):
    """The pipe-table rows of a results file, as lists of cell strings."""
    path = os.path.join(here, name)
    if not os.path.exists(path):
        return []
    out = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line.strip()):
            out.append([c.strip() for c in line.strip().strip("|").split("|")])
    return out


def number(text):
    m = re.search(r"[\d.]+", text or "")
    return float(m.group(0)) if m else None


bars = []  # (group, peer, peer_time / mcp-gen time)

# results.md: | tree | op | tool | median s | ...
timings = {}
for r in rows("results.md"):
    if len(r) >= 4 and r[0] in ("binaries", "python") and r[1] in ("hash", "add"):
        timings.setdefault((r[1], r[0]), {})[r[2]] = number(r[3])
for (op, tree), tools in sorted(timings.items()):
    base = tools.get("mcp-gen")
    for tool, t in tools.items():
        if tool not in ("mcp-gen", "dd oflag=direct") and base and t:
            bars.append((f"{op} {tree} tree", tool, t / base))

# results-generations.md: | operation | command | ms | target | peers (ms, ratio); ... |
for r in rows("results-generations.md"):
    if len(r) >= 5 and r[0] != "operation" and "json" not in r[0]:
        for peer in r[4].split(";"):
            m = re.match(r"\s*(.+?)\s+([\d.]+)\s+\(([\d.]+)x\)", peer)
            if m:
                bars.append((r[0], m.group(1), float(m.group(3))))

# results-audit.md: | tree | mcp-gen s | GB/s | nix s | ostree s | nix/mcp-gen | ostree/mcp-gen |
for r in rows("results-audit.md"):
    if len(r) >= 7 and r[0] in ("binaries", "python"):
        bars.append((f"audit {r[0]} tree", "nix-store --verify --check-contents", number(r[5])))
        bars.append((f"audit {r[0]} tree", "ostree fsck", number(r[6])))

bars = [b for b in bars if b[2]]
if not bars:
    sys.exit("chart.py: no results tables found in " + here)

# Layout: one row per bar, grouped by operation, on a log scale around 1.
import math

left, width, row_h, gap = 330, 420, 18, 10
lo, hi = min(0.05, min(b[2] for b in bars)), max(20.0, max(b[2] for b in bars))


def x(v):
    return left + width * (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))


groups = []
for g, peer, ratio in bars:
    if not groups or groups[-1][0] != g:
        groups.append((g, []))
    groups[-1][1].append((peer, ratio))
height = 60 + sum(len(p) * row_h + gap + 16 for _, p in groups) + 30
svg = [
    f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
    'font-family="sans-serif" font-size="12">',
    '<rect width="100%" height="100%" fill="white"/>',
    f'<text x="10" y="20" font-size="14" font-weight="bold">peer time / mcp-gen time '
    '(same machine, same run; &gt; 1: mcp-gen faster)</text>',
]
y = 45
for g, peers in groups:
    svg.append(f'<text x="10" y="{y + 12}" font-weight="bold">{g}</text>')
    y += 16
    for peer, ratio in peers:
        x0, x1 = x(1.0), x(ratio)
        colour = "#2e7d32" if ratio >= 1 else "#c62828"
        svg.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{peer}</text>')
        svg.append(f'<rect x="{min(x0, x1):.1f}" y="{y + 3}" width="{abs(x1 - x0):.1f}" height="{row_h - 6}" fill="{colour}"/>')
        svg.append(f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 13}">{ratio:.2f}x</text>')
        y += row_h
    y += gap
for v in (0.1, 0.5, 1, 2, 5, 10):
    if lo <= v <= hi:
        svg.append(f'<line x1="{x(v):.1f}" y1="40" x2="{x(v):.1f}" y2="{y}" stroke="#999" stroke-width="{1.5 if v == 1 else 0.5}"/>')
        svg.append(f'<text x="{x(v):.1f}" y="{y + 14}" text-anchor="middle">{v:g}x</text>')
svg.append("</svg>")
out = os.path.join(here, "results.svg")
open(out, "w", encoding="utf-8").write("\n".join(svg) + "\n")
print(f"wrote {out} ({len(bars)} bars)")
