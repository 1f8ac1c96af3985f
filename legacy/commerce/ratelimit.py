"""Rate limits per API key and route class, kept in Redis and shared by every process.

Two limits are checked together, in one Lua script so that the check and the consumption are
atomic across processes: *requests per minute* and *units per minute* (the route's metering
unit: characters, audio seconds, tokens, pages). A request is admitted only if both fit, and
then it consumes one request and its units; a refused request consumes nothing. Time is read
from Redis (``TIME``) inside the script, so processes whose clocks disagree still agree on the
window.

Algorithm: an exact sliding log. Each admitted request is one sorted-set member scored by its
admission time in microseconds and carrying its units (``<seq>:<units>``); a hash beside it
keeps the running unit total, so an admission costs O(log n) plus the entries that just
expired, never a scan (only a refusal on units walks the oldest entries, for Retry-After). We
chose the log over the two-fixed-window approximation (Cloudflare, nginx) because the
approximation assumes traffic in the previous window was uniform: a burst at the end of one
window followed by one at the start of the next can admit more than the limit in some 60 s
span, and "N concurrent callers, limit L, exactly L admitted" stops being a guarantee near a
window boundary. The price is memory: one entry per admitted request still in the window, which
is at most ``requests_per_minute`` entries (refused requests are never logged), or, for a
units-only limit, at most ``units_per_minute`` (a request is logged then only if it carries
units). Retry-After falls out exactly too: the time until enough of the oldest entries slide
out for this request to fit.

Keys, per API key id and route class (the hash tag keeps both in one Redis Cluster slot)::

    {prefix}:{<route_class>:<key_id>}:log    sorted set, the admitted requests
    {prefix}:{<route_class>:<key_id>}:sum    hash, ``units`` (running total) and ``seq``

Both expire a little over two windows after the last admission.

What this module deliberately doesn't do:

* Shadow traffic (``X-Banyan-Shadow: 1``, rfcs/0001 §4) must cause no rate-limit
  consumption; the caller skips the limiter for it, so nothing here knows the marker.
* It does not decide what a Redis outage means: Redis errors propagate unchanged, and the
  caller chooses to fail open or closed.
* It does not turn decisions into responses beyond :func:`rate_limit_headers`; the 429 and its
  error envelope belong to the caller (``legacy/errors.py``).
* A request whose units alone exceed ``units_per_minute`` can never fit: it is refused with
  the longest Retry-After. Callers that want a 400 for it compare before calling.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from redis.asyncio import Redis

__all__ = ["RateDecision", "RateLimiter", "RateLimits", "rate_limit_headers"]

# SDKs cap their wait at 60 s (sarvamai; openai gives up above 120 s): sdk-contract §1.3, §2.
MAX_RETRY_AFTER_S = 60

# Route classes are a small fixed vocabulary; anything else would make key names ambiguous.
_ROUTE_CLASS = re.compile(r"[A-Za-z0-9_.-]{1,64}")

_EXCEEDED: tuple[str | None, ...] = (None, "requests", "units")

# KEYS: log, sum. ARGV: window (µs), request limit, unit limit, units, consume (1/0), ttl (ms).
# Returns {allowed, requests, wait (µs), reset (µs since the epoch), exceeded (index of
# _EXCEEDED)}; requests counts this one when it was admitted.
_SCRIPT = """
local log, sum = KEYS[1], KEYS[2]
local window = tonumber(ARGV[1])
local max_requests, max_units = tonumber(ARGV[2]), tonumber(ARGV[3])
local cost, consume = tonumber(ARGV[4]), ARGV[5] == '1'

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
-- Scores go to Redis as exact integer strings, never through Lua's %.14g.
local horizon = string.format('%.0f', now - window)

-- An entry counts while now < admitted + window; forget the rest and their units.
local units = tonumber(redis.call('HGET', sum, 'units') or '0')
local expired = redis.call('ZRANGEBYSCORE', log, '-inf', horizon)
if #expired > 0 then
  for _, member in ipairs(expired) do
    units = units - tonumber(string.match(member, ':(%d+)$'))
  end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', horizon)
  redis.call('HSET', sum, 'units', string.format('%.0f', units))
end
local requests = redis.call('ZCARD', log)

local exceeded, wait = 0, 0
if max_units > 0 and units + cost > max_units then
  exceeded = 2
  if cost > max_units then
    wait = window
  else
    -- Walk from the oldest entry until enough units would have slid out.
    local needed, freed = units + cost - max_units, 0
    local entries = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
    wait = window
    for i = 1, #entries, 2 do
      freed = freed + tonumber(string.match(entries[i], ':(%d+)$'))
      if freed >= needed then
        wait = tonumber(entries[i + 1]) + window - now
        break
      end
    end
  end
end
if max_requests > 0 and requests + 1 > max_requests then
  exceeded = 1
  -- The oldest (requests + 1 - max_requests) entries must slide out first.
  local last = requests - max_requests
  local entry = redis.call('ZRANGE', log, last, last, 'WITHSCORES')
  wait = math.max(wait, tonumber(entry[2]) + window - now)
end

if exceeded == 0 and consume and (max_requests > 0 or (max_units > 0 and cost > 0)) then
  local seq = redis.call('HINCRBY', sum, 'seq', 1)
  redis.call('ZADD', log, string.format('%.0f', now), seq .. ':' .. ARGV[4])
  redis.call('HINCRBY', sum, 'units', ARGV[4])
  redis.call('PEXPIRE', log, ARGV[6])
  redis.call('PEXPIRE', sum, ARGV[6])
  requests = requests + 1
end

local reset = now
local newest = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
if #newest > 0 then reset = tonumber(newest[2]) + window end
return {exceeded == 0 and 1 or 0, requests, wait, reset, exceeded}
"""


@dataclass(frozen=True, slots=True)
class RateLimits:
    """A plan's limits for one route class; 0 means unlimited."""

    requests_per_minute: int
    units_per_minute: int = 0

    def __post_init__(self) -> None:
        if self.requests_per_minute < 0 or self.units_per_minute < 0:
            raise ValueError(f"rate limits must be >= 0, got {self}")


@dataclass(frozen=True, slots=True)
class RateDecision:
    """What the limiter decided, and what the rate-limit headers say."""

    allowed: bool
    limit: int  # the requests-per-minute limit (0 when unlimited)
    remaining: int  # requests left in the current window after this one (>= 0)
    reset_at: int  # Unix epoch seconds when the window's budget is fully back
    retry_after: int  # 0 when allowed, else 1..60 seconds
    exceeded: str | None  # None, "requests" or "units"


class RateLimiter:
    """Checks and consumes rate limits in Redis; one instance per process is enough.

    The Redis client is owned by the caller, who closes it. ``window_s`` is the length of the
    sliding window: 60 in production, a second or two in tests.
    """

    def __init__(self, redis: Redis, *, prefix: str = "banyan:rl", window_s: int = 60) -> None:
        if window_s < 1:
            raise ValueError(f"window_s must be >= 1, got {window_s}")
        self._prefix = prefix
        self._window_s = window_s
        self._ttl_ms = (2 * window_s + 1) * 1000  # one window is read; the rest is slack
        self._script = redis.register_script(_SCRIPT)  # EVALSHA, loading it when missing

    async def check(
        self, key_id: str, route_class: str, limits: RateLimits, *, units: int = 0
    ) -> RateDecision:
        """Admit one request carrying ``units`` if both limits still fit, consuming both;
        otherwise consume nothing and refuse. Atomic across every process sharing Redis."""
        if units < 0:
            raise ValueError(f"units must be >= 0, got {units}")
        return await self._run(key_id, route_class, limits, units, consume=True)

    async def peek(self, key_id: str, route_class: str, limits: RateLimits) -> RateDecision:
        """The current state without consuming, for the headers of responses that never
        reached :meth:`check` (errors). ``allowed`` says whether a request without units
        would fit now; ``remaining`` counts requests left before any is made."""
        return await self._run(key_id, route_class, limits, 0, consume=False)

    async def _run(
        self, key_id: str, route_class: str, limits: RateLimits, units: int, *, consume: bool
    ) -> RateDecision:
        if not _ROUTE_CLASS.fullmatch(route_class):
            raise ValueError(f"route class must match {_ROUTE_CLASS.pattern}: {route_class!r}")
        base = f"{self._prefix}:{{{route_class}:{key_id}}}"
        reply = await self._script(
            keys=[f"{base}:log", f"{base}:sum"],
            args=[
                self._window_s * 1_000_000,
                limits.requests_per_minute,
                limits.units_per_minute,
                units,
                1 if consume else 0,
                self._ttl_ms,
            ],
        )
        allowed, requests, wait_us, reset_us, exceeded = (int(value) for value in reply)
        return _decision(
            limits,
            self._window_s,
            allowed=allowed == 1,
            requests=requests,
            wait_us=wait_us,
            reset_us=reset_us,
            exceeded=_EXCEEDED[exceeded],
        )


def _decision(
    limits: RateLimits,
    window_s: int,
    *,
    allowed: bool,
    requests: int,
    wait_us: int,
    reset_us: int,
    exceeded: str | None,
) -> RateDecision:
    """The script's raw numbers as a decision: seconds ceiled, Retry-After clamped."""
    limit = limits.requests_per_minute
    retry_after = 0
    if not allowed:
        retry_after = min(max(math.ceil(wait_us / 1_000_000), 1), MAX_RETRY_AFTER_S, window_s)
    return RateDecision(
        allowed=allowed,
        limit=limit,
        remaining=max(limit - requests, 0) if limit else 0,
        reset_at=math.ceil(reset_us / 1_000_000),
        retry_after=retry_after,
        exceeded=exceeded,
    )


def rate_limit_headers(decision: RateDecision) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers every response carries, plus ``Retry-After`` on a refusal.

    ``X-RateLimit-Reset`` is an absolute Unix epoch in seconds, as the sarvamai SDK reads it
    (sdk-contract §1.3); a limit of 0 means unlimited.
    """
    headers = {
        "X-RateLimit-Limit": str(decision.limit),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(decision.reset_at),
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after)
    return headers
