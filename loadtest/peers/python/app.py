"""The ranking pipeline a team would build in Python instead of CouponRank: the PoC's peer.

FastAPI under uvicorn, numpy scoring of the same model document (proto-spec/MODEL.md §2–3), and an
async HTTP client (aiohttp) for the same upstream contract (proto-spec/UPSTREAMS.md). It answers

    GET /v1/rank/{easy_id}?top_k=K
    → {"easy_id", "model_version", "coupons": [{"id", "name", "score"}], "degraded": [...],
       "timings_us": {"fetch", "context", "score", "total"}}

Configuration (environment):
    PEER_MODEL            the model document (JSON), e.g. the bundled default-model.json
    PEER_UPSTREAM_URL     base URL of the three upstream services; absent: in-process data
    PEER_USER_TIMEOUT_MS, PEER_CANDIDATES_TIMEOUT_MS, PEER_STATS_TIMEOUT_MS   per-call timeouts
    PEER_BUDGET_MS        a request's whole budget (default 100)

In-process data has the shape of the engine's stub sources (a 3000-coupon catalogue, 200 candidates
per user, the same categories, segments and fields), drawn from numpy's generator seeded by the
easy_id: the same work per rank, not the same values. Decisions are not logged and there is no
exploration: the peer does less than the engine per rank, never more.
"""
import asyncio
import json
import math
import os
import time
from functools import lru_cache

import aiohttp
import numpy as np
from fastapi import FastAPI, HTTPException, Response

PRIOR_CTR, PRIOR_CVR = 0.02, 0.002
CATEGORIES = ["fashion", "electronics", "grocery", "beauty", "travel", "home", "sports", "books", "kids", "pets"]
SEGMENTS = ["new", "regular", "vip", "dormant"]
DEVICES = ["ios", "android", "web"]
REGIONS = ["hokkaido", "tohoku", "kanto", "chubu", "kansai", "chugoku", "shikoku", "kyushu"]


@lru_cache(maxsize=1 << 16)
def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


class Model:
    """The model document compiled to column blocks, scored over the whole candidate matrix."""

    def __init__(self, document):
        self.version = document["version"]
        self.kind = document["kind"]
        self.theta = np.asarray(document["theta"], dtype=np.float64)
        self.d = len(self.theta)
        self.alpha = float(document.get("alpha", 0))
        if self.kind == "linucb":
            self.a_inverse = np.asarray(document["a_inverse"], dtype=np.float64).reshape(self.d, self.d)
        self.features = []
        column = 0
        for feature in document["features"]:
            kind = feature["kind"]
            width = {"bias": 1, "numeric": 1, "product": 1}.get(kind) or (
                len(feature["vocabulary"]) if kind == "onehot" else feature["buckets"])
            if kind == "onehot":
                feature = dict(feature, index={word: i for i, word in enumerate(feature["vocabulary"])})
            self.features.append((column, width, feature))
            column += width
        if column != self.d:
            raise ValueError(f"features give {column} columns, theta has {self.d}")

    @staticmethod
    def transform(feature, values):
        if feature.get("transform", "identity") == "log1p":
            values = np.log1p(np.maximum(values, 0))
        result = (values - feature.get("mean", 0.0)) / feature.get("std", 1.0)
        return np.where(np.isfinite(result), result, 0.0)

    def contexts(self, user, coupons, stats):
        """One row per candidate: x of MODEL.md §2. A user field is one value for the whole batch."""
        n = len(coupons["id"])
        x = np.zeros((n, self.d))
        rows = np.arange(n)
        for column, width, feature in self.features:
            kind = feature["kind"]
            if kind == "bias":
                x[:, column] = 1.0
            elif kind == "numeric":
                values = numeric(feature["field"], user, coupons, stats, n)
                x[:, column] = self.transform(feature, values)
            elif kind == "product":
                a, b = (numeric(f, user, coupons, stats, n) for f in feature["fields"])
                x[:, column] = self.transform(feature, a * b)
            else:
                if kind == "onehot":
                    index = feature["index"]
                    offsets = lambda values: [index.get(v, -1) for v in values]
                    fields = [feature["field"]]
                elif kind == "hashed":
                    offsets = lambda values: [-1 if v is None else fnv1a64(v) % width for v in values]
                    fields = [feature["field"]]
                else:  # cross
                    offsets = lambda pairs: [-1 if a is None or b is None else fnv1a64(a + "\x1f" + b) % width for a, b in pairs]
                    fields = feature["fields"]
                if all(field.startswith("user.") for field in fields):
                    values = [user.get("categorical", {}).get(field[5:]) for field in fields]
                    hit = offsets([values[0] if len(values) == 1 else tuple(values)])[0]
                    if hit >= 0:
                        x[:, column + hit] = 1.0
                    continue
                columns_ = [categorical(field, user, coupons, n) for field in fields]
                hits = np.array(offsets(columns_[0] if len(columns_) == 1 else zip(*columns_)), dtype=np.int64)
                known = hits >= 0
                x[rows[known], column + hits[known]] = 1.0
        return x

    def scores(self, x):
        mean = x @ self.theta
        if self.kind == "linucb":
            width = np.einsum("ij,ij->i", x @ self.a_inverse, x)
            return mean + self.alpha * np.sqrt(np.maximum(width, 0))
        return 1 / (1 + np.exp(-mean))


def numeric(field, user, coupons, stats, n):
    scope, name = field.split(".", 1)
    if scope == "user":
        value = user.get("numeric", {}).get(name)
        return np.full(n, math.nan if value is None else float(value))
    if scope == "stats":
        return stats[name]
    column = coupons.get(name)
    return column if column is not None else np.full(n, math.nan)


def categorical(field, user, coupons, n):
    scope, name = field.split(".", 1)
    if scope == "user":
        return [user.get("categorical", {}).get(name)] * n
    return coupons.get(name) or [None] * n


def columns(coupon_list):
    """The upstream's list of coupon objects as columns."""
    return {
        "id": [c["id"] for c in coupon_list],
        "name": [c.get("name", "") for c in coupon_list],
        "category": [c.get("category") for c in coupon_list],
        "shop": [c.get("shop") for c in coupon_list],
        "discount_rate": np.fromiter((c.get("discount_rate", math.nan) for c in coupon_list), dtype=np.float64),
        "min_spend": np.fromiter((c.get("min_spend", math.nan) for c in coupon_list), dtype=np.float64),
        "days_to_expiry": np.fromiter((c.get("days_to_expiry", math.nan) for c in coupon_list), dtype=np.float64),
    }


class InProcessData:
    """Synthetic data of the engine's stub sources' shape, drawn per easy_id."""

    def __init__(self, catalogue_size=3000, per_user=200):
        rng = np.random.default_rng(20261124)
        self.per_user = per_user
        self.ids = np.array([f"C{i:06d}" for i in range(catalogue_size)], dtype=object)
        self.category = np.array([CATEGORIES[i] for i in rng.integers(0, len(CATEGORIES), catalogue_size)], dtype=object)
        self.shop = np.array([f"shop-{i:04d}" for i in rng.integers(0, 400, catalogue_size)], dtype=object)
        self.discount = rng.integers(5, 51, catalogue_size) / 100
        self.min_spend = rng.choice([0, 1000, 2000, 3000, 5000, 10000], catalogue_size).astype(np.float64)
        self.expiry = rng.integers(1, 61, catalogue_size).astype(np.float64)
        self.names = np.array([f"{int(d * 100)}% off {c} at {s}" for d, c, s in zip(self.discount, self.category, self.shop)], dtype=object)
        self.ctr = rng.beta(2, 60, catalogue_size)
        self.cvr = self.ctr * rng.beta(2, 18, catalogue_size)

    def fetch(self, easy_id):
        rng = np.random.default_rng(fnv1a64(easy_id))
        segment = SEGMENTS[rng.integers(len(SEGMENTS))]
        user = {
            "numeric": {"age": float(rng.integers(18, 76)), "tenure_days": float(rng.integers(0, 3030)),
                        "purchases_90d": float(rng.integers(0, 38)), "avg_order_value": float(round(3000 * math.exp(0.6 * rng.standard_normal())))},
            "categorical": {"segment": segment, "preferred_category": CATEGORIES[rng.integers(len(CATEGORIES))],
                            "device": DEVICES[rng.integers(len(DEVICES))], "region": REGIONS[rng.integers(len(REGIONS))]},
        }
        chosen = rng.choice(len(self.ids), self.per_user, replace=False)
        coupons = {
            "id": self.ids[chosen].tolist(), "name": self.names[chosen].tolist(),
            "category": self.category[chosen].tolist(), "shop": self.shop[chosen].tolist(),
            "discount_rate": self.discount[chosen], "min_spend": self.min_spend[chosen], "days_to_expiry": self.expiry[chosen],
        }
        stats = {"ctr": self.ctr[chosen], "cvr": self.cvr[chosen]}
        return user, coupons, stats, []


class Upstreams:
    """The three services of UPSTREAMS.md, called at once, each under its own timeout."""

    def __init__(self, base, timeouts_ms):
        self.base = base.rstrip("/")
        self.timeouts = {name: ms / 1000 for name, ms in timeouts_ms.items()}
        self.session = None

    async def get(self, path, timeout):
        async with self.session.get(self.base + path, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status == 404:
                return None
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
            return await response.json(content_type=None)

    async def fetch(self, easy_id, budget_left):
        if self.session is None:
            self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256, limit_per_host=256))
        calls = {
            "user_features": self.get(f"/v1/users/{easy_id}/features", min(self.timeouts["user"], budget_left)),
            "candidates": self.get(f"/v1/users/{easy_id}/coupons", min(self.timeouts["candidates"], budget_left)),
            "stats": self.get(f"/v1/users/{easy_id}/coupon-stats", min(self.timeouts["stats"], budget_left)),
        }
        answers = dict(zip(calls, await asyncio.gather(*calls.values(), return_exceptions=True)))
        degraded = []
        candidates = answers["candidates"]
        if isinstance(candidates, BaseException):
            raise HTTPException(status_code=503, detail="candidate service unavailable")
        coupons = columns((candidates or {}).get("coupons", []))
        user = answers["user_features"]
        if isinstance(user, BaseException) or user is None:
            user = {}
            degraded.append("user_features")
        listed = answers["stats"]
        n = len(coupons["id"])
        ctr, cvr = np.full(n, PRIOR_CTR), np.full(n, PRIOR_CVR)
        if isinstance(listed, BaseException) or listed is None:
            degraded.append("stats")
        else:
            position = {coupon_id: i for i, coupon_id in enumerate(coupons["id"])}
            for entry in listed.get("stats", []):
                i = position.get(entry.get("coupon_id"))
                if i is not None:
                    ctr[i], cvr[i] = entry.get("ctr", PRIOR_CTR), entry.get("cvr", PRIOR_CVR)
        return user, coupons, {"ctr": ctr, "cvr": cvr}, degraded


with open(os.environ["PEER_MODEL"]) as file:
    MODEL = Model(json.load(file))
BUDGET = float(os.environ.get("PEER_BUDGET_MS", "100")) / 1000
if os.environ.get("PEER_UPSTREAM_URL"):
    SOURCE = Upstreams(os.environ["PEER_UPSTREAM_URL"], {
        "user": float(os.environ.get("PEER_USER_TIMEOUT_MS", "30")),
        "candidates": float(os.environ.get("PEER_CANDIDATES_TIMEOUT_MS", "40")),
        "stats": float(os.environ.get("PEER_STATS_TIMEOUT_MS", "30")),
    })
else:
    SOURCE = None
    DATA = InProcessData()

app = FastAPI()


def top(scores, ids, k):
    """The greedy order's first k: descending score, equal scores by ascending id."""
    k = min(k, len(ids))
    best = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
    return sorted(best.tolist(), key=lambda i: (-scores[i], ids[i]))


@app.get("/health")
async def health():
    return {"status": "ok", "model_version": MODEL.version}


@app.get("/v1/rank/{easy_id}")
async def rank(easy_id: str, top_k: int = 20):
    start = time.perf_counter()
    if SOURCE is None:
        user, coupons, stats, degraded = DATA.fetch(easy_id)
    else:
        user, coupons, stats, degraded = await SOURCE.fetch(easy_id, BUDGET)
    fetched = time.perf_counter()
    if not coupons["id"]:
        raise HTTPException(status_code=404, detail="no candidates")
    x = MODEL.contexts(user, coupons, stats)
    built = time.perf_counter()
    scores = MODEL.scores(x)
    order = top(scores, coupons["id"], top_k)
    scored = time.perf_counter()
    body = {
        "easy_id": easy_id,
        "model_version": MODEL.version,
        "coupons": [{"id": coupons["id"][i], "name": coupons["name"][i], "score": float(scores[i])} for i in order],
        "degraded": degraded,
        "timings_us": {
            "fetch": int((fetched - start) * 1e6), "context": int((built - fetched) * 1e6),
            "score": int((scored - built) * 1e6), "total": int((time.perf_counter() - start) * 1e6),
        },
    }
    return Response(content=json.dumps(body), media_type="application/json")
