/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The library never prints. A failing call returns a negative errno and, when
 * the caller passed a gp_error, fills it once, where the failure happens, with
 * a message that names the input and says what to do next.
 */
#pragma once

#include "shared/macro.h"

typedef struct gp_error {
    int code;          /* negative errno, 0 when unset */
    char msg[1024];
} gp_error;

/* Records the message (first one wins) and returns code, for `return gp_error_set(...)`. */
int gp_error_set(gp_error *err, int code, const char *fmt, ...) _printf_(3, 4);
const char *gp_error_message(const gp_error *err);
