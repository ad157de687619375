#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# gpupass on a real Debian kernel under QEMU with an emulated Intel and AMD
# IOMMU: list/check against the kernel's groups, bind/unbind/status with
# real vfio-pci, a snapshot replayed here. See tests/vm/gpvm.py. TAP output.
# Env: GPUPASS (the binary), TOP (the source tree), GPUPASS_VM_CACHE
# (default $TOP/build/vm-cache: the kernel is downloaded there once).
set -u
: "${GPUPASS:?set GPUPASS to the gpupass binary}"
top=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
# tests/run.sh runs every program twice, plain and with ASan; two boots of
# a minute each buy nothing twice, and ASan's runtime is not in the guest.
case $GPUPASS in
*asan*) echo "ok 1 - VM tests # SKIP runs once, with the plain build"; echo "1..1"; exit 0 ;;
esac
exec python3 "$top/tests/vm/gpvm.py" --gpupass "$GPUPASS" --top "$top" \
    ${GPUPASS_VM_CACHE:+--cache "$GPUPASS_VM_CACHE"}
