"""Checkpoints and where they come from: the folder format (checkpoints: config.json + one safetensors file per
network, uploads, zips, pruning), importers of other projects' models, and the recipes of the shipped models
(pretrained)."""
