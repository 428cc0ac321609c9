#!/usr/bin/env python3
"""The Python side of scripts/bench/compare.sh: the same cycles in CPython asyncio.

Each cycle: enter suspends once and produces a target, the block suspends
once and reads it, exit suspends once. A suspension is `await
asyncio.sleep(0)` (a bare yield to the event loop, what a real await does).
Prints one `name ns_per_op` line per cycle; `--no-suspend` runs the same
cycles without suspensions (the protocol alone, for scale).
"""

import asyncio
import contextlib
import sys
import time

SUSPEND = "--no-suspend" not in sys.argv


async def suspend():
    if SUSPEND:
        await asyncio.sleep(0)


class Trivial:
    """The class form: __aenter__ / __aexit__."""

    async def __aenter__(self):
        await suspend()
        return 1

    async def __aexit__(self, exc_type, exc, tb):
        await suspend()
        return False


@contextlib.asynccontextmanager
async def generator():
    """The @asynccontextmanager form."""
    await suspend()
    yield 1
    await suspend()


async def class_cycle():
    async with Trivial() as n:
        await suspend()
        return n + 1


async def generator_cycle():
    async with generator() as n:
        await suspend()
        return n + 1


async def exit_stack_10_cycle():
    # Ten managers entered into an AsyncExitStack, exited in reverse.
    async with contextlib.AsyncExitStack() as stack:
        total = 0
        for _ in range(10):
            total += await stack.enter_async_context(Trivial())
        await suspend()
        return total


CYCLES = [
    ("class", class_cycle),
    ("generator", generator_cycle),
    ("exit_stack_10", exit_stack_10_cycle),
]


async def measure(cycle, budget=0.5):
    # Best of 5 rounds, each at least `budget` / 5 seconds.
    iterations = 1000
    while True:
        start = time.perf_counter_ns()
        for _ in range(iterations):
            await cycle()
        elapsed = time.perf_counter_ns() - start
        if elapsed > budget * 1e9 / 5:
            break
        iterations *= 2
    best = elapsed / iterations
    for _ in range(4):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            await cycle()
        best = min(best, (time.perf_counter_ns() - start) / iterations)
    return best


async def main():
    for name, cycle in CYCLES:
        ns = await measure(cycle)
        print(f"{name} {ns:.1f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
