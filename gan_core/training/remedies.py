"""The remedies for mode collapse and unstable training, in one table: what each switch sets, the sentence the
pages show, and its paper. The same names are used by `gan-core train`, /train, /playground and
bench/remedies.py. "kind" says where a remedy applies: images, the 2D playground, or both."""
from __future__ import annotations

from gan_core.training.config import TrainConfig

# name -> (settings: model.* entries go to ModelConfig, the rest to TrainConfig), help text, paper, where
REMEDIES: dict[str, dict] = {
    "Minibatch discrimination": dict(
        set={"model.minibatch_disc": 8},
        help="D also sees how close each sample is to the others of its batch, so a batch of look-alikes is "
             "easy to spot and G is pushed to vary. Measured (bench/remedies.py): a full cure in the playground on "
             "2 of 3 seeds, little change on the digits preset in 800 steps.", paper="Salimans et al. 2016", where="both"),
    "Minibatch standard deviation": dict(
        set={"model.minibatch_std": True},
        help="D gets one more number: how much its features vary across the batch. Cheap; on the extreme "
             "collapse presets here it does not help on its own — a low-variety batch is not always the "
             "problem D needs to see.", paper="Karras et al. 2018 (Progressive GANs)", where="both"),
    "Feature matching": dict(
        set={"feature_matching": True},
        help="G stops trying to fool D and instead matches the average of D's inner features on real data: a "
             "target that does not move to whatever D likes today. The best single remedy on the digits "
             "collapse preset (bench/remedies.py; figures in the README); with minibatch features it cures it (below).", paper="Salimans et al. 2016", where="both"),
    "Unrolled D": dict(
        set={"unrolled_steps": 5}, set_toy={"unrolled_steps": 10},
        help="G is scored by D as it will be a few steps ahead (10 in the playground, where G's gradient also "
             "flows through D's future updates as in the paper; 5 for images, a cheaper first-order copy, which "
             "the playground also uses beside feature matching or minibatch discrimination): "
             "jumping to the mode D likes now no longer pays, because D is about to catch it there. Costs that "
             "many extra D steps per G step.", paper="Metz et al. 2017", where="both"),
    "Packing (PacGAN)": dict(
        set={"model.pack": 2},
        help="D judges two samples at once, both real or both fake: two copies of the same mode look fake "
             "together. Unconditional models only. It helps on the digits collapse preset on some seeds, not in the "
             "playground's extreme preset (bench/remedies.py).", paper="Lin et al. 2018", where="both"),
    "Spectral norm": dict(
        set={"model.spectral_norm": True},
        help="Limits how sharply D can change (each layer's largest singular value is 1): steadier gradients "
             "for G, but no cure for this collapse, which comes from G outrunning D (bench/remedies.py: little change).", paper="Miyato et al. 2018", where="both"),
    "Two learning rates": dict(
        set={"lr_g": 1e-4, "lr_d": 4e-4}, set_toy={"lr_g": 1e-3, "lr_d": 2e-3},
        help="D learns faster than G (the two time-scale rule) instead of the other way round: it removes the "
             "cause of these presets. For images D gets 4e-4 and G 1e-4, which in 800 steps only partly helps; in "
             "the playground D gets 2e-3 and G the playground's usual 1e-3, which cures the collapse preset on "
             "every seed (bench/remedies.py).",
        paper="Heusel et al. 2017 (TTUR)", where="both"),
    "Label smoothing": dict(
        set={"label_smoothing": 0.1},
        help="D aims at 0.9 instead of 1 for real samples, so it is never fully sure and keeps giving G "
             "gradients. Against collapse it does not help (bench/remedies.py).", paper="Salimans et al. 2016", where="images"),
    "Feature matching + minibatch features": dict(
        set={"feature_matching": True, "model.minibatch_disc": 8, "model.minibatch_std": True},
        help="Three of the above together: G matches D's average features, and D sees both how alike the samples "
             "of a batch are (minibatch discrimination) and how much they vary (minibatch std). The only setting "
             "that cures the digits collapse preset on every seed in 800 steps (bench/remedies.py).", paper="Salimans et al. 2016; Karras et al. 2018", where="images",
        combination=True),
    "Augmentation": dict(
        set={"augment": "translation"},
        help="Every image D sees, real or fake, is shifted by a few pixels: D cannot memorise, which matters "
             "on small data sets.", paper="Zhao et al. 2020 (DiffAugment)", where="images"),
}


def applies(name: str, toy: bool) -> bool:
    where = REMEDIES[name]["where"]
    return where == "both" or where == ("toy" if toy else "images")


def settings_of(name: str, toy: bool) -> dict:
    """What a remedy sets, for a toy (playground) model or an image model."""
    r = REMEDIES[name]
    return r.get("set_toy", r["set"]) if toy else r["set"]


def with_remedy(cfg: TrainConfig, name: str) -> TrainConfig:
    """``cfg`` with one remedy switched on (the same seed and everything else)."""
    if name not in REMEDIES:
        raise ValueError(f"Unknown remedy {name!r}; choose one of {', '.join(REMEDIES)}.")
    sets = settings_of(name, cfg.model.task == "noise->points")
    top = {k: v for k, v in sets.items() if not k.startswith("model.")}
    model = {k[6:]: v for k, v in sets.items() if k.startswith("model.")}
    if model:
        top["model"] = cfg.model.__class__(**{**cfg.model.to_dict(), **model})
    return cfg.replace(**top)


def active(cfg: TrainConfig) -> list[str]:
    """The remedies ``cfg`` has switched on (by the values the table sets)."""
    out = []
    for name in REMEDIES:
        if all((getattr(cfg.model, k[6:]) if k.startswith("model.") else getattr(cfg, k)) == v
               for k, v in settings_of(name, cfg.model.task == "noise->points").items()):
            out.append(name)
    return out
