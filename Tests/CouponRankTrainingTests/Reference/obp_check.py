#!/usr/bin/env python3
"""Recomputes CouponRank's off-policy estimates with Open Bandit Pipeline and compares.

Reads the bandit feedback that `couponrank evaluate --export-rows FILE` (or the evaluator's
BanditFeedbackWriter) wrote — proto-spec/MODEL.md §8.5 — pads each row's arrays over its remaining
set with zeros to `n_actions`, runs obp's InverseProbabilityWeighting,
SelfNormalizedInverseProbabilityWeighting and DoublyRobust `estimate_policy_value` on them
(len_list = 1, position 0), and compares with the file's own `evaluation` (ips, snips, dr).

    obp_check.py [--plain] [--rtol 1e-9] EXPORT.json [EXPORT.json ...]

--plain computes the same three formulas as obp 0.4.1 does, in plain Python, without importing
obp or numpy (a check that runs anywhere). Prints one line per file and estimator, then exits 0
when every value agrees within the relative tolerance, 1 when one does not, 2 when a file cannot
be read or obp cannot be imported.
"""

import argparse
import json
import math
import sys


def load(path):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    if document.get("format") != "couponrank-ope-rows/1":
        raise ValueError(f"{path}: not a couponrank-ope-rows/1 document")
    rows = document["rows"]
    if len(rows) != document["n_rounds"]:
        raise ValueError(f"{path}: n_rounds is {document['n_rounds']}, the file has {len(rows)} rows")
    if document["len_list"] != 1:
        raise ValueError(f"{path}: len_list must be 1")
    return document


def estimate_with_obp(document):
    import numpy as np
    from obp.ope import (
        DoublyRobust,
        InverseProbabilityWeighting,
        SelfNormalizedInverseProbabilityWeighting,
    )

    rows = document["rows"]
    n, actions = len(rows), document["n_actions"]
    reward = np.array([row["reward"] for row in rows], dtype=float)
    pscore = np.array([row["pscore"] for row in rows], dtype=float)
    action = np.array([row["action"] for row in rows], dtype=int)
    position = np.array([row["position"] for row in rows], dtype=int)
    action_dist = np.zeros((n, actions, 1))
    q_hat = np.zeros((n, actions, 1))
    for i, row in enumerate(rows):
        width = len(row["action_dist"])
        action_dist[i, :width, 0] = row["action_dist"]
        q_hat[i, :width, 0] = row["estimated_rewards_by_reg_model"]
    common = dict(reward=reward, action=action, pscore=pscore, action_dist=action_dist, position=position)
    return {
        "ips": float(InverseProbabilityWeighting().estimate_policy_value(**common)),
        "snips": float(SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**common)),
        "dr": float(DoublyRobust().estimate_policy_value(estimated_rewards_by_reg_model=q_hat, **common)),
    }


def estimate_plain(document):
    """obp 0.4.1's formulas: IPW mean(w r); SNIPW mean(w r / mean(w));
    DR mean(average(q, weights=pi) + w (r - q[a])), with w = pi[a] / pscore."""
    rows = document["rows"]
    n = len(rows)
    weights = [row["action_dist"][row["action"]] / row["pscore"] for row in rows]
    mean_weight = sum(weights) / n
    ips = sum(w * row["reward"] for w, row in zip(weights, rows)) / n
    snips = sum(w * row["reward"] / mean_weight for w, row in zip(weights, rows)) / n
    dr_terms = []
    for w, row in zip(weights, rows):
        pi, q = row["action_dist"], row["estimated_rewards_by_reg_model"]
        direct = sum(p * v for p, v in zip(pi, q)) / sum(pi)
        dr_terms.append(direct + w * (row["reward"] - q[row["action"]]))
    return {"ips": ips, "snips": snips, "dr": sum(dr_terms) / n}


def agrees(ours, theirs, rtol):
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    return abs(ours - theirs) <= rtol * max(abs(ours), abs(theirs)) + 1e-15


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", metavar="EXPORT.json")
    parser.add_argument("--plain", action="store_true", help="plain Python formulas instead of obp")
    parser.add_argument("--rtol", type=float, default=1e-9, help="relative tolerance (default 1e-9)")
    options = parser.parse_args()

    estimate = estimate_plain
    reference = "plain"
    if not options.plain:
        try:
            import obp

            estimate = estimate_with_obp
            reference = f"obp {obp.__version__}"
        except ImportError as error:
            print(f"error: cannot import obp ({error}); run obp_venv.sh, or use --plain", file=sys.stderr)
            return 2

    failures = 0
    for path in options.files:
        try:
            document = load(path)
        except (OSError, ValueError, KeyError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        evaluation = document["evaluation"]
        theirs = estimate(document)
        for name in ("ips", "snips", "dr"):
            ours = float(evaluation[name]["value"])
            ok = agrees(ours, theirs[name], options.rtol)
            failures += 0 if ok else 1
            difference = abs(ours - theirs[name]) / max(abs(ours), abs(theirs[name]), 1e-300)
            print(
                f"{'ok  ' if ok else 'DIFF'} {path} {evaluation['model_version']} {name:5} "
                f"couponrank={ours!r} {reference}={theirs[name]!r} relative_difference={difference:.3e} "
                f"rows={document['n_rounds']} actions={document['n_actions']}"
            )
    print(f"{'agree' if failures == 0 else 'DISAGREE'}: {failures} of {3 * len(options.files)} estimates differ beyond rtol {options.rtol}")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
