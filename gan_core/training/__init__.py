"""Training: the loop (trainer), the game each task plays (objectives), losses and the WGAN-GP penalty (losses),
the remedies for failures (remedies, clusters, unrolled), the settings (config), the per-model recipes
(recipes), /train's presets (presets), the 2D playground (playground), the digit classifier (classifier),
and runs kept for comparison (reference, timeline)."""
