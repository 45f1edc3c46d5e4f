#!/usr/bin/env python3
"""Writes loadtest/RESULTS.md from the JSON that loadtest/poc.sh collected (standard library only).

Every figure comes from a file of the run; a file that is missing or unreadable stops the report
with its name, so a failed scenario never becomes a partial report.
"""
import argparse
import glob
import json
import math
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone


class ReportError(Exception):
    pass


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: {error}")


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as error:
        raise ReportError(f"{path}: {error}")


def ms(us):
    return f"{us / 1000:.2f}"


def rate(value):
    return f"{value:,.0f}".replace(",", " ")


def pct(value):
    return f"{value * 100:.1f} %"


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


def steps_table(search):
    out = ["| offered/s | achieved/s | p50 ms | p99 ms | p99.9 ms | errors | degraded | SLO |",
           "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for p in search["curve"]:
        verdict = "met" if p["meets_slo"] else "missed: " + "; ".join(p["violations"])
        out.append(f"| {rate(p['offered_rate'])} | {rate(p['achieved_rate'])} | {ms(p['p50_us'])} | {ms(p['p99_us'])} | "
                   f"{ms(p['p99_9_us'])} | {p['error_rate'] * 100:.2f} % | {pct(p.get('degraded_rate', 0))} | {verdict} |")
    return "\n".join(out)


def errors_text(errors):
    return ", ".join(f"{code} {count}" for code, count in sorted(errors.items())) or "none"


def machine():
    cpu = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "unknown"
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            memory = f"{int(line.split()[1]) / 1048576:.0f} GiB"
    try:
        swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        swift = "swift: unknown"
    return f"{os.cpu_count()} cores ({cpu}), {memory} memory, {platform.system()} {platform.release()}; {swift}; Python {platform.python_version()}"


class Measured:
    """One implementation on one upstream profile: its searches and its CPU at half the maximum."""

    def __init__(self, out, name, bounded=True):
        self.name = name
        self.search = load(f"{out}/{name}.json")
        self.bounded = load(f"{out}/{name}-bounded.json") if bounded else None
        self.half = load(f"{out}/{name}-half.json")
        cpu = load(f"{out}/{name}-cpu.json")
        if not self.search.get("best_rate"):
            raise ReportError(f"{out}/{name}.json: no rate met the SLO")
        self.best_rate = self.search["best_rate"]
        self.best = self.search["best"]
        # The CPU window spans the warm-up too: count the calls sent in it (open loop: on schedule).
        calls = self.half["sent"] + cpu["rate"] * cpu.get("warmup_s", 1)
        self.cpu_us_per_rank = cpu["ticks"] / cpu["hz"] / max(calls, 1) * 1e6
        self.cpu_rate = cpu["rate"]
        self.fully_personalised = 1 - self.half["degraded"] / max(self.half["completed"], 1)

    @property
    def bounded_rate(self):
        return self.bounded.get("best_rate") if self.bounded else None

    def replicas(self, peak, cores, utilisation):
        return math.ceil(peak * self.cpu_us_per_rank / 1e6 / (cores * utilisation))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--charts", required=True)
    parser.add_argument("--peaks", default="5000 20000 100000")
    parser.add_argument("--slo", default="p99=50ms")
    parser.add_argument("--max-degraded", default="1%")
    parser.add_argument("--page-budget-ms", type=float, default=1000)
    parser.add_argument("--rank-share", type=float, default=0.1)
    parser.add_argument("--utilisation", type=float, default=0.6)
    parser.add_argument("--peer-workers", type=int, default=2)
    args = parser.parse_args()
    out = args.out
    try:
        print(report(args, out))
    except ReportError as missing:
        print(f"report.py: cannot write the report: {missing}", file=sys.stderr)
        sys.exit(1)


def report(args, out):
    scenarios = sorted(os.path.basename(p)[:-4] for p in glob.glob("loadtest/scenarios/*.env"))
    titles = {}
    for name in scenarios:
        for line in open(f"loadtest/scenarios/{name}.env"):
            if line.startswith("TITLE="):
                titles[name] = line.split("=", 1)[1].strip().strip('"')
    engine = {name: Measured(out, name) for name in scenarios}
    peer = {name: Measured(out, f"peer-{name}", bounded=False) for name in scenarios}
    logged = {name: load(f"{out}/{name}-logged.json") for name in scenarios}
    nolog = load(f"{out}/1-in-process-nolog.json")
    one_core = Measured(out, "1-in-process-1core", bounded=False)
    pages = load(f"{out}/pages.json")
    closed = load(f"{out}/closed-loop.json")
    stall = load(f"{out}/stall.json")
    goals = load(f"{out}/engine-goals.json")
    redis_line = read(f"{out}/redis-benchmark.txt")
    redis_get = float(redis_line.split()[1])
    peer_packages = read(f"{out}/peer-packages.txt").split()
    peaks = [int(p) for p in args.peaks.split()]
    cores = os.cpu_count()
    share_ms = args.page_budget_ms * args.rank_share
    slo_ms = float(args.slo.split("=")[1].rstrip("ms"))
    util = args.utilisation
    realistic, slow = "3-http-realistic", "4-http-slow-stats"
    r = engine[realistic]
    inproc = engine["1-in-process"]
    L = []

    # --- The answer -------------------------------------------------------------------------
    L.append("# CouponRank PoC: personalised coupons inside the page-load budget")
    L.append("")
    L.append(f"Written by `make poc` (loadtest/poc.sh → loadtest/report.py) on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC "
             "from the JSON of that run (loadtest/out/); no figure is typed by hand.")
    L.append("")
    L.append("## The answer")
    L.append("")
    fetch_p99, engine_p99 = r.half["server_fetch_us"]["p99"], r.half["server_context_us"]["p99"] + r.half["server_score_us"]["p99"]
    page_p99 = pages["pages_us"]["p99"]
    fits = page_p99 <= share_ms * 1000 and r.best["latency_us"]["p99"] <= slo_ms * 1000
    dominant = "the upstreams dominate" if fetch_p99 > engine_p99 else "the engine's own work dominates"
    verdict = ("Yes, with realistic upstreams" if fits else "Not inside the budget with these upstreams") + \
        f", and {'the upstreams set' if fetch_p99 > engine_p99 else 'the engine sets'} the latency."
    L.append(
        f"**{verdict}** We assume a page-load budget of "
        f"**{args.page_budget_ms:.0f} ms**, of which the Rank call may take **{args.rank_share * 100:.0f} % ({share_ms:.0f} ms)**; "
        f"the SLO is **p99 ≤ {slo_ms:.0f} ms** at the engine's client with ≤ 0.1 % errors ({slo_note(slo_ms, share_ms)}). "
        f"With upstreams answering in 5/10/20 ms (heavy tails), the SLO held up to **{rate(r.best_rate)} ranks/s** on this machine "
        f"(p99 {ms(r.best['latency_us']['p99'])} ms), with the generator and the stub upstreams on the same two cores; the engine used "
        f"**{r.cpu_us_per_rank:.0f} µs of CPU per rank** there (measured at {rate(r.cpu_rate)}/s). "
        f"A page making {pages['calls_per_page']} Rank calls in parallel had a page-level p99 of **{ms(page_p99)} ms** against the "
        f"{share_ms:.0f} ms share. Inside a rank, the upstream fetch took p99 {ms(fetch_p99)} ms and the engine's own work "
        f"(context build + scoring of 200 candidates) p99 {ms(engine_p99)} ms: **{dominant}**."
    )
    L.append("")
    L.append(
        f"**Cost at peak**, sized from measured CPU per rank at {util * 100:.0f} % target utilisation "
        f"({(1 - util) * 100:.0f} % headroom for bursts and the loss of a replica), {cores}-core replicas:"
    )
    L.append("")
    header = "| upstream profile | fully personalised | CPU/rank | " + " | ".join(f"{rate(p)} ranks/s" for p in peaks) + " |"
    L.append(header)
    L.append("|---|---:|---:|" + "---:|" * len(peaks))
    for name in scenarios:
        m = engine[name]
        cells = " | ".join(f"{m.replicas(p, cores, util)} ({m.replicas(p, cores, util) * cores} cores)" for p in peaks)
        L.append(f"| CouponRank, {titles[name]} | {pct(m.fully_personalised)} | {m.cpu_us_per_rank:.0f} µs | {cells} |")
    for name in scenarios:
        m = peer[name]
        cells = " | ".join(f"{m.replicas(p, cores, util)} ({m.replicas(p, cores, util) * cores} cores)" for p in peaks)
        L.append(f"| Python peer, {titles[name]} | {pct(m.fully_personalised)} | {m.cpu_us_per_rank:.0f} µs | {cells} |")
    L.append("")
    ratio_r = peer[realistic].cpu_us_per_rank / r.cpu_us_per_rank
    ratio_i = peer["1-in-process"].cpu_us_per_rank / inproc.cpu_us_per_rank
    L.append(
        f"The Python stack a team would otherwise build (FastAPI + numpy + aiohttp, {args.peer_workers} workers, same model, same "
        f"upstreams, same generator, same run) served **{rate(peer[realistic].best_rate)} ranks/s** at the same SLO with realistic "
        f"upstreams and needs **{ratio_r:.1f}× the CPU per rank** ({ratio_i:.1f}× with in-process data): "
        f"{peer[realistic].replicas(20000, cores, util)} replicas instead of {r.replicas(20000, cores, util)} at 20 000 ranks/s."
    )
    L.append("")
    degraded_r = 1 - r.fully_personalised
    L.append(
        f"**Personalisation.** At half its maximum, {pct(r.fully_personalised)} of CouponRank's answers with realistic upstreams were "
        f"fully personalised; the rest ({pct(degraded_r)}) were ranked with an upstream's defaults because that upstream missed its "
        f"timeout (UPSTREAMS.md §5). With a slow statistics service only {pct(engine[slow].fully_personalised)} were. "
        f"Counting a degraded answer against the SLO (≤ {args.max_degraded} degraded), the maximum with realistic upstreams is "
        f"{bounded_text(r)}; with the slow statistics service {bounded_text(engine[slow])}. The share is set by the upstreams' tails "
        f"against their timeouts, not by the engine's load."
    )
    L.append("")
    http_rates = ", ".join(f"{rate(engine[n].cpu_rate)}/s" for n in scenarios if n != "1-in-process")
    L.append(
        f"**Why an HTTP rank costs {engine['2-http-no-latency'].cpu_us_per_rank / inproc.cpu_us_per_rank:.0f}× an in-process one.** "
        f"With HTTP upstreams the CPU per rank was measured at {http_rates}, half of the maxima found on this shared machine. "
        f"At such rates every upstream answer wakes a thread (curl's, then the task that awaits it, then the event "
        f"loop); a perf profile of the engine at such a rate with HTTP stubs (taken apart from this run) shows the kernel's "
        f"scheduler and the reading of the three JSON answers (a 200-coupon list per rank) as the largest costs. Those costs shrink per rank "
        f"as the rate rises and wake-ups batch, so the HTTP rows of the table above are upper bounds; the in-process row is the "
        f"engine's own cost. Sizing a fleet for HTTP upstreams needs this measurement repeated on a replica that is not sharing "
        f"its cores with the generator and the upstreams."
    )
    L.append("")
    L.append(
        f"**Limits of this evidence.** Everything ran on one {cores}-core machine: the load generator, the stub upstreams, Redis and "
        f"the engine share those cores, so the maxima are lower bounds and the capacity is sized from CPU per rank instead. Pinned to "
        f"one core (generator on the other), the engine did {rate(one_core.best_rate)} ranks/s in-process at "
        f"{one_core.cpu_us_per_rank:.0f} µs per rank, against {rate(inproc.best_rate)}/s and {inproc.cpu_us_per_rank:.0f} µs on both "
        f"cores shared with the generator; replicas scale out, so the fleet figure is peak × CPU per rank whatever the core count. "
        f"Every scenario ran with decision logging to Redis on."
    )
    L.append("")

    # --- Side by side ------------------------------------------------------------------------
    L.append("## CouponRank beside the Python peer, same run")
    L.append("")
    L.append(f"SLO: {args.slo}, errors ≤ 0.1 %, at least 95 % of the offered rate achieved; the search doubles the rate until a step "
             f"misses, then bisects. CPU per rank: utime + stime of the server's processes during a 5 s run at half its maximum, "
             f"divided by the calls sent in that window (warm-up included).")
    L.append("")
    L.append("| upstream profile | CouponRank max/s | Python max/s | ratio | CouponRank p99 at max (ms) | Python p99 at max (ms) | CouponRank CPU/rank | Python CPU/rank | CPU ratio |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in scenarios:
        e, p = engine[name], peer[name]
        L.append(f"| {titles[name]} | {rate(e.best_rate)} | {rate(p.best_rate)} | {e.best_rate / p.best_rate:.1f}× | "
                 f"{ms(e.best['latency_us']['p99'])} | {ms(p.best['latency_us']['p99'])} | {e.cpu_us_per_rank:.0f} µs | "
                 f"{p.cpu_us_per_rank:.0f} µs | {p.cpu_us_per_rank / e.cpu_us_per_rank:.1f}× |")
    L.append("")
    L.append(
        "The peer (loadtest/peers/python/app.py) builds the same context vectors from the same model document (MODEL.md §2: "
        "numeric, one-hot, hashed, cross and product features) and scores them with numpy in one batch, calls the same three "
        "upstream services concurrently with aiohttp under the same timeouts, and answers JSON over HTTP/1.1 (uvicorn with uvloop "
        "and httptools, one BLAS thread per worker). It does less than the engine: no decision logging, no exploration, no "
        "admission control. The generator reaches it over HTTP/JSON with keep-alive connections (`couponrank-loadtest --http`), "
        "the engine over its binary RPC. Packages: " + ", ".join(f"`{p}`" for p in peer_packages) + "."
    )
    L.append("")

    # --- Engine goals ----------------------------------------------------------------------------
    L.append("## The engine's goals (issue 10), measured in this run")
    L.append("")
    c = goals["closed_8x32"]
    halves = goals["half_max_open_p99_us"]
    L.append("| goal | target | measured | met |")
    L.append("|---|---|---|---|")
    L.append(f"| in-process ranks/s vs `redis-benchmark -t get -c 50` | ≥ 0.5× | {rate(c['ok_ranks_per_s'])} vs {rate(goals['redis_get_rps'])} GET/s = "
             f"{c['ratio_to_redis']:.2f}× | {'yes' if c['ratio_to_redis'] >= 0.5 else 'no'} |")
    L.append(f"| engine CPU per rank (closed loop) | ≤ 40 µs | {c['engine_cpu_us_per_rank']:.0f} µs | {'yes' if c['engine_cpu_us_per_rank'] <= 40 else 'no'} |")
    L.append(f"| p99 at half the maximum ({rate(goals['half_max_rate'])}/s), open loop, 5 runs | ≤ 1 ms each | "
             f"{', '.join(ms(v) for v in halves)} ms | {'yes' if max(halves) <= 1000 else 'no'} |")
    for k, o in goals["overload"].items():
        L.append(f"| overload {k} ({rate(o['offered'])}/s offered): goodput | ≥ 90 % of the maximum | {pct(o['goodput_share_of_max'])} "
                 f"(errors: {errors_text(o['errors'])}) | {'yes' if o['goodput_share_of_max'] >= 0.9 else 'no'} |")
    L.append(f"| RSS at full load / after overload | < 100 MB | {goals['rss_mb']['full_load']:.0f} / {goals['rss_mb']['after_overload']:.0f} MB | "
             f"{'yes' if max(goals['rss_mb'].values()) < 100 else 'no'} |")
    L.append("")
    L.append(
        f"Why the misses: on {cores} cores the generator (8 connections × 32 in flight) takes about as much CPU as the engine, and "
        f"redis-benchmark's GET is a hash lookup while a rank builds and scores a 200 × 64 matrix: {c['engine_cpu_us_per_rank']:.0f} µs "
        f"of engine CPU per rank against a 40 µs goal. The half-maximum p99 runs share the cores with the generator, which is why "
        f"they spread; the rate search's own steps (below) are single {read_step_seconds(out)} windows and vary in the same way. "
        f"Under 2× and 4× overload the engine sheds by queueing time (OVERLOADED answers) and the generator's own CPU competes with "
        f"it, so goodput falls below the goal on this machine; engine_goals.sh measures the same thing on its own (loadtest/ENGINE-GOALS.md)."
    )
    L.append("")
    L.append(f"Also: the closed loop (8 × 32 in flight) ranked {rate(closed['ok'] / closed['measured_seconds'])}/s ok "
             f"(errors: {errors_text(closed['errors'])}); engine peak RSS {int(read(f'{out}/closed-loop-rss-kb.txt')) / 1024:.0f} MB; "
             f"redis-benchmark GET on this machine: {rate(redis_get)}/s.")
    L.append("")

    # --- The learning loop's cost ---------------------------------------------------------------
    L.append("## The learning loop's cost")
    L.append("")
    L.append("| in-process | max ranks/s at the SLO | p99 there (ms) |")
    L.append("|---|---:|---:|")
    L.append(f"| decision logging on (every rank's decision to a Redis Stream) | {rate(inproc.best_rate)} | {ms(inproc.best['latency_us']['p99'])} |")
    L.append(f"| decision logging off | {rate(nolog['best_rate'])} | {ms(nolog['best']['latency_us']['p99'])} |")
    L.append("")
    if inproc.best_rate < nolog["best_rate"]:
        L.append(f"Logging on cost {(1 - inproc.best_rate / nolog['best_rate']) * 100:.0f} % of the in-process maximum in this run. "
                 f"Both maxima were set by the same limit, a step just above each missed with \"{stopped_by(inproc.search)}\" "
                 f"(logging on) and \"{stopped_by(nolog)}\" (off): a few errors over the 0.1 % bound, which bursts on cores "
                 f"shared with the generator cross, so the difference is as much that noise as the logging.")
    else:
        L.append(f"This run shows no cost: the maximum with logging on ({rate(inproc.best_rate)}/s) was not below the one with "
                 f"logging off ({rate(nolog['best_rate'])}/s); the difference is within the spread of repeated searches on "
                 f"these shared cores.")
    written = {name: logged[name]["after"] - logged[name]["before"] for name in scenarios}
    if not all(written.values()):
        raise ReportError(f"decision logging was on in every scenario, yet these wrote no decision: "
                      f"{', '.join(name for name, count in written.items() if not count)}")
    L.append("Decisions written to the decision stream per scenario (XLEN of `couponrank:events:decisions` before and after): " +
             ", ".join(f"{name} {rate(count)}" for name, count in written.items()) + ".")
    L.append("")

    # --- Page mode ------------------------------------------------------------------------------
    L.append(f"## Page mode: {pages['calls_per_page']} Rank calls per page load, realistic upstreams")
    L.append("")
    L.append(f"{rate(pages['offered_rate'])} pages/s ({rate(pages['offered_rate'] * pages['calls_per_page'])} Rank calls/s), each page's "
             f"calls sent at once; a page's latency is its slowest call's, from the page's intended start. Page p99 "
             f"**{ms(pages['pages_us']['p99'])} ms** against the {share_ms:.0f} ms share of the page-load budget; "
             f"{pages.get('pages_failed', 0)} of the pages had a failed call.")
    L.append("")
    L.append(latency_rows(pages))
    L.append("")

    # --- Scenarios ------------------------------------------------------------------------------
    L.append("## Every scenario")
    L.append("")
    L.append(f"| profile | implementation | max/s, p99 ≤ {slo_ms:.0f} ms | p99 there (ms) | degraded there | errors there | the next step up missed | max/s with ≤ {args.max_degraded} degraded |")
    L.append("|---|---|---:|---:|---:|---|---|---:|")
    for name in scenarios:
        for label, m in (("CouponRank", engine[name]), ("Python peer", peer[name])):
            best = m.best
            bounded = bounded_cell(m) if m.bounded else "not searched"
            L.append(f"| {name} | {label} | {rate(m.best_rate)} | {ms(best['latency_us']['p99'])} | "
                     f"{pct(best['degraded'] / max(best['completed'], 1))} | {errors_text(best['errors'])} | {stopped_by(m.search)} | {bounded} |")
    L.append("")
    for name in scenarios:
        for label, m, chart in (("CouponRank", engine[name], name), ("Python peer", peer[name], f"peer-{name}")):
            L.append(f"### {label}: {titles[name]}")
            L.append("")
            L.append(f"Highest rate meeting the SLO: **{rate(m.best_rate)} ranks/s** ({rate(m.best['achieved_rate'])}/s achieved; "
                     f"{m.best['completed']} answered, {m.best['degraded']} degraded, errors: {errors_text(m.best['errors'])}). "
                     f"At half of it ({rate(load(f'{out}/{m.name}-cpu.json')['rate'])}/s): {m.cpu_us_per_rank:.0f} µs of CPU per rank, "
                     f"{pct(m.fully_personalised)} fully personalised; latencies of that run:")
            L.append("")
            L.append(latency_rows(m.half))
            L.append("")
            L.append(f"![{label}: latency against throughput]({os.path.relpath(args.charts, 'loadtest')}/{chart}.svg)")
            L.append("")
            L.append("<details><summary>every step of the search</summary>")
            L.append("")
            L.append(steps_table(m.search))
            if m.bounded:
                L.append("")
                L.append(f"With at most {args.max_degraded} degraded:")
                L.append("")
                L.append(steps_table(m.bounded))
            L.append("")
            L.append("</details>")
            L.append("")

    L.append("## A 200 ms stall (SIGSTOP) during an open-loop run, in-process")
    L.append("")
    L.append(f"{rate(stall['offered_rate'])}/s offered; the engine was stopped for 200 ms four seconds in. The corrected figures "
             "measure from each request's intended start, so the queue the stall built shows in them; the uncorrected ones hide it.")
    L.append("")
    L.append(latency_rows(stall))
    L.append("")
    L.append(f"![latency distribution with a stall]({os.path.relpath(args.charts, 'loadtest')}/stall.svg)")
    L.append("")
    L.append("## How this was measured")
    L.append("")
    L.append(f"**Machine:** {machine()}.")
    L.append("")
    L.append("Open-loop load at a constant arrival rate, latencies from each request's intended start (coordinated omission "
             "corrected; uncorrected beside), errors in every statistic, a 1 s warm-up excluded from each step. Decision logging "
             "to Redis on unless stated. Chart ticks are the achieved rate; the dashed grey line is the SLO, the green one the "
             "chosen maximum. Commands, in order:")
    L.append("")
    L.append("```")
    L.append(read(f"{out}/commands.txt"))
    L.append("```")
    return "\n".join(L)


def stopped_by(search):
    """What the failing step nearest above the maximum missed: what set the maximum."""
    above = [p for p in search["curve"] if not p["meets_slo"] and p["offered_rate"] > (search.get("best_rate") or 0)]
    if not above:
        return "the highest rate tried"
    return "; ".join(min(above, key=lambda p: p["offered_rate"])["violations"])


def slo_note(slo_ms, share_ms):
    if slo_ms >= share_ms:
        return ("the whole Rank share: the coupon platform and the engine share a data centre, where the network adds well "
                "under a millisecond; this PoC measures over loopback")
    return f"the other {share_ms - slo_ms:.0f} ms of the share are left for the network to the coupon platform and its own work"


def read_step_seconds(out):
    for line in read(f"{out}/commands.txt").splitlines():
        if "--step-duration" in line:
            return line.split("--step-duration ")[1].split()[0]
    return "short"


def bounded_text(m):
    value = m.bounded_rate
    if not value:
        return "not reached at any rate tried (degraded above the bound even at the lowest)"
    return f"{rate(value)} ranks/s (against {rate(m.best_rate)} without the bound)"


def bounded_cell(m):
    return rate(m.bounded_rate) if m.bounded_rate else "none met"


if __name__ == "__main__":
    main()
