"""KVChannelLayer against Channels' InMemoryChannelLayer, on random programs.

Within one process both layers must agree on everything a program can see:
which sends raise ChannelFull, and what each channel receives, in order,
after any mix of sends, group changes and group sends. Hypothesis writes the
programs; the reference is Channels' own in-memory layer.
"""

from __future__ import annotations

import asyncio

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer
from hypothesis import given, settings
from hypothesis import strategies as st

from stores import kv as kv_engine
from stores.channel_layer import KVChannelLayer

CHANNELS = 3
GROUPS = ("red", "blue")
CAPACITY = 3

operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(0, CHANNELS - 1)),
        st.tuples(st.just("group_add"), st.sampled_from(GROUPS), st.integers(0, CHANNELS - 1)),
        st.tuples(st.just("group_discard"), st.sampled_from(GROUPS), st.integers(0, CHANNELS - 1)),
        st.tuples(st.just("group_send"), st.sampled_from(GROUPS)),
        st.tuples(st.just("receive"), st.integers(0, CHANNELS - 1)),
    ),
    max_size=25,
)


async def run(layer, program) -> list:
    """Run ``program``; return everything it observed, in order."""
    channels = [await layer.new_channel() for _ in range(CHANNELS)]
    pending = [0] * CHANNELS  # messages known to be buffered, so receive never blocks
    seen = []
    for number, op in enumerate(program):
        kind = op[0]
        if kind == "send":
            try:
                await layer.send(channels[op[1]], {"type": "m", "n": number})
                pending[op[1]] += 1
                seen.append(("sent", number))
            except ChannelFull:
                seen.append(("full", number))
        elif kind == "group_add":
            await layer.group_add(op[1], channels[op[2]])
        elif kind == "group_discard":
            await layer.group_discard(op[1], channels[op[2]])
        elif kind == "group_send":
            await layer.group_send(op[1], {"type": "g", "n": number})
        elif kind == "receive" and pending[op[1]]:
            message = await asyncio.wait_for(layer.receive(channels[op[1]]), 5)
            pending[op[1]] -= 1
            seen.append(("got", op[1], message["n"]))
    # Drain: a marker behind whatever is buffered, making room when full.
    for index, channel in enumerate(channels):
        while True:
            try:
                await layer.send(channel, {"type": "end", "n": -1})
                break
            except ChannelFull:
                seen.append(("got", index, (await layer.receive(channel))["n"]))
        while (message := await asyncio.wait_for(layer.receive(channel), 5))["n"] != -1:
            seen.append(("got", index, message["n"]))
    return seen


async def run_both(program) -> tuple[list, list]:
    client = kv_engine.connect("memory:")
    ours = KVChannelLayer(client=client, capacity=CAPACITY)
    try:
        observed = await run(ours, program)
    finally:
        await ours.close()
        client.close()
    reference = await run(InMemoryChannelLayer(capacity=CAPACITY), program)
    return observed, reference


@settings(max_examples=40, deadline=None)
@given(operations)
def test_kv_layer_behaves_like_the_in_memory_reference(program):
    observed, reference = asyncio.run(run_both(program))
    assert observed == reference
