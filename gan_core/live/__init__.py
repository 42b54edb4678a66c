"""Live training for the app: background jobs polled by the UI, never calling Streamlit.

- ``Job`` (jobs.py): a training run in a thread of this process; ``JobManager`` (manager.py): the
  server-wide cap on jobs, one per owner, idle and lifetime limits.
- ``ProcessJob`` (process.py): the same fields and controls, training in a child process started by a fork
  server that preloaded torch and the digits (_jobserver.py). What the app uses.
- ``PRESETS`` (presets.py): the /train page's starting points, each with the sentence it shows.
"""
from .jobs import ACTIVE, Job, Snapshot, idle_message
from .manager import Busy, JobManager
from .presets import DEFAULT_PRESET, PRESETS, preset_config
from ..processes import prewarm
from .process import ProcessJob

__all__ = ["ACTIVE", "Busy", "DEFAULT_PRESET", "Job", "JobManager", "PRESETS", "ProcessJob", "Snapshot",
           "idle_message", "preset_config", "prewarm"]
