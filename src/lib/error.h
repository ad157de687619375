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

/* Records the message (first one wins); see gp_error_set(). */
void gp_error_record(gp_error *err, int code, const char *fmt, ...) _printf_(3, 4);

/* Records the message (first one wins) and returns code, for `return gp_error_set(...)`.
 * A macro, so that the static analyzer sees the result is code (a negative
 * errno): it does not inline variadic functions, and would otherwise follow
 * success paths after a failed call. code is evaluated once. */
#define gp_error_set(err, code, ...)                                  \
    ({                                                                \
        int gp_error_code_ = (code);                                  \
        gp_error_record((err), gp_error_code_, __VA_ARGS__);          \
        gp_error_code_;                                               \
    })

const char *gp_error_message(const gp_error *err);
