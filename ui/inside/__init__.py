"""The /inside page's parts."""
