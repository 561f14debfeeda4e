"""Model zoo: name -> class, for the CLI, the hub and run folders (``run.json`` stores the name and the
constructor's keyword arguments, ``build_model`` rebuilds it). ``genai_models.registry`` is a different thing:
the packaged pretrained assets.
"""

from __future__ import annotations

from typing import Any

from data_connectors.errors import BadInputError

# name -> "module:Class"; imported lazily so listing names stays instant.
MODELS: dict[str, str] = {
    "dcgan": "genai_models.dcgan:DCGAN",
    "wgan-gp": "genai_models.wgan_gp:WGANGP",
    "conditional-gan": "genai_models.conditional_gan:ConditionalGAN",
    "autoencoder": "genai_models.autoencoders:ConvAutoencoder",
    "denoising-autoencoder": "genai_models.autoencoders:DenoisingAutoencoder",
    "vae": "genai_models.vae:VAE",
    "beta-vae": "genai_models.vae:BetaVAE",
    "dirichlet-vae": "genai_models.dirichlet_vae:DirichletVAE",
    "vit-vae": "genai_models.transformer_vae:ViTVAE",
    "swin-vae": "genai_models.transformer_vae:SwinVAE",
    "gmm": "genai_models.gmm:GMMBaseline",
}
GAN_MODELS = ("dcgan", "wgan-gp", "conditional-gan")
AE_MODELS = ("autoencoder", "denoising-autoencoder")
VAE_MODELS = ("vae", "beta-vae", "dirichlet-vae", "vit-vae", "swin-vae")


def model_class(name: str) -> type:
    if name not in MODELS:
        raise BadInputError(f"Unknown model {name!r}; choose one of: {', '.join(MODELS)}.")
    import importlib

    module, cls = MODELS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def build_model(name: str, **config: Any) -> Any:
    """A fresh model from its zoo name and keyword arguments (unknown keywords are a ``BadInputError``)."""
    cls = model_class(name)
    try:
        return cls(**config)
    except BadInputError:
        raise
    except TypeError as error:
        raise BadInputError(f"Model {name!r} does not accept these options ({error}); see its docstring.") from None
    except ValueError as error:  # a constructor's own check on an option's value
        raise BadInputError(f"Model {name!r}: {error}") from None
