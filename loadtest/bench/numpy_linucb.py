#!/usr/bin/env python3
"""numpy's matmul path for one LinUCB batch: scores = Xθ + α·sqrt(rowsum((X A⁻¹) ∘ X)).

The reference that `make bench` compares the engine's context build + scoring against.
Prints one JSON line: {"n":..,"d":..,"median_us":..,"min_us":..,"blas":..}.
"""
import argparse
import json
import timeit

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    x = rng.standard_normal((args.n, args.d))
    theta = rng.standard_normal(args.d)
    m = rng.standard_normal((args.d, args.d))
    a_inv = np.linalg.inv(m @ m.T + np.eye(args.d))
    alpha = 0.25

    def score():
        return x @ theta + alpha * np.sqrt(np.einsum("ij,ij->i", x @ a_inv, x))

    score()
    times = timeit.repeat(score, repeat=args.repeat, number=args.number)
    per_call = sorted(t / args.number * 1e6 for t in times)
    try:
        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {}).get("name", "unknown")
    except Exception:  # older numpy
        blas = "unknown"
    print(json.dumps({"n": args.n, "d": args.d, "median_us": per_call[len(per_call) // 2],
                      "min_us": per_call[0], "blas": blas}))


if __name__ == "__main__":
    main()
