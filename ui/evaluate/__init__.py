"""The /evaluate page's parts."""
