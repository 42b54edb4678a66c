"""/train's self-conditioning controls: how many clusters of the real images, how they are found, and how
sharply G's noise picks one (gan_core.training.clusters, ModelConfig.clusters and .cluster_temperature)."""
from __future__ import annotations

from gan_core.training.clusters import CLUSTERINGS


def cluster_controls(cols) -> None:
    """Three widgets, one per column of ``cols``; their keys are in ui.train.views.FIELDS."""
    cols[0].number_input("Clusters (self-conditioning)", 0, 256, key="tr_clusters",
                         help="DCGAN, WGAN-GP and AC-GAN; 0 turns it off. The real images are grouped into "
                              "this many clusters (no labels used); D is told each image's cluster (an "
                              "AC-GAN's D must name it instead of the digit) and G picks a cluster from its own z "
                              "(Liu et al. 2020). G stays unconditional but learns one kind of digit per "
                              "cluster. At most the z size.")
    cols[1].selectbox("Clustering", list(CLUSTERINGS), key="tr_clustering", help="How the clusters are found. "
                      + " ".join(f"{k}: {v}." for k, v in CLUSTERINGS.items()))
    cols[2].number_input("Cluster code temperature", 0.001, 1.0, key="tr_ctemp", step=0.01, format="%.3f",
                         help="G turns the first entries of z into a nearly one-hot code of its cluster with a "
                              "softmax at this temperature. Where two entries are almost equal, the code is a "
                              "blend and G draws something between two clusters, rarely a clear digit: with 30 "
                              "clusters that is 22% of z at 0.05 and 9% at 0.02. Lower: fewer blends; "
                              "interpolations then switch cluster more abruptly.")
