/*  lot_exporter - serves a registry's metrics over HTTP, for Prometheus  */
#include "lot_exporter.h"

#include <dirent.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CONNECTION_TIMEOUT 10   //  Seconds a scrape may take, then closed
#define CONNECTIONS_MAX 32
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

//  The process's own, as Prometheus's client libraries name them
enum { S_CPU, S_RESIDENT, S_VIRTUAL, S_FDS, S_MAX_FDS, S_START, S_PROCESS };

static const lot_metric_family_t s_process [S_PROCESS] = {
    [S_CPU] = {
        .name = "process_cpu_seconds_total", .type = LOT_METRIC_COUNTER, .unit = 1e-9,
        .help = "Total user and system CPU time spent in seconds." },
    [S_RESIDENT] = {
        .name = "process_resident_memory_bytes", .type = LOT_METRIC_GAUGE,
        .help = "Resident memory size in bytes." },
    [S_VIRTUAL] = {
        .name = "process_virtual_memory_bytes", .type = LOT_METRIC_GAUGE,
        .help = "Virtual memory size in bytes." },
    [S_FDS] = {
        .name = "process_open_fds", .type = LOT_METRIC_GAUGE,
        .help = "Number of open file descriptors." },
    [S_MAX_FDS] = {
        .name = "process_max_fds", .type = LOT_METRIC_GAUGE,
        .help = "Maximum number of open file descriptors." },
    [S_START] = {
        .name = "process_start_time_seconds", .type = LOT_METRIC_GAUGE,
        .help = "Start time of the process since unix epoch in seconds." },
};

struct _lot_exporter_t {
    struct MHD_Daemon *daemon;
    lot_metrics_t *metrics;
    lot_metric_t *process [S_PROCESS];
};

//  Fields 4 to 24 of /proc/self/stat (proc(5) numbers them from 1:
//  14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss) into field [n].
//  Returns 0, or -1 when it cannot be read.
static int
s_proc_stat (long long field [25])
{
    char text [1024];
    FILE *file = fopen ("/proc/self/stat", "r");
    bool read = file && fgets (text, sizeof text, file);
    if (file)
        fclose (file);
    const char *next = read ? strrchr (text, ')') : NULL;   //  The name may hold ')'
    if (!next || strlen (next) < 4)
        return -1;
    next += 4;                  //  ") S ": past the state, field 3
    for (int n = 4; n <= 24; n++) {
        char *end;
        field [n] = strtoll (next, &end, 10);
        if (end == next)
            return -1;
        next = end;
    }
    return 0;
}

//  When the process started, in seconds since the epoch: its start in
//  clock ticks since boot plus the boot time (/proc/stat's btime). 0 when
//  either cannot be read.
static int64_t
s_start_time (void)
{
    long long field [25], boot = 0;
    char line [256];
    FILE *file = fopen ("/proc/stat", "r");
    while (file && fgets (line, sizeof line, file))
        if (sscanf (line, "btime %lld", &boot) == 1)
            break;
    if (file)
        fclose (file);
    if (s_proc_stat (field) || !boot)
        return 0;
    return boot + field [22] / sysconf (_SC_CLK_TCK);
}

static int64_t
s_open_fds (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return 0;
    int64_t count = 0;
    while (readdir (dir))
        count++;
    closedir (dir);
    return count - 3;           //  ., .., and the directory's own
}

//  The process's metrics now: CPU time, memory, descriptors.
//  The process's metrics now: CPU time, memory, descriptors.
static void
s_self_collect (lot_exporter_t *self)
{
    long long field [25];
    if (s_proc_stat (field) == 0) {
        long long tick = sysconf (_SC_CLK_TCK);
        lot_metric_set (self->process [S_CPU], (field [14] + field [15]) * (1000000000 / tick));
        lot_metric_set (self->process [S_VIRTUAL], field [23]);
        lot_metric_set (self->process [S_RESIDENT], field [24] * sysconf (_SC_PAGESIZE));
    }
    lot_metric_set (self->process [S_FDS], s_open_fds ());
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
        lot_metric_set (self->process [S_MAX_FDS], (int64_t) limit.rlim_cur);
}

static enum MHD_Result
s_answer (struct MHD_Connection *connection, unsigned status, char *body, size_t size)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        size, body, body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!response) {
        free (body);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

//  libmicrohttpd's request handler, on its thread: GET /metrics only.
static enum MHD_Result
s_handle_request (void *cls, struct MHD_Connection *connection, const char *url,
                  const char *method, const char *version, const char *upload_data,
                  size_t *upload_data_size, void **request)
{
    (void) version;
    (void) upload_data;
    lot_exporter_t *self = cls;
    //  The first call is the headers alone: answering waits for the body
    //  (a GET has none; a body is read and ignored)
    if (!*request) {
        *request = self;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp (method, MHD_HTTP_METHOD_GET) && strcmp (method, MHD_HTTP_METHOD_HEAD))
        return s_answer (connection, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, 0);
    if (strcmp (url, "/metrics"))
        return s_answer (connection, MHD_HTTP_NOT_FOUND, NULL, 0);
    s_self_collect (self);
    size_t size = 0;
    char *body = lot_metrics_print (self->metrics, &size);
    return body ? s_answer (connection, MHD_HTTP_OK, body, size)
                : s_answer (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, 0);
}

lot_exporter_t *
lot_exporter_new (int port, lot_metrics_t *metrics, char **error)
{
    lot_exporter_t *self = calloc (1, sizeof *self);
    if (!self) {
        *error = strdup ("out of memory");
        return NULL;
    }
    self->metrics = metrics;
    for (int i = 0; i < S_PROCESS; i++)
        self->process [i] = lot_metrics_series (metrics, &s_process [i], NULL);
    lot_metric_set (self->process [S_START], s_start_time ());
    self->daemon = MHD_start_daemon (
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t) port, NULL, NULL,
        s_handle_request, self,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) CONNECTION_TIMEOUT,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) CONNECTIONS_MAX,
        MHD_OPTION_END);
    if (!self->daemon) {
        if (asprintf (error, "cannot listen on port %d (in use?)", port) < 0)
            *error = NULL;
        free (self);
        return NULL;
    }
    return self;
}

void
lot_exporter_destroy (lot_exporter_t **self_p)
{
    if (*self_p) {
        lot_exporter_t *self = *self_p;
        MHD_stop_daemon (self->daemon);
        free (self);
        *self_p = NULL;
    }
}
