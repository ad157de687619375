/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PCIe link arithmetic: what a link of a generation and width can carry
 * per direction after line encoding (8b/10b for 2.5 and 5 GT/s, 128b/130b
 * for 8 to 32 GT/s, FLIT mode for 64 GT/s, of which 242 of 256 bytes carry
 * TLPs and DLLPs). Measured copies reach 80-90 % of it.
 */
#pragma once

/* The generation of a sysfs link speed: "16.0 GT/s PCIe" (kernel >= 5.7)
 * or "16 GT/s" (older); 0 when unknown. */
int gp_pcie_gen(const char *speed);
/* GB/s (1e9 bytes/s) per lane and direction for a generation; 0 unknown. */
double gp_pcie_lane_gbps(int gen);
/* GB/s per direction for speed and width; 0 when either is unknown. */
double gp_pcie_link_gbps(const char *speed, int width);
