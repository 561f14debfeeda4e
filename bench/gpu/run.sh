#!/usr/bin/env bash
# The prepared GPU session: run from the repository root on a CUDA machine (the device tool's H100/H200),
# with the git-ignored gpu_carry/ folders beside the code (how to rebuild them: bench/GPU_READY_*).
# Usage: bench/gpu/run.sh STAGE...   stages: radiology radiology-bench dental caries models llm
# Each stage has its own time limit, so one failure cannot eat the session; results land in $OUT/<stage>.
# A session has 15 device minutes and sends at most 64 MiB per call, the working tree (27 MB) included, so
# (plan for the third GPU session; the first two trained the shipped weights, see bench/GPU_READY_*):
#   call 1: carry ["gpu_carry/radiology_bench"] (38.6 MB: ch2, MNI152 and the cp312 wheels with monai),
#           `bench/gpu/run.sh radiology-bench`, timeout_s 240: CUDA rows for all 14 cases, with the
#           resampling on the GPU since 28 Nov;
#   call 2, at once (the machine stays warm 30 s): carry ["gpu_carry/dental/dc1000",
#           "gpu_carry/dental/monai-1.6.1-py3-none-any.whl"] (17 MB), `bench/gpu/run.sh caries`, timeout_s 240;
#   call 3, at once: carry ["gpu_carry/dental/ufba425", "gpu_carry/dental/monai-1.6.1-py3-none-any.whl"] (28 MB),
#           `DENTAL_MINUTES=M bench/gpu/run.sh dental` (M from the device time left: the stage takes M minutes
#           + 25 s at most).
#   radiology (more training) needs carry ["gpu_carry/radiology"] (7.4 MB); models and llm (GPU figures from the
#   first session exist) need carry ["gpu_carry/models"] (48 MB) and matplotlib + scikit-learn there.
# What each stage imports beyond torch: radiology scipy; radiology-bench scipy, pandas, tqdm and the carried
# wheels (deepbet, nibabel, monai, pydantic, cc3d, fill_voids; cp312, the machine's Python 3.12); dental/caries
# pillow; models pillow, scipy, matplotlib, scikit-learn (the check below names what is missing).
set -uo pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH="/tmp/gpu_site:$PWD"
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT" /tmp/gpu_site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
python3 -c "import importlib.util as u; print('missing:', [m for m in ('scipy', 'PIL', 'matplotlib', 'sklearn', 'pandas', 'tqdm') if not u.find_spec(m)])"
unpack() { for wheel in "$@"; do python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall('/tmp/gpu_site')" "$wheel"; done; }

for stage in "$@"; do
  echo "=== $stage $(date -u +%T)"
  case "$stage" in
    radiology)  # continues from the shipped weights (8,047 steps on an H200) at half the first run's peak lr
      unpack gpu_carry/radiology/wheels/*.whl
      timeout 240 python3 -m domains.radiology.train --data gpu_carry/radiology/labels.npz \
        --eval gpu_carry/radiology/eval_ch2.npz --out "$OUT/radiology" --minutes 3.7 --size 128 --spacing 1.5 \
        --batch 2 --init domains/radiology/unet_skullstrip.pt --lr 1e-3 ;;
    radiology-bench)  # CUDA rows of `genai bench radiology` (ch2, MNI152 and their copies), with the radiology
      # stage's weights if it ran in this session and they beat the shipped ones on held-out ch2
      unpack gpu_carry/radiology_bench/wheels/*.whl
      python3 bench/gpu/pick_radiology_weights.py "$OUT/radiology" domains/radiology
      timeout 200 python3 bench/radiology.py --device cuda --mricron gpu_carry/radiology_bench/mricron \
        --mni152 gpu_carry/radiology_bench/mni152 --out "$OUT/radiology-bench" ;;
    dental)  # continues from the shipped weights (their card says how far they got) at lr 1e-3; the same split
      unpack gpu_carry/dental/monai-*.whl
      minutes="${DENTAL_MINUTES:-3.0}"
      timeout "$(python3 -c "print(int($minutes * 60 + 25))")" python3 -m domains.dental.train teeth \
        --data gpu_carry/dental/ufba425 --out "$OUT/dental" --minutes "$minutes" --device cuda \
        --init domains/dental/weights/teeth_unet.pt --lr 1e-3 ;;
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
