#!/usr/bin/env bash
# The prepared GPU session: run from the repository root on a CUDA machine (the device tool's H100/H200),
# with the git-ignored gpu_carry/ folders beside the code (how to rebuild them: bench/GPU_READY_*).
# Usage: bench/gpu/run.sh STAGE...   stages: radiology dental caries models llm
# Each stage has its own time limit, so one failure cannot eat the session; results land in $OUT/<stage>.
# A session has 15 device minutes and carries at most 64 MiB per call, so (CPU dry run of every stage: 27 Nov):
#   call 1: carry ["gpu_carry/radiology", "gpu_carry/dental"] (49 MB), `bench/gpu/run.sh radiology dental`,
#           timeout_s 560 (stages 270 + 230 s);
#   call 2, if time is left: same carry, `bench/gpu/run.sh caries` (200 s). models and llm (GPU figures from the
#           first session exist) need carry ["gpu_carry/models"] (48 MB) and matplotlib + scikit-learn there.
# What each stage imports beyond torch: radiology scipy; dental/caries pillow; models pillow, scipy,
# matplotlib, scikit-learn (the check below names what is missing before anything runs).
set -uo pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH="/tmp/gpu_site:$PWD"
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT" /tmp/gpu_site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
python3 -c "import importlib.util as u; print('missing:', [m for m in ('scipy', 'PIL', 'matplotlib', 'sklearn') if not u.find_spec(m)])"
unpack() { for wheel in "$@"; do python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall('/tmp/gpu_site')" "$wheel"; done; }

for stage in "$@"; do
  echo "=== $stage $(date -u +%T)"
  case "$stage" in
    radiology)
      unpack gpu_carry/radiology/wheels/*.whl
      timeout 270 python3 -m domains.radiology.train --data gpu_carry/radiology/labels.npz \
        --eval gpu_carry/radiology/eval_ch2.npz --out "$OUT/radiology" --minutes 4.0 --size 128 --spacing 1.5 --batch 2 ;;
    dental)
      unpack gpu_carry/dental/monai-*.whl
      timeout 230 python3 -m domains.dental.train teeth --data gpu_carry/dental/ufba425 --out "$OUT/dental" \
        --minutes 3.5 --device cuda ;;
    caries)  # DC1000 has no licence: its weights stay in $OUT, never in the repository
      unpack gpu_carry/dental/monai-*.whl
      timeout 200 python3 -m domains.dental.train caries --data gpu_carry/dental/dc1000 --out "$OUT/caries" \
        --minutes 2.5 --device cuda ;;
    models)  # 12 training budgets (10 models + 2 anomaly AEs) must fit the timeout: the script's 18 s default would not
      unpack gpu_carry/models/wheels/*.whl
      timeout 200 python3 bench/models.py --device cuda --fashion-mnist gpu_carry/models/fashion-mnist \
        --out "$OUT/models" --seconds "${MODELS_SECONDS:-8}" ;;
    llm)
      timeout 150 python3 bench/llm.py --gpu --out "$OUT/llm" ;;
    *) echo "unknown stage $stage"; exit 2 ;;
  esac
  echo "=== $stage exit $? $(date -u +%T)"
done
