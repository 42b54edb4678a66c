"""Training data: image datasets (datasets: the embedded mnist-5k, torchvision ones, image folders), 2D toy
distributions (toy) and the points a user draws (drawn_points)."""
