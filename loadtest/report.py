#!/usr/bin/env python3
"""Writes loadtest/RESULTS.md from the JSON that loadtest/poc.sh collected (standard library only)."""
import argparse
import glob
import json
import math
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def ms(us):
    return f"{us / 1000:.2f}"


def latency_rows(report):
    rows = [("client, corrected", report["latency_us"]), ("client, uncorrected", report["latency_uncorrected_us"]),
            ("server total", report["server_total_us"]), ("  fetch", report["server_fetch_us"]),
            ("  context build", report["server_context_us"]), ("  score + rank", report["server_score_us"])]
    if report.get("pages_us"):
        rows.insert(0, (f"page ({report['calls_per_page']} calls)", report["pages_us"]))
    out = ["| latency (ms) | p50 | p90 | p99 | p99.9 | max |", "|---|---:|---:|---:|---:|---:|"]
    for name, s in rows:
        out.append(f"| {name} | {ms(s['p50'])} | {ms(s['p90'])} | {ms(s['p99'])} | {ms(s['p99_9'])} | {ms(s['max'])} |")
    return "\n".join(out)


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1048576:.0f} GiB"
    except OSError:
        pass
    try:
        swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        swift = "unknown"
    return f"{os.cpu_count()} cores ({cpu}), {mem} memory, {platform.system()} {platform.release()}; {swift}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--charts", required=True)
    parser.add_argument("--peak", type=int, default=20000)
    parser.add_argument("--slo", default="p99=50ms")
    args = parser.parse_args()
    out, charts = args.out, args.charts
    lines = []
    w = lines.append

    redis_line = read(f"{out}/redis-benchmark.txt")
    redis_rps = float(redis_line.split()[1]) if redis_line.startswith("GET:") else None
    closed = load(f"{out}/closed-loop.json")
    scenarios = sorted(p for p in glob.glob(f"{out}/*.json")
                       if os.path.basename(p)[0].isdigit() and "-half" not in p)

    w("# CouponRank PoC results")
    w("")
    w(f"Written by `make poc` (loadtest/poc.sh) on {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}. "
      "Generator and engine share one machine; every figure below was measured in that run.")
    w("")
    w(f"**Machine:** {machine()}.")
    w("")
    w("**Method.** Open-loop load at a constant arrival rate; each latency is measured from the request's "
      "intended start, so a stalled server cannot hide its queue (the uncorrected figures are shown beside). "
      "Errors stay in every statistic. `--find-max` doubles the rate until a step misses the SLO "
      f"({args.slo}, errors ≤ 0.1%, and at least 95% of the offered rate achieved), then bisects. "
      "Each step runs a 1 s warm-up (excluded) and a measured window.")
    w("")

    # Summary of the goals.
    w("## Goals")
    w("")
    w("| goal | target | measured | met |")
    w("|---|---|---|---|")
    if redis_rps and closed:
        ratio = closed["achieved_rate"] / redis_rps
        w(f"| throughput vs `redis-benchmark -t get -c 50` | ≥ 0.5× | {closed['achieved_rate']:.0f} ranks/s vs "
          f"{redis_rps:.0f} GET/s = **{ratio:.2f}×** | {'yes' if ratio >= 0.5 else 'no'} |")
    first = load(scenarios[0]) if scenarios else None
    half = load(f"{out}/1-in-process-half.json")
    if half:
        p99 = half["latency_us"]["p99"]
        w(f"| p99 at half the maximum rate, open loop (in-process) | ≤ 1 ms | {ms(p99)} ms at {half['offered_rate']:.0f}/s "
          f"| {'yes' if p99 <= 1000 else 'no'} |")
    rss = read(f"{out}/closed-loop-rss-kb.txt")
    if rss:
        w(f"| engine RSS at full load | < 100 MB | {int(rss) / 1024:.0f} MB (peak) | {'yes' if int(rss) < 102400 else 'no'} |")
    http_cpu = read(f"{out}/2-http-no-latency-cpu.txt")
    http_half = load(f"{out}/2-http-no-latency-half.json")
    http_max = load(f"{out}/2-http-no-latency.json")
    if http_cpu and http_half and http_max:
        before, after, hz = (int(x) for x in http_cpu.split())
        per_rank = (after - before) / hz / max(http_half["completed"], 1) * 1e6
        w(f"| HTTP stubs, no latency: rate and CPU per rank | stated | {http_max.get('best_rate') or 0:.0f} ranks/s at the SLO; "
          f"{per_rank:.0f} µs of engine CPU per rank (at {http_half['offered_rate']:.0f}/s) | — |")
    inproc_cpu = read(f"{out}/1-in-process-cpu.txt")
    if inproc_cpu and half:
        before, after, hz = (int(x) for x in inproc_cpu.split())
        per_rank = (after - before) / hz / max(half["completed"], 1) * 1e6
        w(f"| in-process: CPU per rank | stated | {per_rank:.0f} µs of engine CPU per rank | — |")
    w("")

    # Scenarios.
    w("## Scenarios")
    w("")
    w("| scenario | highest rate with " + args.slo + " | p99 there (ms) | degraded | errors |")
    w("|---|---:|---:|---:|---:|")
    for path in scenarios:
        data = load(path)
        name = os.path.basename(path)[:-5]
        best = data.get("best") or {}
        rate = data.get("best_rate")
        if rate:
            degraded = best["degraded"] / max(best["completed"], 1) * 100
            w(f"| {name} | {rate:.0f}/s | {ms(best['latency_us']['p99'])} | {degraded:.1f}% | {best['errors'] or 'none'} |")
        else:
            w(f"| {name} | none met the SLO | — | — | — |")
    w("")
    for path in scenarios:
        data = load(path)
        name = os.path.basename(path)[:-5]
        title = read(f"loadtest/scenarios/{name}.env").split('TITLE="', 1)[-1].split('"', 1)[0]
        w(f"### {name}: {title}")
        w("")
        if data.get("best"):
            best = data["best"]
            w(f"Highest rate meeting the SLO: **{data['best_rate']:.0f} ranks/s** "
              f"({best['achieved_rate']:.0f}/s achieved; {best['ok']} ranked, {best['degraded']} degraded, "
              f"errors {best['errors'] or 'none'}).")
            w("")
            w(latency_rows(best))
        else:
            w("No rate tried met the SLO.")
        w("")
        w(f"![latency against throughput]({os.path.relpath(charts, 'loadtest')}/{name}.svg)")
        w("")
        w("<details><summary>every step of the search</summary>")
        w("")
        w("| offered/s | achieved/s | p50 ms | p99 ms | p99.9 ms | errors | SLO |")
        w("|---:|---:|---:|---:|---:|---:|---|")
        for point in data["curve"]:
            verdict = "met" if point["meets_slo"] else "missed: " + "; ".join(point["violations"])
            w(f"| {point['offered_rate']:.0f} | {point['achieved_rate']:.0f} | {ms(point['p50_us'])} | {ms(point['p99_us'])} "
              f"| {ms(point['p99_9_us'])} | {point['error_rate'] * 100:.2f}% | {verdict} |")
        w("")
        w("</details>")
        w("")

    stall = load(f"{out}/stall.json")
    if stall:
        w("## A deliberate 200 ms stall")
        w("")
        w(f"Open loop at {stall['offered_rate']:.0f}/s; the engine was stopped for 200 ms (SIGSTOP, SIGCONT) "
          "4 s into the run. The stall shows in the corrected p99.9 and max. Here the uncorrected figures "
          "show it too, because the generator kept sending on schedule into the socket while the engine "
          "was stopped; they understate a stall only when the sender itself falls behind, which the "
          "load-test unit tests simulate.")
        w("")
        w(latency_rows(stall))
        w("")
        w(f"![latency distribution with the stall]({os.path.relpath(charts, 'loadtest')}/stall.svg)")
        w("")

    pages = load(f"{out}/pages.json")
    if pages:
        w("## Page loads")
        w("")
        w(f"Each page load makes {pages['calls_per_page']} Rank calls at once; its latency is the slowest. "
          f"{pages['achieved_rate']:.0f} pages/s offered open loop at {pages['offered_rate']:.0f}/s.")
        w("")
        w(latency_rows(pages))
        w("")

    w("## Capacity")
    w("")
    w(f"For a stated peak of **{args.peak} ranks/s**, planning each replica at 70% of the highest rate that met "
      "the SLO on this 2-core machine (the generator took part of the same cores, so this is conservative):")
    w("")
    w("| scenario | per replica (70%) | replicas for the peak |")
    w("|---|---:|---:|")
    for path in scenarios:
        data = load(path)
        rate = data.get("best_rate") or 0
        name = os.path.basename(path)[:-5]
        if rate:
            w(f"| {name} | {rate * 0.7:.0f}/s | {math.ceil(args.peak / (rate * 0.7))} |")
    w("")
    goals = os.path.join(os.path.dirname(os.path.abspath(__file__)), "engine-goals.json")
    if os.path.exists(goals):
        # The engine's own goals come from their own run (engine_goals.sh); its table, one level down.
        table = subprocess.run(
            ["python3", os.path.join(os.path.dirname(goals), "engine_goals_table.py"), goals],
            capture_output=True, text=True, check=True,
        ).stdout
        w(table.replace("# Engine goals", "## Engine goals", 1).rstrip())
        w("")
    decision_log = os.path.join(os.path.dirname(os.path.abspath(__file__)), "decision-log.json")
    if os.path.exists(decision_log):
        # The decision log's cost comes from its own run (decision_log.sh), kept between its markers.
        sys.path.insert(0, os.path.dirname(decision_log))
        import decision_log_table
        section = decision_log_table.render(json.load(open(decision_log)))
        w(decision_log_table.BEGIN)
        w(section.replace("# Decision log cost", "## Decision log cost", 1).rstrip())
        w(decision_log_table.END)
        w("")
    w("## Commands")
    w("")
    w("```")
    w(read(f"{out}/commands.txt"))
    w("```")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
