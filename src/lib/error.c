/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <string.h>

#include "error.h"

void gp_error_record(gp_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err || err->code != 0)
        return;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

const char *gp_error_message(const gp_error *err)
{
    if (!err || err->code == 0)
        return "unknown error";
    if (err->msg[0])
        return err->msg;
    return strerror(-err->code);
}
