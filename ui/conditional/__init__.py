"""The /conditional page's parts."""
