/*  lot_metrics - counters, gauges and histograms, in Prometheus's text format  */
#include "lot_metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE 64

struct _lot_metric_t {
    _Atomic int64_t value;      //  A counter's or a gauge's
    _Atomic uint64_t sum;       //  A histogram's, in units of updates
    _Atomic uint64_t counts [LOT_METRIC_BUCKETS_MAX + 1];  //  Per bucket, not
                                //  cumulative; the last one is +Inf's
    const lot_metric_family_t *family;
    char *labels;               //  name="value",... escaped; "" for none
    lot_metric_t *next;         //  In its family, in the order made
};

typedef struct s_family_t {
    const lot_metric_family_t *family;
    lot_metric_t *first, *last;
    struct s_family_t *next;
} s_family_t;

struct _lot_metrics_t {
    pthread_mutex_t mutex;      //  Over the lists, never over a value
    s_family_t *first, *last;
};

lot_metrics_t *
lot_metrics_new (void)
{
    lot_metrics_t *self = calloc (1, sizeof *self);
    if (self)
        pthread_mutex_init (&self->mutex, NULL);
    return self;
}

void
lot_metrics_destroy (lot_metrics_t **self_p)
{
    if (*self_p) {
        lot_metrics_t *self = *self_p;
        while (self->first) {
            s_family_t *family = self->first;
            self->first = family->next;
            while (family->first) {
                lot_metric_t *series = family->first;
                family->first = series->next;
                free (series->labels);
                free (series);
            }
            free (family);
        }
        pthread_mutex_destroy (&self->mutex);
        free (self);
        *self_p = NULL;
    }
}

//  Labels as the exposition format writes them: backslash, double quote
//  and line feed escaped. Returns a heap string, or NULL.
static char *
s_labels_format (va_list args)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    if (!out)
        return NULL;
    const char *name;
    bool first = true;
    while ((name = va_arg (args, const char *))) {
        const char *value = va_arg (args, const char *);
        fprintf (out, "%s%s=\"", first ? "" : ",", name);
        for (const char *c = value ? value : ""; *c; c++)
            if (*c == '\\' || *c == '"')
                fprintf (out, "\\%c", *c);
            else
            if (*c == '\n')
                fputs ("\\n", out);
            else
                fputc (*c, out);
        fputc ('"', out);
        first = false;
    }
    if (fclose (out)) {
        free (text);
        return NULL;
    }
    return text;
}

static s_family_t *
s_family_find (lot_metrics_t *self, const lot_metric_family_t *description)
{
    s_family_t *family;
    for (family = self->first; family; family = family->next)
        if (strcmp (family->family->name, description->name) == 0)
            return family;
    family = calloc (1, sizeof *family);
    if (!family)
        return NULL;
    family->family = description;
    if (self->last)
        self->last->next = family;
    else
        self->first = family;
    self->last = family;
    return family;
}

lot_metric_t *
lot_metrics_series (lot_metrics_t *self, const lot_metric_family_t *description, ...)
{
    if (!self)
        return NULL;
    va_list args;
    va_start (args, description);
    char *labels = s_labels_format (args);
    va_end (args);
    if (!labels)
        return NULL;
    pthread_mutex_lock (&self->mutex);
    s_family_t *family = s_family_find (self, description);
    lot_metric_t *series = family ? family->first : NULL;
    while (series && strcmp (series->labels, labels))
        series = series->next;
    if (family && !series) {
        size_t size = (sizeof *series + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE;
        series = aligned_alloc (CACHE_LINE, size);
        if (series) {
            memset (series, 0, size);
            series->family = family->family;
            series->labels = labels;
            labels = NULL;
            if (family->last)
                family->last->next = series;
            else
                family->first = series;
            family->last = series;
        }
    }
    pthread_mutex_unlock (&self->mutex);
    free (labels);
    return series;
}

static double
s_unit (const lot_metric_family_t *family)
{
    return family->unit > 0 ? family->unit : 1;
}

void
lot_metric_add (lot_metric_t *self, uint64_t value)
{
    if (!self)
        return;
    const lot_metric_family_t *family = self->family;
    if (family->type != LOT_METRIC_HISTOGRAM) {
        atomic_fetch_add_explicit (&self->value, (int64_t) value, memory_order_relaxed);
        return;
    }
    double observed = (double) value * s_unit (family);
    size_t bucket = 0;
    while (bucket < LOT_METRIC_BUCKETS_MAX && family->buckets [bucket] > 0
       &&  observed > family->buckets [bucket])
        bucket++;
    if (bucket < LOT_METRIC_BUCKETS_MAX && family->buckets [bucket] <= 0)
        bucket = LOT_METRIC_BUCKETS_MAX;        //  Past the last bound: +Inf
    atomic_fetch_add_explicit (&self->counts [bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit (&self->sum, value, memory_order_relaxed);
}

void
lot_metric_set (lot_metric_t *self, int64_t value)
{
    if (self)
        atomic_store_explicit (&self->value, value, memory_order_relaxed);
}

//  A value in the base unit: whole numbers as integers, the rest with 12
//  significant digits (nanoseconds in a thousand seconds).
static void
s_print_value (FILE *out, double unit, int64_t value)
{
    if (unit == 1)
        fprintf (out, "%" PRId64 "\n", value);
    else
        fprintf (out, "%.12g\n", (double) value * unit);
}

//  A sample's name and labels, without braces when it has none.
static void
s_print_name (FILE *out, const char *name, const char *suffix, const char *labels)
{
    if (*labels)
        fprintf (out, "%s%s{%s} ", name, suffix, labels);
    else
        fprintf (out, "%s%s ", name, suffix);
}

static void
s_print_histogram (FILE *out, const lot_metric_t *series)
{
    const lot_metric_family_t *family = series->family;
    const char *name = family->name;
    const char *comma = *series->labels ? "," : "";
    uint64_t count = 0;
    size_t bucket;
    for (bucket = 0; bucket < LOT_METRIC_BUCKETS_MAX && family->buckets [bucket] > 0; bucket++) {
        count += atomic_load_explicit (&series->counts [bucket], memory_order_relaxed);
        fprintf (out, "%s_bucket{%s%sle=\"%.15g\"} %" PRIu64 "\n", name, series->labels,
                 comma, family->buckets [bucket], count);
    }
    count += atomic_load_explicit (&series->counts [LOT_METRIC_BUCKETS_MAX],
                                   memory_order_relaxed);
    fprintf (out, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, series->labels,
             comma, count);
    uint64_t sum = atomic_load_explicit (&series->sum, memory_order_relaxed);
    s_print_name (out, name, "_sum", series->labels);
    s_print_value (out, s_unit (family), (int64_t) sum);
    s_print_name (out, name, "_count", series->labels);
    fprintf (out, "%" PRIu64 "\n", count);
}

char *
lot_metrics_print (lot_metrics_t *self, size_t *size)
{
    static const char *types [] = { "counter", "gauge", "histogram" };
    char *text = NULL;
    FILE *out = open_memstream (&text, size);
    if (!out)
        return NULL;
    pthread_mutex_lock (&self->mutex);
    for (s_family_t *family = self->first; family; family = family->next) {
        const lot_metric_family_t *description = family->family;
        fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", description->name,
                 description->help, description->name, types [description->type]);
        for (lot_metric_t *series = family->first; series; series = series->next)
            if (description->type == LOT_METRIC_HISTOGRAM)
                s_print_histogram (out, series);
            else {
                s_print_name (out, description->name, "", series->labels);
                s_print_value (out, s_unit (description), atomic_load_explicit (
                               &series->value, memory_order_relaxed));
            }
    }
    pthread_mutex_unlock (&self->mutex);
    if (fclose (out)) {
        free (text);
        return NULL;
    }
    return text;
}
