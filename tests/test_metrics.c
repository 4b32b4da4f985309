/*  test_metrics - what the server counts, scraped as Prometheus would

    The registry's text exposition, byte for byte; the exporter's HTTP
    answers.
*/
#include "lot_exporter.h"
#include "lot_metrics.h"
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <czmq.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_TIMEOUT_MS 10000

//  A TCP port free on every interface now (the kernel's pick, let go).
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    socklen_t size = sizeof address;
    assert_int_equal (bind (fd, (struct sockaddr *) &address, size), 0);
    assert_int_equal (getsockname (fd, (struct sockaddr *) &address, &size), 0);
    close (fd);
    return ntohs (address.sin_port);
}

//  One HTTP request (request: its first line) and what came back, whole,
//  until the server closed; *status is the answer's code. NULL when
//  nothing came within HTTP_TIMEOUT_MS.
static char *
s_http (int port, const char *request, int *status)
{
    int fd = tu_connect (port, HTTP_TIMEOUT_MS);
    assert_true (fd >= 0);
    char *text = tu_printf ("%s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n", request);
    assert_int_equal (tu_send_all (fd, text, strlen (text)), 0);
    free (text);
    size_t size = 0, capacity = 1 << 16;
    char *answer = malloc (capacity);
    int64_t deadline = zclock_mono () + HTTP_TIMEOUT_MS;
    struct pollfd poller = { .fd = fd, .events = POLLIN };
    ssize_t got = 1;
    while (got > 0 && zclock_mono () < deadline
       &&  poll (&poller, 1, (int) (deadline - zclock_mono ())) == 1) {
        if (size + 4096 > capacity)
            answer = realloc (answer, capacity *= 2);
        got = recv (fd, answer + size, capacity - size - 1, 0);
        size += got > 0 ? (size_t) got : 0;
    }
    close (fd);
    answer [size] = 0;
    if (got != 0 || sscanf (answer, "HTTP/1.%*d %d", status) != 1) {
        free (answer);
        return NULL;
    }
    return answer;
}

//  The body of GET /metrics, which must answer 200.
static char *
s_scrape (int port)
{
    int status = 0;
    char *answer = s_http (port, "GET /metrics", &status);
    assert_non_null (answer);
    assert_int_equal (status, 200);
    char *body = strstr (answer, "\r\n\r\n");
    assert_non_null (body);
    char *copy = strdup (body + 4);
    free (answer);
    return copy;
}

//  The sum of the samples whose line starts with name (a name and
//  labels, or a prefix of them) and holds every one of parts.
static double
s_sum (const char *text, const char *name, const char *const parts [])
{
    double sum = 0;
    size_t length = strlen (name);
    for (const char *line = text; line && *line; line = strchr (line, '\n'), line += !!line) {
        const char *end = strchr (line, '\n');
        size_t size = end ? (size_t) (end - line) : strlen (line);
        if (strncmp (line, name, length) != 0)
            continue;
        bool all = true;
        for (size_t i = 0; parts && parts [i] && all; i++)
            all = memmem (line, size, parts [i], strlen (parts [i])) != NULL;
        const char *value = memrchr (line, ' ', size);
        if (all && value)
            sum += strtod (value + 1, NULL);
    }
    return sum;
}

static double
s_value (const char *text, const char *sample)
{
    char *name = tu_printf ("%s ", sample);
    double value = s_sum (text, name, NULL);
    free (name);
    return value;
}

//  ---------------------------------------------------------------------
//  The registry and the exporter

static const lot_metric_family_t s_things = {
    .name = "test_things_total", .type = LOT_METRIC_COUNTER, .help = "Things."
};
static const lot_metric_family_t s_level = {
    .name = "test_level", .type = LOT_METRIC_GAUGE, .help = "A level."
};
static const lot_metric_family_t s_took = {
    .name = "test_took_seconds", .type = LOT_METRIC_HISTOGRAM, .help = "Time taken.",
    .unit = 1e-3, .buckets = { 0.01, 0.1, 1 }
};

static void
test_registry (void **state)
{
    (void) state;
    //  Off: nothing made, nothing counted, nothing breaks
    assert_null (lot_metrics_series (NULL, &s_things, NULL));
    lot_metric_add (NULL, 1);
    lot_metric_set (NULL, 1);
    assert_int_equal (lot_metric_value (NULL), 0);

    lot_metrics_t *metrics = lot_metrics_new ();
    lot_metric_t *plain = lot_metrics_series (metrics, &s_things, "kind", "plain", NULL);
    lot_metric_add (plain, 2);
    assert_ptr_equal (lot_metrics_series (metrics, &s_things, "kind", "plain", NULL), plain);
    lot_metric_add (lot_metrics_series (metrics, &s_things, "kind", "a \"b\"\\\n", NULL), 1);
    lot_metric_t *level = lot_metrics_series (metrics, &s_level, NULL);
    lot_metric_set (level, 7);
    lot_metric_sub (level, 9);
    assert_int_equal (lot_metric_value (level), -2);
    lot_metric_t *took = lot_metrics_series (metrics, &s_took, "step", "x", NULL);
    lot_metric_add (took, 5);       //  5 ms: the 0.01 bucket
    lot_metric_add (took, 10);      //  on a bound: its bucket
    lot_metric_add (took, 500);
    lot_metric_add (took, 5000);    //  past the last bound: +Inf only
    assert_int_equal (lot_metric_value (took), 4);
    size_t size;
    char *text = lot_metrics_print (metrics, &size);
    assert_string_equal (text,
        "# HELP test_things_total Things.\n"
        "# TYPE test_things_total counter\n"
        "test_things_total{kind=\"plain\"} 2\n"
        "test_things_total{kind=\"a \\\"b\\\"\\\\\\n\"} 1\n"
        "# HELP test_level A level.\n"
        "# TYPE test_level gauge\n"
        "test_level -2\n"
        "# HELP test_took_seconds Time taken.\n"
        "# TYPE test_took_seconds histogram\n"
        "test_took_seconds_bucket{step=\"x\",le=\"0.01\"} 2\n"
        "test_took_seconds_bucket{step=\"x\",le=\"0.1\"} 2\n"
        "test_took_seconds_bucket{step=\"x\",le=\"1\"} 3\n"
        "test_took_seconds_bucket{step=\"x\",le=\"+Inf\"} 4\n"
        "test_took_seconds_sum{step=\"x\"} 5.515\n"
        "test_took_seconds_count{step=\"x\"} 4\n");
    assert_int_equal (size, strlen (text));
    free (text);
    lot_metrics_destroy (&metrics);
    lot_metrics_destroy (&metrics);
}

static void
test_exporter (void **state)
{
    (void) state;
    lot_metrics_t *metrics = lot_metrics_new ();
    lot_metric_add (lot_metrics_series (metrics, &s_things, NULL), 3);
    int port = s_free_port ();
    char *error = NULL;
    lot_exporter_t *exporter = lot_exporter_new (port, metrics, &error);
    assert_non_null (exporter);
    char *body = s_scrape (port);
    assert_int_equal (s_value (body, "test_things_total"), 3);
    assert_true (s_value (body, "process_resident_memory_bytes") > 0);
    assert_true (s_value (body, "process_open_fds") > 0);
    assert_true (s_value (body, "process_start_time_seconds") > 1.7e9);
    free (body);
    int status = 0;
    free (s_http (port, "GET /other", &status));
    assert_int_equal (status, 404);
    free (s_http (port, "DELETE /metrics", &status));
    assert_int_equal (status, 405);
    //  A second one on the same port cannot listen, and says so
    assert_null (lot_exporter_new (port, metrics, &error));
    assert_non_null (strstr (error, "cannot listen"));
    free (error);
    lot_exporter_destroy (&exporter);
    lot_exporter_destroy (&exporter);
    lot_metrics_destroy (&metrics);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_registry),
        cmocka_unit_test (test_exporter),
    };
    return cmocka_run_group_tests_name ("metrics", tests, NULL, NULL);
}
