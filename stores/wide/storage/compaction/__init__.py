"""Compaction: pure policies choosing what to merge, and the executor that merges.

``policy`` modules are pure functions of an SSTable set (no I/O, no clock
reads); ``executor`` runs the chosen tasks on a background thread.
"""

from .policy import CompactionTask, SSTableInfo, next_task

__all__ = ["CompactionTask", "SSTableInfo", "next_task"]
