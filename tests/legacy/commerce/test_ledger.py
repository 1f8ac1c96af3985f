"""Line items: one request settling several units (tokens in and out) against one hold."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from legacy.commerce.billing import Billing
from legacy.commerce.errors import InsufficientQuota, InvalidUsage
from legacy.commerce.ledger import usage_of
from legacy.commerce.tenants import create_tenant, show_tenant

pytestmark = pytest.mark.anyio

# chat-completions costs 0.0004 credits per token in and 0.0012 per token out.
ESTIMATE = {"tokens_in": Decimal(100), "tokens_out": Decimal(400)}  # 0.04 + 0.48 = 0.52


async def tenant(pool, credits: str = "50") -> str:
    async with pool.acquire() as conn:
        _, key = await create_tenant(conn, "acme", Decimal(credits))
    return key


async def wallet(pool):
    async with pool.acquire() as conn:
        return await show_tenant(conn, "acme")


async def rows(pool, table: str = "ledger") -> list[tuple[str, str, Decimal, Decimal]]:
    async with pool.acquire() as conn:
        found = await conn.fetch(
            f"SELECT request_id, unit, quantity, credits FROM legacy.{table} ORDER BY id"
        )
    return [(r["request_id"], r["unit"], r["quantity"], r["credits"]) for r in found]


async def chat(billing: Billing, key: str, request_id: str, out: int = 250):
    auth = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id=request_id
    )
    usage = {"tokens_in": Decimal(100), "tokens_out": Decimal(out)}
    return await billing.settle(auth.reservation_id, usage=usage)


def test_usage_has_one_form_or_the_other_in_units_order() -> None:
    assert usage_of("characters", Decimal(3), None) == {"characters": Decimal(3)}
    both = usage_of(None, None, {"tokens_out": Decimal(2), "tokens_in": Decimal(1)})
    assert list(both) == ["tokens_in", "tokens_out"]
    with pytest.raises(TypeError, match="not both"):
        usage_of("characters", Decimal(1), {"characters": Decimal(1)})
    with pytest.raises(TypeError, match="or usage"):
        usage_of("characters", None, None)
    with pytest.raises(InvalidUsage, match="at least one"):
        usage_of(None, None, {})
    with pytest.raises(InvalidUsage, match="unit must be one of"):
        usage_of(None, None, {"bytes": Decimal(1)})
    with pytest.raises(InvalidUsage, match="non-negative"):
        usage_of(None, None, {"tokens_in": Decimal(-1)})


async def test_one_request_settles_one_row_per_unit_against_one_hold(pool, billing) -> None:
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id="c-1"
    )
    assert auth.held == Decimal("0.5200")
    assert (await wallet(pool)).reserved == Decimal("0.5200")
    settled = await billing.settle(
        auth.reservation_id, usage={"tokens_out": Decimal(250), "tokens_in": Decimal(90)}
    )
    assert [(line.unit, line.quantity, line.credits) for line in settled.lines] == [
        ("tokens_in", Decimal(90), Decimal("0.0360")),
        ("tokens_out", Decimal(250), Decimal("0.3000")),
    ]
    assert (settled.credits, settled.replayed, settled.ledger) == (Decimal("0.3360"), False, "live")
    assert await rows(pool) == [
        ("c-1", "tokens_in", Decimal(90), Decimal("0.0360")),
        ("c-1", "tokens_out", Decimal(250), Decimal("0.3000")),
    ]
    summary = await wallet(pool)
    assert (summary.balance, summary.reserved) == (Decimal("49.6640"), Decimal("0.0000"))
    assert (summary.live_requests, summary.live_credits) == (1, Decimal("0.3360"))


async def test_a_replay_returns_the_first_settlement_whatever_it_carries(pool, billing) -> None:
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id="again"
    )
    first = await billing.settle(auth.reservation_id, usage=ESTIMATE)
    replays = [
        await billing.settle(
            auth.reservation_id, usage={"tokens_in": Decimal(i), "tokens_out": Decimal(i)}
        )
        for i in range(5)
    ]
    assert all(r.replayed for r in replays)
    assert {r.lines for r in replays} == {
        tuple(line.__class__(line.unit, line.quantity, line.credits, line.ledger_id, True)
              for line in first.lines)
    }  # fmt: skip
    assert len(await rows(pool)) == 2
    assert (await wallet(pool)).balance == Decimal("49.4800")


async def test_concurrent_settles_of_a_multi_unit_reservation_charge_once(pool, billing) -> None:
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id="race"
    )
    replies = await asyncio.gather(
        *(billing.settle(auth.reservation_id, usage=ESTIMATE) for _ in range(10))
    )
    assert sum(not r.replayed for r in replies) == 1
    assert len(await rows(pool)) == 2
    assert (await wallet(pool)).balance == Decimal("49.4800")


async def test_500_concurrent_chats_on_a_wallet_for_exactly_10_never_overdraw(
    pool, billing
) -> None:
    key = await tenant(pool, credits="5.2")  # exactly ten holds of 0.52
    results = await asyncio.gather(
        *(chat(billing, key, f"c-{i}", out=400) for i in range(500)), return_exceptions=True
    )
    settled = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, InsufficientQuota)]
    assert (len(settled), len(refused)) == (10, 490)
    summary = await wallet(pool)
    assert (summary.balance, summary.reserved) == (Decimal("0.0000"), Decimal("0.0000"))
    assert summary.live_requests == 10
    assert len(await rows(pool)) == 20
    assert summary.live_credits == Decimal("5.2000") == sum(s.credits for s in settled)


async def test_lines_beyond_the_hold_are_capped_in_units_order(pool, billing) -> None:
    key = await tenant(pool, credits="0.6")
    auth = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id="over"
    )
    settled = await billing.settle(
        auth.reservation_id, usage={"tokens_in": Decimal(1000), "tokens_out": Decimal(1000)}
    )
    # 0.4 + 1.2 due; 0.6 in the wallet: tokens_in is paid in full, tokens_out gets the rest.
    assert [line.credits for line in settled.lines] == [Decimal("0.4000"), Decimal("0.2000")]
    assert (await wallet(pool)).balance == Decimal("0.0000")


async def test_a_second_reservation_of_a_request_id_charges_only_new_units(pool, billing) -> None:
    key = await tenant(pool)
    first = await billing.authorize(
        api_key=key, route="chat-completions", unit="tokens_in", quantity=Decimal(100),
        request_id="split",
    )  # fmt: skip
    await billing.settle(first.reservation_id, unit="tokens_in", quantity=Decimal(100))
    second = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id="split"
    )
    settled = await billing.settle(second.reservation_id, usage=ESTIMATE)
    assert [(line.unit, line.replayed) for line in settled.lines] == [
        ("tokens_in", True),
        ("tokens_out", False),
    ]
    assert not settled.replayed
    summary = await wallet(pool)
    assert (summary.balance, summary.reserved) == (Decimal("49.4800"), Decimal("0.0000"))
    assert summary.live_requests == 1


async def test_a_shadow_chat_settles_every_line_in_the_shadow_ledger(pool, billing) -> None:
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id="s", shadow=True
    )
    settled = await billing.settle(auth.reservation_id, usage=ESTIMATE)
    assert (settled.ledger, settled.credits) == ("shadow", Decimal("0.5200"))
    assert [unit for _, unit, _, _ in await rows(pool, "shadow_ledger")] == [
        "tokens_in",
        "tokens_out",
    ]
    summary = await wallet(pool)
    assert (summary.balance, summary.live_requests, summary.shadow_requests) == (
        Decimal("50.0000"),
        0,
        1,
    )


async def test_units_a_reservation_was_not_priced_for_are_refused(pool, billing) -> None:
    key = await tenant(pool)
    auth = await billing.authorize(
        api_key=key, route="chat-completions", estimate=ESTIMATE, request_id="u"
    )
    with pytest.raises(InvalidUsage, match="meters tokens_in, tokens_out, not characters"):
        await billing.settle(auth.reservation_id, usage={"characters": Decimal(1)})
    with pytest.raises(InvalidUsage, match="name the unit"):
        await billing.extend(auth.reservation_id, Decimal(10))
    assert await billing.extend(auth.reservation_id, Decimal(100), unit="tokens_out") == Decimal(
        "0.6400"
    )
    with pytest.raises(ValueError, match="pass usage"):
        _ = auth.unit
    with pytest.raises(InvalidUsage, match="no price for route 'translate' in unit 'tokens_in'"):
        await billing.authorize(
            api_key=key, route="translate", request_id="x",
            estimate={"characters": Decimal(1), "tokens_in": Decimal(1)},
        )  # fmt: skip
