/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for the CUDA driver library (libcuda.so.1) with the entry
 * points gpupass bench loads, for tests on machines without a GPU. Memory
 * is host memory, copies are memcpy, and time is a virtual clock per
 * stream: a copy of n bytes advances it by FAKECUDA_LATENCY_US plus
 * n / FAKECUDA_GBPS, and an event records the clock. So the bandwidth
 * gpupass computes must come out as FAKECUDA_GBPS: a test of gpupass's
 * arithmetic, not a claim about any GPU.
 *
 * Environment: FAKECUDA_DEVICES (default 1), FAKECUDA_GBPS (25),
 * FAKECUDA_D2H_GBPS (default: FAKECUDA_GBPS), FAKECUDA_LATENCY_US (0),
 * FAKECUDA_BUSID ("0000:01:00.0"), FAKECUDA_NAME ("Fake GPU"),
 * FAKECUDA_FAIL=SYMBOL (that entry point returns CUDA_ERROR_OUT_OF_MEMORY),
 * FAKECUDA_INIT_FAIL=1 (cuInit returns CUDA_ERROR_NO_DEVICE).
 * Built with -DFAKECUDA_NO_EVENTS it lacks cuEventRecord, as a broken or
 * foreign library would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUDA_SUCCESS 0
#define CUDA_ERROR_INVALID_VALUE 1
#define CUDA_ERROR_OUT_OF_MEMORY 2
#define CUDA_ERROR_NO_DEVICE 100
#define CUDA_ERROR_INVALID_DEVICE 101

#define EXPORT __attribute__((visibility("default")))

typedef struct fstream {
    double clock_us;
} fstream;

typedef struct fevent {
    double at_us;
    int recorded;
} fevent;

static double env_double(const char *name, double dflt)
{
    const char *v = getenv(name);

    return v && *v ? atof(v) : dflt;
}

static int failing(const char *fn)
{
    const char *v = getenv("FAKECUDA_FAIL");

    return v && strcmp(v, fn) == 0;
}

static int devices(void)
{
    return (int)env_double("FAKECUDA_DEVICES", 1);
}

EXPORT int cuInit(unsigned flags)
{
    (void)flags;
    return getenv("FAKECUDA_INIT_FAIL") ? CUDA_ERROR_NO_DEVICE : CUDA_SUCCESS;
}

EXPORT int cuDriverGetVersion(int *v)
{
    *v = 12080;
    return CUDA_SUCCESS;
}

EXPORT int cuDeviceGetCount(int *n)
{
    *n = devices();
    return CUDA_SUCCESS;
}

EXPORT int cuDeviceGet(int *dev, int ordinal)
{
    if (ordinal < 0 || ordinal >= devices())
        return CUDA_ERROR_INVALID_DEVICE;
    *dev = ordinal;
    return CUDA_SUCCESS;
}

EXPORT int cuDeviceGetName(char *name, int len, int dev)
{
    const char *n = getenv("FAKECUDA_NAME");

    snprintf(name, (size_t)len, "%s", n && *n ? n : "Fake GPU");
    return dev < devices() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

/* The driver prints the bus ID in upper case. */
EXPORT int cuDeviceGetPCIBusId(char *id, int len, int dev)
{
    const char *b = getenv("FAKECUDA_BUSID");

    snprintf(id, (size_t)len, "%s", b && *b ? b : "0000:01:00.0");
    for (char *c = id; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    return dev < devices() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

EXPORT int cuDeviceTotalMem_v2(size_t *bytes, int dev)
{
    *bytes = (size_t)24 << 30;
    return dev < devices() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

static int ctx_token;

EXPORT int cuDevicePrimaryCtxRetain(void **ctx, int dev)
{
    *ctx = &ctx_token;
    return dev < devices() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

EXPORT int cuDevicePrimaryCtxRelease_v2(int dev)
{
    return dev < devices() ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

EXPORT int cuCtxSetCurrent(void *ctx)
{
    return ctx == &ctx_token ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

EXPORT int cuMemAlloc_v2(unsigned long long *p, size_t n)
{
    void *m;

    if (failing("cuMemAlloc_v2") || !(m = malloc(n)))
        return CUDA_ERROR_OUT_OF_MEMORY;
    *p = (unsigned long long)(unsigned long)m;
    return CUDA_SUCCESS;
}

EXPORT int cuMemFree_v2(unsigned long long p)
{
    free((void *)(unsigned long)p);
    return CUDA_SUCCESS;
}

EXPORT int cuMemAllocHost_v2(void **p, size_t n)
{
    if (failing("cuMemAllocHost_v2") || !(*p = malloc(n)))
        return CUDA_ERROR_OUT_OF_MEMORY;
    return CUDA_SUCCESS;
}

EXPORT int cuMemFreeHost(void *p)
{
    free(p);
    return CUDA_SUCCESS;
}

static void advance(void *s, size_t n, const char *rate_env)
{
    fstream *st = s;
    double gbps = env_double(rate_env, env_double("FAKECUDA_GBPS", 25));

    st->clock_us += env_double("FAKECUDA_LATENCY_US", 0) + (double)n / (gbps * 1e9) * 1e6;
}

EXPORT int cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t n, void *s)
{
    if (failing("cuMemcpyHtoDAsync_v2"))
        return CUDA_ERROR_OUT_OF_MEMORY;
    memcpy((void *)(unsigned long)dst, src, n);
    advance(s, n, "FAKECUDA_H2D_GBPS");
    return CUDA_SUCCESS;
}

EXPORT int cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t n, void *s)
{
    memcpy(dst, (const void *)(unsigned long)src, n);
    advance(s, n, "FAKECUDA_D2H_GBPS");
    return CUDA_SUCCESS;
}

EXPORT int cuStreamCreate(void **s, unsigned flags)
{
    (void)flags;
    *s = calloc(1, sizeof(fstream));
    return *s ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

EXPORT int cuStreamSynchronize(void *s)
{
    return s ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

EXPORT int cuStreamDestroy_v2(void *s)
{
    free(s);
    return CUDA_SUCCESS;
}

EXPORT int cuEventCreate(void **e, unsigned flags)
{
    (void)flags;
    *e = calloc(1, sizeof(fevent));
    return *e ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

#ifndef FAKECUDA_NO_EVENTS
EXPORT int cuEventRecord(void *e, void *s)
{
    ((fevent *)e)->at_us = ((fstream *)s)->clock_us;
    ((fevent *)e)->recorded = 1;
    return CUDA_SUCCESS;
}
#endif

EXPORT int cuEventSynchronize(void *e)
{
    return ((fevent *)e)->recorded ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

EXPORT int cuEventDestroy_v2(void *e)
{
    free(e);
    return CUDA_SUCCESS;
}

/* Only the plain name, as drivers before CUDA 12.8 export it: gpupass
 * must fall back from cuEventElapsedTime_v2. */
EXPORT int cuEventElapsedTime(float *ms, void *start, void *end)
{
    *ms = (float)((((fevent *)end)->at_us - ((fevent *)start)->at_us) / 1e3);
    return CUDA_SUCCESS;
}

EXPORT int cuGetErrorString(int e, const char **s)
{
    *s = e == CUDA_ERROR_OUT_OF_MEMORY ? "out of memory" : e == CUDA_ERROR_NO_DEVICE ?
         "no CUDA-capable device is detected" : e == CUDA_ERROR_INVALID_DEVICE ? "invalid device ordinal" :
         "unknown error";
    return CUDA_SUCCESS;
}

EXPORT int cuGetErrorName(int e, const char **s)
{
    *s = e == CUDA_ERROR_OUT_OF_MEMORY ? "CUDA_ERROR_OUT_OF_MEMORY" : e == CUDA_ERROR_NO_DEVICE ?
         "CUDA_ERROR_NO_DEVICE" : e == CUDA_ERROR_INVALID_DEVICE ? "CUDA_ERROR_INVALID_DEVICE" : "CUDA_ERROR_UNKNOWN";
    return CUDA_SUCCESS;
}
