"""Renders loadtest/engine-goals.json (written by engine_goals.sh) as the markdown table of issue 10's goals."""
import json
import os
import sys
import time

out = json.load(open(sys.argv[1]))
redis = out["redis_get_rps"]
c = out["closed_8x32"]
measured = out.get("measured_at") or time.strftime("%Y-%m-%d", time.gmtime(os.path.getmtime(sys.argv[1])))
print("# Engine goals (issue 10), one run\n")
print(f"Written by `bash loadtest/engine_goals.sh` from loadtest/engine-goals.json, measured {measured}; "
      "2-core machine, load generator on the same cores. Only ok ranks count as throughput.\n")
print("| measure | value | goal |\n|---|---|---|")
print(f"| in-process closed 8x32, ok ranks/s | {c['ok_ranks_per_s']:.0f} ({c['ratio_to_redis']:.2f}x redis GET {redis:.0f} rps) | >= 0.5x |")
print(f"| engine CPU per answer (per ok rank) | {c['engine_cpu_us_per_rank']:.1f} us ({c['engine_cpu_us_per_ok_rank']:.1f} us) | <= 40 us |")
print(f"| p99 at half the maximum ({out['half_max_rate']:.0f}/s), open loop, 5 runs | {', '.join(str(p) for p in out['half_max_open_p99_us'])} us | <= 1000 us each |")
for k, o in out["overload"].items():
    print(f"| overload {k} ({o['offered']:.0f}/s offered): goodput | {o['ok_per_s']:.0f}/s = {o['goodput_share_of_max']:.0%} of max; errors {o['errors']} | >= 90 % |")
    print(f"| overload {k}: client p50 (all answers) / server total p50 | {o['client_p50_us_all_answers']} us / {o['server_total_p50_us']} us | within 2 ms |")
print(f"| RSS at full load / after overload | {out['rss_mb']['full_load']:.0f} MB / {out['rss_mb']['after_overload']:.0f} MB | < 100 MB |")
