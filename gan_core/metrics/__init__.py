"""Measuring generators: the feature-space scores (scores: FID, KID, precision/recall, PPL, coverage) and
classification accuracy score (cas)."""
