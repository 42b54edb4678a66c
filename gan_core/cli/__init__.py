"""The `gan-core` command: its entry point (main: parses and dispatches) and the commands themselves (commands:
train, sample, evaluate, import, pretrained, serve, ...)."""
