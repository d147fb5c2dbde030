"""Cold cache: 200 concurrent token checks in one process, counting fetches of the key URL.

Baseline: the same 200 checks each fetching the key themselves (what a naive validator does).
Run: .venv/bin/python bench/bench_cold_cache.py [concurrency]
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import _setup
import httpx
import jwt
from django.core.cache import cache

from authsettings import tokens


def main(concurrency: int) -> None:
    key = _setup.new_key()
    server = _setup.KeyServer(_setup.public_pem(key))
    now = int(time.time())
    token = jwt.encode(
        {"iss": "bench", "sub": "bench", "iat": now, "exp": now + 3600}, key, algorithm="RS256"
    )
    key_source = tokens.KeyUrl(server.url)
    rules = tokens.Rules()

    def naive() -> None:
        pem = httpx.get(server.url, timeout=60).content
        jwt.decode(token, pem, algorithms=["RS256"])

    def ours() -> None:
        tokens.verify(token, key_source=key_source, rules=rules, now=time.time())

    for label, check in (("naive fetch per check", naive), ("tokens.verify", ours)):
        cache.clear()
        server.fetches.clear()
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for future in [pool.submit(check) for _ in range(concurrency)]:
                future.result()
        elapsed = time.perf_counter() - started
        print(
            f"{label:<22} {concurrency} concurrent checks: "
            f"{sum(server.fetches.values()):4d} key fetches, {elapsed * 1000:7.1f} ms"
        )
    server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
