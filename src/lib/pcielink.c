/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "pcielink.h"

int gp_pcie_gen(const char *speed)
{
    static const struct {
        double gts;
        int gen;
    } gens[] = { { 2.5, 1 }, { 5, 2 }, { 8, 3 }, { 16, 4 }, { 32, 5 }, { 64, 6 } };
    char *end;
    double v;

    if (!speed)
        return 0;
    v = strtod(speed, &end);
    if (end == speed || strncmp(end + strspn(end, " "), "GT/s", 4) != 0)
        return 0;
    for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++)
        if (v > gens[i].gts - 0.01 && v < gens[i].gts + 0.01)
            return gens[i].gen;
    return 0;
}

double gp_pcie_lane_gbps(int gen)
{
    switch (gen) {
    case 1: return 2.5 * 8 / 10 / 8;              /* 0.25 */
    case 2: return 5.0 * 8 / 10 / 8;              /* 0.5 */
    case 3: return 8.0 * 128 / 130 / 8;           /* 0.985 */
    case 4: return 16.0 * 128 / 130 / 8;          /* 1.969 */
    case 5: return 32.0 * 128 / 130 / 8;          /* 3.938 */
    case 6: return 64.0 * 242 / 256 / 8;          /* 7.56: TLP + DLLP bytes of a 256-byte FLIT */
    default: return 0;
    }
}

double gp_pcie_link_gbps(const char *speed, int width)
{
    return width > 0 ? gp_pcie_lane_gbps(gp_pcie_gen(speed)) * width : 0;
}
