/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchgpu.h"
#include "shared/macro.h"

/* ---- the two driver APIs, as far as gpupass uses them ---- */

/* CUDA driver API (cuda.h): CUresult is an int, CUdevice an int,
 * CUdeviceptr an unsigned long long, contexts, streams and events
 * pointers. The _v2 names are what cuda.h's macros export. */
typedef struct cuda_fns {
    int (*Init)(unsigned);
    int (*DriverGetVersion)(int *);
    int (*DeviceGetCount)(int *);
    int (*DeviceGet)(int *, int);
    int (*DeviceGetName)(char *, int, int);
    int (*DeviceGetPCIBusId)(char *, int, int);
    int (*DeviceTotalMem)(size_t *, int);
    int (*PrimaryCtxRetain)(void **, int);
    int (*PrimaryCtxRelease)(int);
    int (*CtxSetCurrent)(void *);
    int (*MemAlloc)(unsigned long long *, size_t);
    int (*MemFree)(unsigned long long);
    int (*MemAllocHost)(void **, size_t);
    int (*MemFreeHost)(void *);
    int (*MemcpyHtoDAsync)(unsigned long long, const void *, size_t, void *);
    int (*MemcpyDtoHAsync)(void *, unsigned long long, size_t, void *);
    int (*StreamCreate)(void **, unsigned);
    int (*StreamSynchronize)(void *);
    int (*StreamDestroy)(void *);
    int (*EventCreate)(void **, unsigned);
    int (*EventRecord)(void *, void *);
    int (*EventSynchronize)(void *);
    int (*EventDestroy)(void *);
    int (*EventElapsedTime)(float *, void *, void *);
    int (*GetErrorString)(int, const char **);
    int (*GetErrorName)(int, const char **);
} cuda_fns;

/* HIP runtime (hip_runtime_api.h): hipError_t is an int; hipMemcpyKind 1
 * is host to device, 2 device to host. hipGetDeviceProperties is avoided:
 * ROCm >= 6 maps it to ...R0600 with another struct layout. */
typedef struct hip_fns {
    int (*Init)(unsigned);
    int (*DriverGetVersion)(int *);
    int (*GetDeviceCount)(int *);
    int (*SetDevice)(int);
    int (*DeviceGetName)(char *, int, int);
    int (*DeviceGetPCIBusId)(char *, int, int);
    int (*DeviceTotalMem)(size_t *, int);
    int (*Malloc)(void **, size_t);
    int (*Free)(void *);
    int (*HostMalloc)(void **, size_t, unsigned);
    int (*HostFree)(void *);
    int (*MemcpyAsync)(void *, const void *, size_t, int, void *);
    int (*StreamCreate)(void **);
    int (*StreamSynchronize)(void *);
    int (*StreamDestroy)(void *);
    int (*EventCreate)(void **);
    int (*EventRecord)(void *, void *);
    int (*EventSynchronize)(void *);
    int (*EventDestroy)(void *);
    int (*EventElapsedTime)(float *, void *, void *);
    const char *(*GetErrorString)(int);
} hip_fns;

typedef struct sym {
    const char *name;
    size_t off;
    const char *alt;           /* an older export to fall back on, or NULL */
} sym;

#define CU(f, n, alt) { n, offsetof(cuda_fns, f), alt }
static const sym cuda_syms[] = {
    CU(Init, "cuInit", NULL), CU(DriverGetVersion, "cuDriverGetVersion", NULL),
    CU(DeviceGetCount, "cuDeviceGetCount", NULL), CU(DeviceGet, "cuDeviceGet", NULL),
    CU(DeviceGetName, "cuDeviceGetName", NULL), CU(DeviceGetPCIBusId, "cuDeviceGetPCIBusId", NULL),
    CU(DeviceTotalMem, "cuDeviceTotalMem_v2", NULL), CU(PrimaryCtxRetain, "cuDevicePrimaryCtxRetain", NULL),
    CU(PrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"),
    CU(CtxSetCurrent, "cuCtxSetCurrent", NULL), CU(MemAlloc, "cuMemAlloc_v2", NULL),
    CU(MemFree, "cuMemFree_v2", NULL), CU(MemAllocHost, "cuMemAllocHost_v2", NULL),
    CU(MemFreeHost, "cuMemFreeHost", NULL), CU(MemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2", NULL),
    CU(MemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2", NULL), CU(StreamCreate, "cuStreamCreate", NULL),
    CU(StreamSynchronize, "cuStreamSynchronize", NULL), CU(StreamDestroy, "cuStreamDestroy_v2", NULL),
    CU(EventCreate, "cuEventCreate", NULL), CU(EventRecord, "cuEventRecord", NULL),
    CU(EventSynchronize, "cuEventSynchronize", NULL), CU(EventDestroy, "cuEventDestroy_v2", NULL),
    /* _v2 exists only in drivers of CUDA >= 12.8 */
    CU(EventElapsedTime, "cuEventElapsedTime_v2", "cuEventElapsedTime"),
    CU(GetErrorString, "cuGetErrorString", NULL), CU(GetErrorName, "cuGetErrorName", NULL),
};
#undef CU

#define HP(f, n) { n, offsetof(hip_fns, f), NULL }
static const sym hip_syms[] = {
    HP(Init, "hipInit"), HP(DriverGetVersion, "hipDriverGetVersion"), HP(GetDeviceCount, "hipGetDeviceCount"),
    HP(SetDevice, "hipSetDevice"), HP(DeviceGetName, "hipDeviceGetName"),
    HP(DeviceGetPCIBusId, "hipDeviceGetPCIBusId"), HP(DeviceTotalMem, "hipDeviceTotalMem"), HP(Malloc, "hipMalloc"),
    HP(Free, "hipFree"), HP(HostMalloc, "hipHostMalloc"), HP(HostFree, "hipHostFree"),
    HP(MemcpyAsync, "hipMemcpyAsync"), HP(StreamCreate, "hipStreamCreate"),
    HP(StreamSynchronize, "hipStreamSynchronize"), HP(StreamDestroy, "hipStreamDestroy"),
    HP(EventCreate, "hipEventCreate"), HP(EventRecord, "hipEventRecord"),
    HP(EventSynchronize, "hipEventSynchronize"), HP(EventDestroy, "hipEventDestroy"),
    HP(EventElapsedTime, "hipEventElapsedTime"), HP(GetErrorString, "hipGetErrorString"),
};
#undef HP

/* The operations the measurement needs, one table per backend. Device
 * pointers travel as uint64_t (CUDA's CUdeviceptr, HIP's void *). */
typedef struct backend {
    const char *kind;
    int (*device_count)(gp_gpu_api *a, int *n);
    int (*device_info)(gp_gpu_api *a, int ordinal, gp_gpu_dev_info *info);
    int (*enter)(gp_gpu_api *a, int ordinal);
    void (*leave)(gp_gpu_api *a, int ordinal);
    int (*dev_alloc)(gp_gpu_api *a, size_t n, uint64_t *p);
    void (*dev_free)(gp_gpu_api *a, uint64_t p);
    int (*host_alloc)(gp_gpu_api *a, size_t n, void **p);
    void (*host_free)(gp_gpu_api *a, void *p);
    int (*copy)(gp_gpu_api *a, gp_copy_dir dir, uint64_t dev, void *host, size_t n, void *stream);
    int (*stream_create)(gp_gpu_api *a, void **s);
    int (*stream_sync)(gp_gpu_api *a, void *s);
    void (*stream_destroy)(gp_gpu_api *a, void *s);
    int (*event_create)(gp_gpu_api *a, void **e);
    int (*event_record)(gp_gpu_api *a, void *e, void *s);
    int (*event_sync)(gp_gpu_api *a, void *e);
    int (*event_elapsed_ms)(gp_gpu_api *a, void *start, void *end, float *ms);
    void (*event_destroy)(gp_gpu_api *a, void *e);
    /* "CUDA_ERROR_OUT_OF_MEMORY: out of memory" */
    void (*error_text)(gp_gpu_api *a, int code, char *buf, size_t size);
} backend;

struct gp_gpu_api {
    void *dl;
    const backend *be;
    cuda_fns cu;
    hip_fns hip;
    void *ctx;                 /* CUDA primary context while entered */
    char library[512];
    char version[16];
};

/* ---- CUDA ---- */

static int cu_count(gp_gpu_api *a, int *n)
{
    return a->cu.DeviceGetCount(n);
}

static int cu_info(gp_gpu_api *a, int ordinal, gp_gpu_dev_info *info)
{
    int dev, r = a->cu.DeviceGet(&dev, ordinal);

    if (r == 0)
        r = a->cu.DeviceGetName(info->name, (int)sizeof(info->name), dev);
    if (r == 0)
        r = a->cu.DeviceGetPCIBusId(info->pci_bus_id, (int)sizeof(info->pci_bus_id), dev);
    if (r == 0 && a->cu.DeviceTotalMem(&info->memory, dev) != 0)
        info->memory = 0;
    return r;
}

/* The primary context, as nvbandwidth uses: cuCtxCreate's signature
 * changed in CUDA 13 (cuCtxCreate_v4). */
static int cu_enter(gp_gpu_api *a, int ordinal)
{
    int dev, r = a->cu.DeviceGet(&dev, ordinal);

    if (r == 0)
        r = a->cu.PrimaryCtxRetain(&a->ctx, dev);
    if (r == 0)
        r = a->cu.CtxSetCurrent(a->ctx);
    return r;
}

static void cu_leave(gp_gpu_api *a, int ordinal)
{
    int dev;

    if (a->ctx && a->cu.DeviceGet(&dev, ordinal) == 0)
        a->cu.PrimaryCtxRelease(dev);
    a->ctx = NULL;
}

static int cu_dev_alloc(gp_gpu_api *a, size_t n, uint64_t *p)
{
    unsigned long long d = 0;
    int r = a->cu.MemAlloc(&d, n);

    *p = d;
    return r;
}

static void cu_dev_free(gp_gpu_api *a, uint64_t p)
{
    a->cu.MemFree((unsigned long long)p);
}

static int cu_host_alloc(gp_gpu_api *a, size_t n, void **p)
{
    return a->cu.MemAllocHost(p, n);
}

static void cu_host_free(gp_gpu_api *a, void *p)
{
    a->cu.MemFreeHost(p);
}

static int cu_copy(gp_gpu_api *a, gp_copy_dir dir, uint64_t dev, void *host, size_t n, void *s)
{
    return dir == GP_COPY_H2D ? a->cu.MemcpyHtoDAsync(dev, host, n, s) : a->cu.MemcpyDtoHAsync(host, dev, n, s);
}

/* CU_STREAM_NON_BLOCKING: no implicit sync with the legacy stream. */
static int cu_stream_create(gp_gpu_api *a, void **s)
{
    return a->cu.StreamCreate(s, 0x1);
}

static int cu_stream_sync(gp_gpu_api *a, void *s)
{
    return a->cu.StreamSynchronize(s);
}

static void cu_stream_destroy(gp_gpu_api *a, void *s)
{
    a->cu.StreamDestroy(s);
}

static int cu_event_create(gp_gpu_api *a, void **e)
{
    return a->cu.EventCreate(e, 0);
}

static int cu_event_record(gp_gpu_api *a, void *e, void *s)
{
    return a->cu.EventRecord(e, s);
}

static int cu_event_sync(gp_gpu_api *a, void *e)
{
    return a->cu.EventSynchronize(e);
}

static int cu_elapsed(gp_gpu_api *a, void *start, void *end, float *ms)
{
    return a->cu.EventElapsedTime(ms, start, end);
}

static void cu_event_destroy(gp_gpu_api *a, void *e)
{
    a->cu.EventDestroy(e);
}

static void cu_error_text(gp_gpu_api *a, int code, char *buf, size_t size)
{
    const char *name = NULL, *text = NULL;

    if (a->cu.GetErrorName(code, &name) != 0)
        name = NULL;
    if (a->cu.GetErrorString(code, &text) != 0)
        text = NULL;
    snprintf(buf, size, "%s%s%s (CUresult %d)", name ? name : "unknown error", text ? ": " : "", text ? text : "",
             code);
}

static const backend cuda_backend = {
    .kind = "cuda", .device_count = cu_count, .device_info = cu_info, .enter = cu_enter, .leave = cu_leave,
    .dev_alloc = cu_dev_alloc, .dev_free = cu_dev_free, .host_alloc = cu_host_alloc, .host_free = cu_host_free,
    .copy = cu_copy, .stream_create = cu_stream_create, .stream_sync = cu_stream_sync,
    .stream_destroy = cu_stream_destroy, .event_create = cu_event_create, .event_record = cu_event_record,
    .event_sync = cu_event_sync, .event_elapsed_ms = cu_elapsed, .event_destroy = cu_event_destroy,
    .error_text = cu_error_text,
};

/* ---- HIP ---- */

static int hip_count(gp_gpu_api *a, int *n)
{
    return a->hip.GetDeviceCount(n);
}

static int hip_info(gp_gpu_api *a, int ordinal, gp_gpu_dev_info *info)
{
    int r = a->hip.DeviceGetName(info->name, (int)sizeof(info->name), ordinal);

    if (r == 0)
        r = a->hip.DeviceGetPCIBusId(info->pci_bus_id, (int)sizeof(info->pci_bus_id), ordinal);
    if (r == 0 && a->hip.DeviceTotalMem(&info->memory, ordinal) != 0)
        info->memory = 0;
    return r;
}

static int hip_enter(gp_gpu_api *a, int ordinal)
{
    return a->hip.SetDevice(ordinal);
}

static void hip_leave(gp_gpu_api *a, int ordinal)
{
}

static int hip_dev_alloc(gp_gpu_api *a, size_t n, uint64_t *p)
{
    void *d = NULL;
    int r = a->hip.Malloc(&d, n);

    *p = (uint64_t)(uintptr_t)d;
    return r;
}

static void hip_dev_free(gp_gpu_api *a, uint64_t p)
{
    a->hip.Free((void *)(uintptr_t)p);
}

static int hip_host_alloc(gp_gpu_api *a, size_t n, void **p)
{
    return a->hip.HostMalloc(p, n, 0);
}

static void hip_host_free(gp_gpu_api *a, void *p)
{
    a->hip.HostFree(p);
}

static int hip_copy(gp_gpu_api *a, gp_copy_dir dir, uint64_t dev, void *host, size_t n, void *s)
{
    void *d = (void *)(uintptr_t)dev;

    return dir == GP_COPY_H2D ? a->hip.MemcpyAsync(d, host, n, 1, s) : a->hip.MemcpyAsync(host, d, n, 2, s);
}

static int hip_stream_create(gp_gpu_api *a, void **s)
{
    return a->hip.StreamCreate(s);
}

static int hip_stream_sync(gp_gpu_api *a, void *s)
{
    return a->hip.StreamSynchronize(s);
}

static void hip_stream_destroy(gp_gpu_api *a, void *s)
{
    a->hip.StreamDestroy(s);
}

static int hip_event_create(gp_gpu_api *a, void **e)
{
    return a->hip.EventCreate(e);
}

static int hip_event_record(gp_gpu_api *a, void *e, void *s)
{
    return a->hip.EventRecord(e, s);
}

static int hip_event_sync(gp_gpu_api *a, void *e)
{
    return a->hip.EventSynchronize(e);
}

static int hip_elapsed(gp_gpu_api *a, void *start, void *end, float *ms)
{
    return a->hip.EventElapsedTime(ms, start, end);
}

static void hip_event_destroy(gp_gpu_api *a, void *e)
{
    a->hip.EventDestroy(e);
}

static void hip_error_text(gp_gpu_api *a, int code, char *buf, size_t size)
{
    const char *t = a->hip.GetErrorString(code);

    snprintf(buf, size, "%s (hipError_t %d)", t ? t : "unknown error", code);
}

static const backend hip_backend = {
    .kind = "hip", .device_count = hip_count, .device_info = hip_info, .enter = hip_enter, .leave = hip_leave,
    .dev_alloc = hip_dev_alloc, .dev_free = hip_dev_free, .host_alloc = hip_host_alloc, .host_free = hip_host_free,
    .copy = hip_copy, .stream_create = hip_stream_create, .stream_sync = hip_stream_sync,
    .stream_destroy = hip_stream_destroy, .event_create = hip_event_create, .event_record = hip_event_record,
    .event_sync = hip_event_sync, .event_elapsed_ms = hip_elapsed, .event_destroy = hip_event_destroy,
    .error_text = hip_error_text,
};

/* ---- loading ---- */

static int resolve(void *dl, const sym *syms, size_t n, void *table, const char **missing)
{
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(dl, syms[i].name);

        if (!f && syms[i].alt)
            f = dlsym(dl, syms[i].alt);
        if (!f) {
            *missing = syms[i].name;
            return -ENOSYS;
        }
        memcpy((char *)table + syms[i].off, &f, sizeof(f));
    }
    return 0;
}

void gp_gpu_api_close(gp_gpu_api *a)
{
    if (!a)
        return;
    if (a->dl)
        dlclose(a->dl);
    free(a);
}

int gp_gpu_api_open(const char *libdir, gp_gpu_api **ret, gp_error *err)
{
    static const struct {
        const char *file;
        const backend *be;
    } libs[] = {
        { "libcuda.so.1", &cuda_backend }, { "libcuda.so", &cuda_backend },
        { "libamdhip64.so", &hip_backend }, { "libamdhip64.so.7", &hip_backend },
        { "libamdhip64.so.6", &hip_backend }, { "libamdhip64.so.5", &hip_backend },
    };
    gp_gpu_api *a = calloc(1, sizeof(*a));
    const char *missing = NULL;
    char path[512];
    int ver = 0, r;

    *ret = NULL;
    if (!a)
        return -ENOMEM;
    for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]) && !a->dl; i++) {
        if (libdir)
            snprintf(path, sizeof(path), "%s/%s", libdir, libs[i].file);
        else
            snprintf(path, sizeof(path), "%s", libs[i].file);
        a->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (a->dl) {
            a->be = libs[i].be;
            snprintf(a->library, sizeof(a->library), "%s", path);
        }
    }
    if (!a->dl) {
        free(a);
        return gp_error_set(err, -ENOENT, "no GPU driver library: neither libcuda.so.1 (NVIDIA driver) nor "
                            "libamdhip64.so (ROCm) loads%s%s. Install the NVIDIA driver (libcuda1 / "
                            "nvidia-driver) or ROCm's HIP runtime; in a container, pass the host's userland in",
                            libdir ? " from " : "", libdir ? libdir : "");
    }
    if (a->be == &cuda_backend)
        r = resolve(a->dl, cuda_syms, sizeof(cuda_syms) / sizeof(cuda_syms[0]), &a->cu, &missing);
    else
        r = resolve(a->dl, hip_syms, sizeof(hip_syms) / sizeof(hip_syms[0]), &a->hip, &missing);
    if (r < 0) {
        gp_error_set(err, r, "%s has no %s: the driver is too old or not a %s driver library", a->library, missing,
                     a->be->kind);
        gp_gpu_api_close(a);
        return r;
    }
    r = a->be == &cuda_backend ? a->cu.Init(0) : a->hip.Init(0);
    if (r != 0) {
        char text[160];

        a->be->error_text(a, r, text, sizeof(text));
        gp_error_set(err, -ENODEV, "%s: the driver cannot start: %s (is the GPU bound to its driver, not to "
                     "vfio-pci? `gpupass status` shows it)", a->library, text);
        gp_gpu_api_close(a);
        return -ENODEV;
    }
    if ((a->be == &cuda_backend ? a->cu.DriverGetVersion(&ver) : a->hip.DriverGetVersion(&ver)) == 0 && ver > 0) {
        /* CUDA: 12080 is 12.8; HIP: major * 10000000 + minor * 100000 + patch */
        if (a->be == &cuda_backend)
            snprintf(a->version, sizeof(a->version), "%d.%d", ver / 1000, ver % 1000 / 10);
        else
            snprintf(a->version, sizeof(a->version), "%d.%d", ver / 10000000, ver / 100000 % 100);
    }
    *ret = a;
    return 0;
}

const char *gp_gpu_api_kind(const gp_gpu_api *a)
{
    return a->be->kind;
}

const char *gp_gpu_api_library(const gp_gpu_api *a)
{
    return a->library;
}

const char *gp_gpu_api_version(const gp_gpu_api *a)
{
    return a->version;
}

static int drv_error(gp_gpu_api *a, gp_error *err, int code, const char *what)
{
    char text[160];

    a->be->error_text(a, code, text, sizeof(text));
    return gp_error_set(err, -EIO, "%s failed: %s", what, text);
}

int gp_gpu_api_devices(gp_gpu_api *a, gp_gpu_dev_info **ret, size_t *ret_n, gp_error *err)
{
    gp_gpu_dev_info *v;
    int n = 0, r;

    *ret = NULL;
    *ret_n = 0;
    r = a->be->device_count(a, &n);
    if (r != 0)
        return drv_error(a, err, r, "counting the GPUs");
    if (n <= 0)
        return 0;
    v = calloc((size_t)n, sizeof(*v));
    if (!v)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        v[i].ordinal = i;
        r = a->be->device_info(a, i, &v[i]);
        if (r != 0) {
            free(v);
            return drv_error(a, err, r, "reading a GPU's name and PCI address");
        }
        for (char *c = v[i].pci_bus_id; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    }
    *ret = v;
    *ret_n = (size_t)n;
    return 0;
}

/* ---- measuring ---- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b;
}

double gp_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct run {
    gp_gpu_api *a;
    gp_error *err;
    void *stream, *ev0, *ev1;
    uint64_t dev;
    void *pinned, *pageable;
} run;

/* Seconds for `copies` copies of n bytes: device events around the batch
 * for pinned memory (the copy engine's own clock); the host clock around
 * the batch and a stream sync for pageable memory, whose copies go through
 * a staging buffer the CPU fills (bandwidthTest does the same). */
static int time_batch(run *x, gp_copy_dir dir, bool pinned, size_t n, unsigned copies, double *secs)
{
    const backend *be = x->a->be;
    void *host = pinned ? x->pinned : x->pageable;
    float ms = 0;
    double t0 = 0;
    int r = 0;

    if (pinned)
        r = be->event_record(x->a, x->ev0, x->stream);
    else
        t0 = now_s();
    for (unsigned i = 0; r == 0 && i < copies; i++)
        r = be->copy(x->a, dir, x->dev, host, n, x->stream);
    if (r == 0 && pinned)
        r = be->event_record(x->a, x->ev1, x->stream);
    if (r == 0)
        r = pinned ? be->event_sync(x->a, x->ev1) : be->stream_sync(x->a, x->stream);
    if (r != 0)
        return drv_error(x->a, x->err, r, dir == GP_COPY_H2D ? "a host-to-device copy" : "a device-to-host copy");
    if (pinned) {
        r = be->event_elapsed_ms(x->a, x->ev0, x->ev1, &ms);
        if (r != 0)
            return drv_error(x->a, x->err, r, "reading the copy time");
        *secs = ms / 1e3;
    } else {
        *secs = now_s() - t0;
    }
    if (*secs <= 0)
        return gp_error_set(x->err, -EIO, "the driver reported a copy time of %g s for %u copies of %zu bytes; "
                            "cannot compute a bandwidth", *secs, copies, n);
    return 0;
}

static int measure(run *x, const gp_copy_opts *o, gp_copy_dir dir, bool pinned, size_t n, gp_copy_stat *st)
{
    _cleanup_free_ double *gbps = calloc(o->samples, sizeof(double));
    unsigned copies = (unsigned)(o->batch_bytes / n);
    double secs;
    int r;

    if (!gbps)
        return -ENOMEM;
    if (copies < 1)
        copies = 1;
    if (copies > 1000)
        copies = 1000;
    /* warm-up: first-touch, TLB and clock ramp-up stay out of the figures */
    r = time_batch(x, dir, pinned, n, 1, &secs);
    for (unsigned s = 0; r >= 0 && s < o->samples; s++) {
        r = time_batch(x, dir, pinned, n, copies, &secs);
        if (r >= 0)
            gbps[s] = (double)n * copies / secs / 1e9;
    }
    if (r < 0)
        return r;
    *st = (gp_copy_stat){ .dir = dir, .pinned = pinned, .bytes = n, .copies = copies, .samples = o->samples };
    st->median = gp_median(gbps, o->samples);
    st->min = gbps[0];
    st->max = gbps[o->samples - 1];
    return 0;
}

/* Microseconds per small copy: what a framework pays for each tiny
 * transfer (launch arguments, scalars); dominated by the driver and, in a
 * VM, by the interrupt and doorbell path. */
static int latency(run *x, const gp_copy_opts *o, gp_copy_dir dir, double *us)
{
    _cleanup_free_ double *v = calloc(o->samples, sizeof(double));
    double secs;
    int r;

    if (!v)
        return -ENOMEM;
    r = time_batch(x, dir, true, 4, 1, &secs);
    for (unsigned s = 0; r >= 0 && s < o->samples; s++) {
        r = time_batch(x, dir, true, 4, 100, &secs);
        v[s] = secs / 100 * 1e6;
    }
    if (r >= 0)
        *us = gp_median(v, o->samples);
    return r;
}

void gp_copy_report_clear(gp_copy_report *r)
{
    free(r->v);
    *r = (gp_copy_report){ 0 };
}

int gp_gpu_copy_bench(gp_gpu_api *a, const gp_copy_opts *o, gp_copy_report *ret, gp_error *err)
{
    const backend *be = a->be;
    run x = { .a = a, .err = err };
    unsigned total = 0, done = 0;
    int count = 0, r;

    *ret = (gp_copy_report){ 0 };
    if (o->samples < 1 || o->min_bytes < 4 || o->max_bytes < o->min_bytes || o->max_bytes > (1ull << 34))
        return gp_error_set(err, -EINVAL, "bad sweep: %zu to %zu bytes, %u samples", o->min_bytes, o->max_bytes,
                            o->samples);
    r = be->device_count(a, &count);
    if (r != 0)
        return drv_error(a, err, r, "counting the GPUs");
    if (o->ordinal < 0 || o->ordinal >= count)
        return gp_error_set(err, -EINVAL, "GPU %d: the driver sees %d GPU%s (0 to %d)", o->ordinal, count,
                            count == 1 ? "" : "s", count - 1);
    for (size_t n = o->min_bytes; n <= o->max_bytes; n *= 4)
        total += o->pageable ? 4 : 2;
    total += 2;
    ret->v = calloc(total, sizeof(*ret->v));
    if (!ret->v)
        return -ENOMEM;

    r = be->enter(a, o->ordinal);
    if (r != 0) {
        gp_copy_report_clear(ret);
        return drv_error(a, err, r, "opening the GPU");
    }
    if ((r = be->stream_create(a, &x.stream)) != 0 || (r = be->event_create(a, &x.ev0)) != 0 ||
        (r = be->event_create(a, &x.ev1)) != 0)
        r = drv_error(a, err, r, "creating a stream and events");
    else if ((r = be->dev_alloc(a, o->max_bytes, &x.dev)) != 0)
        r = drv_error(a, err, r, "allocating GPU memory for the copies");
    else if ((r = be->host_alloc(a, o->max_bytes, &x.pinned)) != 0)
        r = drv_error(a, err, r, "allocating pinned host memory");
    else if (o->pageable && !(x.pageable = malloc(o->max_bytes)))
        r = -ENOMEM;
    if (r == 0) {
        memset(x.pinned, 0x5a, o->max_bytes);
        if (x.pageable)
            memset(x.pageable, 0x5a, o->max_bytes);
    }
    for (size_t n = o->min_bytes; r >= 0 && n <= o->max_bytes; n *= 4)
        for (int kind = 0; r >= 0 && kind < (o->pageable ? 4 : 2); kind++) {
            if (o->progress)
                o->progress(o->userdata, done, total);
            r = measure(&x, o, kind % 2 ? GP_COPY_D2H : GP_COPY_H2D, kind < 2, n, &ret->v[ret->n]);
            if (r >= 0)
                ret->n++;
            done++;
        }
    for (int d = 0; r >= 0 && d < 2; d++) {
        if (o->progress)
            o->progress(o->userdata, done++, total);
        r = latency(&x, o, d ? GP_COPY_D2H : GP_COPY_H2D, &ret->latency_us[d]);
    }
    if (o->progress && r >= 0)
        o->progress(o->userdata, total, total);
    free(x.pageable);
    if (x.pinned)
        be->host_free(a, x.pinned);
    if (x.dev)
        be->dev_free(a, x.dev);
    if (x.ev1)
        be->event_destroy(a, x.ev1);
    if (x.ev0)
        be->event_destroy(a, x.ev0);
    if (x.stream)
        be->stream_destroy(a, x.stream);
    be->leave(a, o->ordinal);
    if (r < 0)
        gp_copy_report_clear(ret);
    return r < 0 ? r : 0;
}
