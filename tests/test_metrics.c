/*  test_metrics - what the server counts, scraped as Prometheus would

    The registry's text exposition, byte for byte.
*/
#include "lot_metrics.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

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

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test (test_registry),
    };
    return cmocka_run_group_tests_name ("metrics", tests, NULL, NULL);
}
