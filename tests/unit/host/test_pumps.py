"""The pumps deliver the local queue's tasks and the bus's messages in threads until stopped."""

from __future__ import annotations

import threading
from pathlib import Path

from tower.config import Settings
from tower.host.pumps import Pumps
from tower.ports import Message, Task
from tower.runtime import Runtime


def test_pumps_deliver_tasks_and_messages_then_stop_and_leave_the_rest_queued(tmp_path: Path) -> None:
    runtime = Runtime(Settings(warehouse="duckdb:///:memory:", data_dir=tmp_path))
    done = threading.Event()
    seen: list[str] = []

    def on_task(task: Task) -> None:
        seen.append(f"task {task.payload['n']}")
        runtime.bus.publish("tower-test-topic", {"n": task.payload["n"]})

    def on_message(message: Message) -> None:
        seen.append(f"message {message.data['n']}")
        done.set()

    runtime.tasks.register("test_handler", on_task)
    runtime.bus.subscribe("test-sub", "tower-test-topic", on_message)
    runtime.tasks.enqueue("tower-sync", "test_handler", {"n": 1})
    pumps = Pumps(runtime, idle_seconds=0.01)
    pumps.start()
    assert done.wait(30)
    assert pumps.stop(timeout=10)
    assert seen == ["task 1", "message 1"] and pumps.delivered == {"tasks": 1, "messages": 1}
    # stopped: what arrives now waits in the durable queue for the next start
    runtime.tasks.enqueue("tower-sync", "test_handler", {"n": 2})
    assert runtime.tasks.pending() == 1
    runtime.close()
