#!/usr/bin/env bash
# The prepared GPU session: run from the repository root on a CUDA machine (the device tool's H100/H200),
# with the git-ignored gpu_carry/ folders beside the code (how to rebuild them: bench/GPU_READY_*).
# Usage: bench/gpu/run.sh STAGE...   stages: radiology dental caries models llm
# Each stage has its own time limit, so one failure cannot eat the session; results land in $OUT/<stage>.
set -uo pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH="/tmp/gpu_site:$PWD"
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT" /tmp/gpu_site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
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
    models)
      unpack gpu_carry/models/wheels/*.whl
      timeout 200 python3 bench/models.py --device cuda --fashion-mnist gpu_carry/models/fashion-mnist \
        --out "$OUT/models" ${MODELS_SECONDS:+--seconds $MODELS_SECONDS} ;;
    llm)
      timeout 150 python3 bench/llm.py --gpu --out "$OUT/llm" ;;
    *) echo "unknown stage $stage"; exit 2 ;;
  esac
  echo "=== $stage exit $? $(date -u +%T)"
done
