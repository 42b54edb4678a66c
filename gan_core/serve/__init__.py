"""What the server runs besides pages: live training jobs (live), the work queue and its worker processes
(workqueue, workers, worktasks), child processes (processes), the model cache (modelcache) and the
multi-process classroom (replicas)."""
