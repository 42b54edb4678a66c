"""Streamlit helpers shared by the pages. Pages call these; these call gan_core."""
