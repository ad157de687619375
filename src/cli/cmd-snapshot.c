/* SPDX-License-Identifier: GPL-2.0-or-later */
/* placeholder until helper-2 lands the real command */
#include "cli.h"
int gp_cmd_snapshot(const gp_cli *cli, int argc, char **argv)
{
    (void)cli; (void)argc; (void)argv;
    return gp_cli_error("snapshot: unavailable in this build");
}
