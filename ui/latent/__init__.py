"""The /latent page's parts: the explorer (views) and Find your digit (find)."""
