/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How far a misspelled name is from a known one, for "did you mean". */
#pragma once

/*
 * Optimal string alignment distance (insertions, deletions, substitutions
 * and swaps of neighbours, each 1) with '-' and '_' equal, as the kernel and
 * kmod compare parameter and module names. Counting stops past cap: any
 * result above cap is cap + 1, and so are names longer than 64 bytes.
 */
unsigned gp_name_distance(const char *a, const char *b, unsigned cap);
