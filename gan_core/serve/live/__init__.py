"""Live training for the app: background jobs polled by the UI, never calling Streamlit.

- ``Job`` (jobs.py): a training run in a thread of this process; ``JobManager`` (manager.py): the
  server-wide cap on jobs, one per owner, idle and lifetime limits.
- ``ProcessJob`` (process.py): the same fields and controls, training in a child process started by a fork
  server that preloaded torch and the digits (_jobserver.py, ``gan_core.serve.processes``). What the app uses.

/train's presets are in ``gan_core.training.presets``.
"""
from gan_core.serve.live.jobs import ACTIVE, Job, Snapshot, idle_message
from gan_core.serve.live.manager import Busy, JobManager
from gan_core.serve.live.process import ProcessJob

__all__ = ["ACTIVE", "Busy", "Job", "JobManager", "ProcessJob", "Snapshot", "idle_message"]
