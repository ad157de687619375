/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for ROCm's HIP runtime (libamdhip64.so) with the entry points
 * gpupass bench loads, on the same virtual clock as fakecuda.c: a copy of
 * n bytes advances its stream by FAKEHIP_LATENCY_US + n / FAKEHIP_GBPS.
 * Environment: FAKEHIP_GBPS (20), FAKEHIP_LATENCY_US (0), FAKEHIP_BUSID
 * ("0000:03:00.0"), FAKEHIP_FAIL=SYMBOL (that call returns
 * hipErrorOutOfMemory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define hipSuccess 0
#define hipErrorInvalidValue 1
#define hipErrorOutOfMemory 2
#define hipErrorInvalidDevice 101

#define EXPORT __attribute__((visibility("default")))

typedef struct fstream {
    double clock_us;
} fstream;

typedef struct fevent {
    double at_us;
} fevent;

static fstream null_stream;

static double env_double(const char *name, double dflt)
{
    const char *v = getenv(name);

    return v && *v ? atof(v) : dflt;
}

static int failing(const char *fn)
{
    const char *v = getenv("FAKEHIP_FAIL");

    return v && strcmp(v, fn) == 0;
}

EXPORT int hipInit(unsigned flags)
{
    (void)flags;
    return hipSuccess;
}

/* HIP_VERSION: major * 10000000 + minor * 100000 + patch: 6.2.41134 */
EXPORT int hipDriverGetVersion(int *v)
{
    *v = 60241134;
    return hipSuccess;
}

EXPORT int hipGetDeviceCount(int *n)
{
    *n = 1;
    return hipSuccess;
}

EXPORT int hipSetDevice(int d)
{
    return d == 0 ? hipSuccess : hipErrorInvalidDevice;
}

EXPORT int hipDeviceGetName(char *name, int len, int d)
{
    snprintf(name, (size_t)len, "Fake Instinct");
    return d == 0 ? hipSuccess : hipErrorInvalidDevice;
}

EXPORT int hipDeviceGetPCIBusId(char *id, int len, int d)
{
    const char *b = getenv("FAKEHIP_BUSID");

    snprintf(id, (size_t)len, "%s", b && *b ? b : "0000:03:00.0");
    return d == 0 ? hipSuccess : hipErrorInvalidDevice;
}

EXPORT int hipDeviceTotalMem(size_t *bytes, int d)
{
    *bytes = (size_t)64 << 30;
    return d == 0 ? hipSuccess : hipErrorInvalidDevice;
}

EXPORT int hipMalloc(void **p, size_t n)
{
    if (failing("hipMalloc") || !(*p = malloc(n)))
        return hipErrorOutOfMemory;
    return hipSuccess;
}

EXPORT int hipFree(void *p)
{
    free(p);
    return hipSuccess;
}

EXPORT int hipHostMalloc(void **p, size_t n, unsigned flags)
{
    (void)flags;
    if (failing("hipHostMalloc") || !(*p = malloc(n)))
        return hipErrorOutOfMemory;
    return hipSuccess;
}

EXPORT int hipHostFree(void *p)
{
    free(p);
    return hipSuccess;
}

/* kind 1: host to device, 2: device to host */
EXPORT int hipMemcpyAsync(void *dst, const void *src, size_t n, int kind, void *s)
{
    fstream *st = s ? s : &null_stream;

    if (kind != 1 && kind != 2)
        return hipErrorInvalidValue;
    memcpy(dst, src, n);
    st->clock_us += env_double("FAKEHIP_LATENCY_US", 0) + (double)n / (env_double("FAKEHIP_GBPS", 20) * 1e9) * 1e6;
    return hipSuccess;
}

EXPORT int hipStreamCreate(void **s)
{
    *s = calloc(1, sizeof(fstream));
    return *s ? hipSuccess : hipErrorOutOfMemory;
}

EXPORT int hipStreamSynchronize(void *s)
{
    (void)s;
    return hipSuccess;
}

EXPORT int hipStreamDestroy(void *s)
{
    free(s);
    return hipSuccess;
}

EXPORT int hipEventCreate(void **e)
{
    *e = calloc(1, sizeof(fevent));
    return *e ? hipSuccess : hipErrorOutOfMemory;
}

EXPORT int hipEventRecord(void *e, void *s)
{
    ((fevent *)e)->at_us = (s ? (fstream *)s : &null_stream)->clock_us;
    return hipSuccess;
}

EXPORT int hipEventSynchronize(void *e)
{
    (void)e;
    return hipSuccess;
}

EXPORT int hipEventDestroy(void *e)
{
    free(e);
    return hipSuccess;
}

EXPORT int hipEventElapsedTime(float *ms, void *start, void *end)
{
    *ms = (float)((((fevent *)end)->at_us - ((fevent *)start)->at_us) / 1e3);
    return hipSuccess;
}

EXPORT const char *hipGetErrorString(int e)
{
    return e == hipErrorOutOfMemory ? "hipErrorOutOfMemory" : e == hipErrorInvalidDevice ? "hipErrorInvalidDevice"
                                                                                         : "hipErrorUnknown";
}
