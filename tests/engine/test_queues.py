import asyncio

from engine.frames import end_of_stream
from engine.queues import FrameQueue, QueuePolicy
from tests.support.frames import audio_frames


async def test_leaky_queue_drops_oldest_and_counts() -> None:
    queue = FrameQueue(3, QueuePolicy.LEAKY)
    frames = audio_frames(5)
    for frame in frames:
        queue.put(frame)
    assert len(queue) == 3 and queue.dropped == 2
    assert [await queue.get() for _ in range(3)] == frames[2:]


async def test_leaky_queue_never_drops_end_of_stream() -> None:
    queue = FrameQueue(2, QueuePolicy.LEAKY)
    eos = end_of_stream()
    queue.put(eos)
    for frame in audio_frames(4):
        queue.put(frame)
    items = [await queue.get() for _ in range(len(queue))]
    assert items[0] is eos and queue.dropped == 3


async def test_block_queue_keeps_everything_and_makes_producers_wait() -> None:
    queue = FrameQueue(2, QueuePolicy.BLOCK)
    for frame in audio_frames(3):
        queue.put(frame)
    assert queue.dropped == 0 and queue.is_full
    waiter = asyncio.ensure_future(queue.wait_for_room())
    await asyncio.sleep(0)
    assert not waiter.done()
    await queue.get()
    await asyncio.sleep(0)
    assert not waiter.done()  # 2 left: still at capacity
    await queue.get()
    await asyncio.wait_for(waiter, 1)


async def test_get_waits_for_a_put() -> None:
    queue = FrameQueue(2, QueuePolicy.BLOCK)
    getter = asyncio.ensure_future(queue.get())
    await asyncio.sleep(0)
    frame = audio_frames(1)[0]
    queue.put(frame)
    assert await asyncio.wait_for(getter, 1) is frame
