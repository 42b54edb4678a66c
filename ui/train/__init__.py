"""The /train page's parts: settings, controls and the polled views (views), the charts (charts) and the
self-conditioning controls (clusters)."""
