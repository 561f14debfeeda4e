"""Every model: a few optimisation steps on tiny synthetic images lower its loss; outputs have the right
shape and range; constructors reject bad arguments with a message that names them."""

from __future__ import annotations

import pytest
import torch

from data_connectors.errors import BadInputError
from genai_models.trainer import seed_everything
from genai_models.zoo import build_model

SMALL = {"image_size": 16, "depth": 2, "base_channels": 8}
CASES = {
    "dcgan": {**SMALL, "latent_dim": 8},
    "wgan-gp": {**SMALL, "latent_dim": 8, "n_critic": 1},
    "conditional-gan": {**SMALL, "latent_dim": 8, "num_classes": 4},
    "autoencoder": {**SMALL, "latent_dim": 8},
    "denoising-autoencoder": {**SMALL, "latent_dim": 8},
    "vae": {**SMALL, "latent_dim": 4},
    "beta-vae": {**SMALL, "latent_dim": 4, "kl_schedule": "linear", "warmup_steps": 5},
    "dirichlet-vae": {**SMALL, "latent_dim": 4},
    "vit-vae": {**SMALL, "latent_dim": 4, "patch_size": 4, "hidden_size": 16, "num_layers": 1, "num_heads": 2},
    "swin-vae": {**SMALL, "latent_dim": 4, "patch_size": 2, "embed_dim": 12, "stage_depths": (1, 1),
                 "num_heads": (2, 2), "window_size": 4},
}


def _train_steps(model, images, labels, steps: int, lr: float) -> dict[str, list[float]]:
    optimizers = {name: torch.optim.Adam(params, lr=lr, betas=model.betas)
                  for name, params in model.optimizer_groups().items()}
    history: dict[str, list[float]] = {}
    for step in range(steps):
        for phase in model.phases(step):
            optimizers[phase].zero_grad()
            loss = model.training_step((images, labels), phase=phase, step=step)["loss"]
            loss.backward()
            optimizers[phase].step()
            history.setdefault(phase, []).append(float(loss))
    return history


@pytest.mark.parametrize("name", [n for n in CASES if "gan" not in n])
def test_reconstruction_models_lower_their_loss(name, tiny_images):
    seed_everything(0)
    model = build_model(name, **CASES[name])
    images, labels = tiny_images
    losses = _train_steps(model, images, labels, steps=25, lr=3e-3)["model"]
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    model.eval()
    assert model.reconstruct(images).shape == images.shape
    samples = model.sample(5) if hasattr(model, "sample") else model.reconstruct(images[:5])
    assert samples.shape == (5, 1, 16, 16) and float(samples.min()) >= 0 and float(samples.max()) <= 1


@pytest.mark.parametrize("name", ["dcgan", "wgan-gp", "conditional-gan"])
def test_gan_discriminator_learns_and_generator_gets_gradients(name, tiny_images):
    seed_everything(0)
    model = build_model(name, **CASES[name])
    images, labels = tiny_images
    losses = _train_steps(model, images, labels, steps=15, lr=1e-3)
    assert losses["discriminator"][-1] < losses["discriminator"][0]
    model.generator.zero_grad()
    model.training_step((images, labels), phase="generator", step=0)["loss"].backward()
    grads = [p.grad for p in model.generator.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads) and any(g.abs().sum() > 0 for g in grads)
    model.eval()
    samples = model.sample(6, labels=torch.tensor([0, 1, 2, 3, 0, 1]))
    assert samples.shape == (6, 1, 16, 16) and float(samples.min()) >= 0 and float(samples.max()) <= 1


def test_rgb_and_non_square_images(tiny_rgb):
    images, _labels = tiny_rgb
    model = build_model("vae", image_size=(16, 32), channels=3, depth=2, base_channels=8, latent_dim=4)
    wide = torch.cat([images, images], dim=3)
    assert model.reconstruct(wide).shape == (32, 3, 16, 32)
    gan = build_model("conditional-gan", image_size=16, channels=3, depth=2, base_channels=8, num_classes=4)
    assert gan.sample(4, labels=torch.tensor(2)).shape == (4, 3, 16, 16)


def test_dirichlet_latents_lie_on_the_simplex(tiny_images):
    seed_everything(0)
    model = build_model("dirichlet-vae", **CASES["dirichlet-vae"])
    draws = model.posterior_sample(tiny_images[0])
    assert draws.shape == (64, 4)
    assert bool((draws >= 0).all()) and torch.allclose(draws.sum(dim=1), torch.ones(64), atol=1e-5)
    prior = model.prior_sample(100, device="cpu")
    assert bool((prior >= 0).all()) and torch.allclose(prior.sum(dim=1), torch.ones(100), atol=1e-5)
    assert torch.allclose(model.encode(tiny_images[0]).sum(dim=1), torch.ones(64), atol=1e-5)
    draws.sum().backward()  # rsample: gradients reach the encoder
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.encoder.parameters())


def test_kl_schedules_warm_up_and_cycle():
    from genai_models.vae import kl_weight

    linear = [kl_weight(s, beta=2.0, schedule="linear", warmup_steps=10, cycle_steps=1) for s in (0, 5, 10, 50)]
    assert linear == [0.0, 1.0, 2.0, 2.0]
    cyclic = [kl_weight(s, beta=1.0, schedule="cyclical", warmup_steps=1, cycle_steps=10) for s in (0, 5, 9, 10)]
    assert cyclic == [0.0, 1.0, 1.0, 0.0]


def test_elbo_is_summed_per_sample():
    from genai_models.vae import bernoulli_nll, gaussian_kl

    logits = torch.zeros(2, 1, 4, 4)
    assert torch.allclose(bernoulli_nll(logits, torch.ones(2, 1, 4, 4)), torch.full((2,), 16 * 0.693147), atol=1e-4)
    assert torch.allclose(gaussian_kl(torch.ones(3, 5), torch.zeros(3, 5)), torch.full((3,), 2.5))


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"image_size": 30, "depth": 2}, "2**depth"),
    ({"channels": 2}, "channels"),
    ({"latent_dim": 0}, "latent_dim"),
])
def test_bad_arguments_name_the_argument(kwargs, word):
    with pytest.raises(BadInputError, match=word.replace("*", r"\*")):
        build_model("autoencoder", **kwargs)


def test_unknown_model_and_option():
    with pytest.raises(BadInputError, match="Unknown model"):
        build_model("stylegan")
    with pytest.raises(BadInputError, match="does not accept"):
        build_model("dcgan", colour=True)
    with pytest.raises(BadInputError, match="kl_schedule"):
        build_model("vae", kl_schedule="sigmoid")


def test_conditional_gan_sngan_recipe_sets_phases_and_betas():
    sngan = build_model("conditional-gan", **CASES["conditional-gan"], n_dis=2, betas=(0.0, 0.9))
    expected = [("discriminator",), ("discriminator", "generator")] * 2
    assert [sngan.phases(step) for step in range(4)] == expected
    assert sngan.betas == (0.0, 0.9) and sngan.config["betas"] == [0.0, 0.9]
    default = build_model("conditional-gan", **CASES["conditional-gan"])
    assert default.phases(0) == ("discriminator", "generator") and default.betas == (0.5, 0.999)
    with pytest.raises(BadInputError, match="n_dis"):
        build_model("conditional-gan", **CASES["conditional-gan"], n_dis=0)
