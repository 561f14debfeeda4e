"""Copy freshly trained unet skull-stripper weights over the shipped ones (on the GPU machine's copy of the tree)
when their held-out ch2 Dice, measured the same way at the end of training, is higher. Prints the choice.

Usage: python3 bench/gpu/pick_radiology_weights.py NEW_DIR SHIPPED_DIR
"""

import json
import shutil
import sys
from pathlib import Path

CARD, WEIGHTS = "unet_skullstrip.json", "unet_skullstrip.pt"


def main(new_dir: Path, shipped_dir: Path) -> None:
    if not (new_dir / CARD).is_file():
        print(f"unet weights: shipped (no new card in {new_dir})")
        return
    new = json.loads((new_dir / CARD).read_text()).get("dice_ch2_vs_ch2bet") or 0.0
    shipped = json.loads((shipped_dir / CARD).read_text()).get("dice_ch2_vs_ch2bet") or 0.0
    if new > shipped:
        for name in (CARD, WEIGHTS):
            shutil.copy(new_dir / name, shipped_dir / name)
    print(
        f"unet weights: {'new' if new > shipped else 'shipped'} (ch2 Dice new {new:.4f}, shipped {shipped:.4f})"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
