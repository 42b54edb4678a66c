"""The /playground page's parts: the 2D game (views) and drawing your own data (drawn_points)."""
