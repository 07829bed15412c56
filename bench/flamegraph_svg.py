#!/usr/bin/python3
"""flamegraph_svg.py - folded stacks to a flame graph in SVG (our own, small).

Input: lines "frame1;frame2;...;frameN COUNT" (root first), as written by
fold_perf_script() from `perf script` output. Output: one SVG where each
frame is a box as wide as its share of the samples, callers below their
callees (a flame graph), with the frame name and its share in a tooltip.

Usage: flamegraph_svg.py FOLDED > out.svg [--title TEXT]
       perf script | flamegraph_svg.py --fold COMM > folded
"""
import argparse
import html
import re
import sys
import zlib

WIDTH = 1200
ROW = 16
FONT = 11


def fold_perf_script(lines, comm_filter=None):
    """perf script (with -g call chains) to {stack: count}, per comm.
    Returns {comm: {stack: count}}; a stack is "root;...;leaf"."""
    out = {}
    comm, frames = None, []

    def flush():
        if comm is not None and frames and (comm_filter is None or comm == comm_filter):
            stack = ";".join(reversed(frames))
            per = out.setdefault(comm, {})
            per[stack] = per.get(stack, 0) + 1

    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        if not line[0].isspace():
            flush()
            comm = line.split()[0]
            frames = []
            continue
        m = re.match(r"\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)$", line)
        if not m:
            continue
        sym, dso = m.group(1), m.group(2)
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        if sym == "[unknown]":
            sym = "[%s]" % dso.rsplit("/", 1)[-1]
        frames.append(sym)
    flush()
    return out


def color(name):
    h = zlib.crc32(name.encode()) & 0xffff
    if name.startswith("[") or "kernel" in name:
        return "rgb(%d,%d,%d)" % (230, 120 + h % 60, 60)
    return "rgb(%d,%d,%d)" % (220 + h % 30, 90 + h % 120, 40 + h % 40)


def build_tree(folded):
    root = {"name": "all", "count": 0, "kids": {}}
    for stack, n in folded.items():
        root["count"] += n
        node = root
        for frame in stack.split(";"):
            kid = node["kids"].get(frame)
            if kid is None:
                kid = node["kids"][frame] = {"name": frame, "count": 0, "kids": {}}
            kid["count"] += n
            node = kid
    return root


def depth_of(node):
    return 1 + max((depth_of(k) for k in node["kids"].values()), default=0)


def svg(folded, title):
    root = build_tree(folded)
    total = root["count"] or 1
    depth = depth_of(root)
    height = (depth + 3) * ROW
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="monospace" font-size="%d">' % (WIDTH, height, FONT),
           '<rect width="100%%" height="100%%" fill="rgb(250,250,240)"/>',
           '<text x="%d" y="%d" text-anchor="middle" font-size="%d">%s (%d samples)</text>'
           % (WIDTH // 2, ROW, FONT + 3, html.escape(title), total)]

    def draw(node, x, level):
        w = node["count"] * (WIDTH - 20) / total
        if w < 0.3:
            return
        y = height - (level + 1) * ROW - ROW
        name = html.escape(node["name"])
        pct = 100.0 * node["count"] / total
        out.append('<g><title>%s (%d samples, %.2f%%)</title><rect x="%.1f" y="%d" '
                   'width="%.1f" height="%d" fill="%s" rx="1"/>'
                   % (name, node["count"], pct, x, y, max(w - 0.5, 0.1), ROW - 1,
                      color(node["name"])))
        chars = int(w / (FONT * 0.6))
        if chars >= 3:
            label = node["name"] if len(node["name"]) <= chars else node["name"][:chars - 2] + ".."
            out.append('<text x="%.1f" y="%d">%s</text>' % (x + 2, y + ROW - 4,
                                                            html.escape(label)))
        out.append('</g>')
        kx = x
        for kid in sorted(node["kids"].values(), key=lambda k: k["name"]):
            draw(kid, kx, level + 1)
            kx += kid["count"] * (WIDTH - 20) / total

    draw(root, 10, 0)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def read_folded(path):
    folded = {}
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            if stack:
                folded[stack] = folded.get(stack, 0) + int(n)
    return folded


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folded", nargs="?")
    ap.add_argument("--title", default="flame graph")
    ap.add_argument("--fold", metavar="COMM", help="read perf script on stdin, print folded")
    args = ap.parse_args()
    if args.fold:
        for stack, n in fold_perf_script(sys.stdin, args.fold).get(args.fold, {}).items():
            print("%s %d" % (stack, n))
        return 0
    sys.stdout.write(svg(read_folded(args.folded), args.title))
    return 0


if __name__ == "__main__":
    sys.exit(main())
