#!/usr/bin/env bash
# The GPU checks of issue 13 on a device machine (README, "On a GPU machine"), from the repository
# root with .device/ carried (scripts/device/bundle.sh builds it). Writes to $OUT (default
# ./device-out): env.txt (GPU, driver, Node, the adapter each route found), parity.txt (the
# engine, backend and Kronecker parity suites on webgpu and tfjs-webgpu), bench-all.json and
# bench-all.txt (`bench --backend all`: the autoencoder on cpu, webgpu and tfjs-webgpu, then
# the 960,016-edge network). Each step has its own time limit so the whole stays under about
# 8 minutes; `--quick` (a rehearsal on a machine without a GPU) runs the autoencoder only.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$PWD/device-out}"
mkdir -p "$OUT"
quick=0; [ "${1:-}" = --quick ] && quick=1
started=$(date +%s)
elapsed() { echo "[$(( $(date +%s) - started )) s]"; }

# Node, the modules and dist/ from the bundle; Debian's loaders where the machine has none.
[ -f .device/node.tar.xz ] || { echo "check.sh: .device/ is missing: run scripts/device/bundle.sh here and carry .device" >&2; exit 2; }
mkdir -p /tmp/unitwise-node && tar -C /tmp/unitwise-node -xJf .device/node.tar.xz && export PATH="/tmp/unitwise-node:$PATH"
[ -d node_modules ] || tar -xJf .device/modules.tar.xz
[ -d dist ] || tar -xJf .device/dist.tar.xz
if [ "$(id -u)" = 0 ] && ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .device/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$nvidia_icd" ] && export VK_DRIVER_FILES="$nvidia_icd"
nvidia_egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[ -f "$nvidia_egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia_egl"
[ -n "${DISPLAY:-}" ] || export EGL_PLATFORM=surfaceless

{
  echo "date: $(date -u +%FT%TZ)  host: $(uname -srm)  node: $(node -v)  cores: $(nproc)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} EGL_PLATFORM=${EGL_PLATFORM:-}"
  for route in "--backend webgpu" "--backend tfjs --tfjs-backend webgpu"; do
    echo "== unitwise step ... $route"
    timeout 60 node bin/unitwise.js step networks/tiny-softmax.json --data networks/tiny-softmax.data.json --method backpropagated-metric $route --out /tmp/unitwise-step.json 2>&1 | grep -E 'backend|rror' || echo "(no backend line)"
  done
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"; elapsed

echo "== parity suites on webgpu and tfjs-webgpu"
timeout 120 node node_modules/vitest/vitest.mjs run test/engine-parity.test.ts test/backend-parity.test.ts test/kronecker-kernels.test.ts test/webgpu-engine.test.ts -t webgpu > "$OUT/parity.txt" 2>&1
echo "vitest exit $?"; tail -6 "$OUT/parity.txt"; elapsed

echo "== bench --backend all: the autoencoder"
backends=cpu,webgpu
grep -q "'tfjs-webgpu'" dist/bench/all/detect.js && backends="$backends,tfjs-webgpu"
timeout 120 node dist/bench/main.js --backend all --backends "$backends" --no-large --rounds 3 --json "$OUT/bench-all.json" --report "$OUT/bench-all.txt" > "$OUT/bench-progress.txt" 2>&1
echo "exit $?"; elapsed
if [ "$quick" = 0 ] && [ -f "$OUT/bench-all.json" ]; then
  echo "== bench --backend all: the 960,016-edge network"
  timeout 150 node dist/bench/main.js --backend all --backends "$backends" --repeats 3 --budget 30 --resume "$OUT/bench-all.json" --json "$OUT/bench-all.json" --report "$OUT/bench-all.txt" >> "$OUT/bench-progress.txt" 2>&1
  echo "exit $?"; elapsed
fi
tail -40 "$OUT/bench-all.txt" 2>/dev/null
