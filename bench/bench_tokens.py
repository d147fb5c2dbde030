"""Token validation per second: authsettings.tokens.verify against bare PyJWT on one token.

Run: .venv/bin/python bench/bench_tokens.py [iterations]
"""

from __future__ import annotations

import sys
import time

import _setup
import jwt

from authsettings import tokens


def rate(function, iterations: int) -> float:
    started = time.perf_counter()
    for _ in range(iterations):
        function()
    return iterations / (time.perf_counter() - started)


def main(iterations: int) -> None:
    key = _setup.new_key()
    server = _setup.KeyServer(_setup.public_pem(key))
    now = int(time.time())
    token = jwt.encode(
        {"iss": "https://portal.example.com", "sub": "bench", "iat": now, "exp": now + 3600},
        key,
        algorithm="RS256",
    )
    key_source = tokens.KeyUrl(server.url)
    rules = tokens.Rules(issuer="https://portal.example.com")
    public_key = key.public_key()
    tokens.verify(token, key_source=key_source, rules=rules, now=time.time())  # warm the key cache

    baseline = rate(lambda: jwt.decode(token, public_key, algorithms=["RS256"]), iterations)
    ours = rate(
        lambda: tokens.verify(token, key_source=key_source, rules=rules, now=time.time()),
        iterations,
    )
    server.stop()
    print(f"bare jwt.decode:      {baseline:9.0f} tokens/s")
    print(f"tokens.verify:        {ours:9.0f} tokens/s")
    print(f"ratio verify/baseline: {ours / baseline:.2f}")
    print(f"key fetches:           {sum(server.fetches.values())}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
