/*  lot_metrics - counters, gauges and histograms, in Prometheus's text format

    A registry of series: a family (a metric's name, help, type, unit and
    buckets) described once, statically, by the code that updates it, and
    one series per set of label values. Names follow Prometheus's
    conventions: base units (seconds, bytes), `_total` on counters.

    Updating must cost an actor next to nothing, and actors are threads of
    one process (embedded mode), so the design is:

    - Finding a series (by family and label values) takes the registry's
      mutex. Actors do it at START, or the first time a label value is
      seen (an agency, a reason, a monitor event), and keep the handle,
      which lives as long as the registry.
    - Updating a handle is one C11 atomic add with relaxed ordering: no
      lock, no fence, no system call. Relaxed is enough, as in
      Prometheus's own client libraries: each value is independent, and a
      scrape needs each to be one that was true at some moment, not a
      snapshot of all of them at one moment.
    - Every series has a cache line of its own, so two actors' counters
      never share one (false sharing would make each add a cache miss).
    - A NULL handle is metrics off: every update returns at once, so an
      actor asks no question before it counts, and a server without
      METRICS_PORT pays one branch per update.

    A histogram's observation is three adds (its bucket, its sum, its
    count); a scrape may see them between two of them, and prints the
    count as the sum of the buckets so that `_count` always equals the
    `+Inf` bucket.
*/
#ifndef LOT_METRICS_H_INCLUDED
#define LOT_METRICS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

typedef struct _lot_metrics_t lot_metrics_t;
typedef struct _lot_metric_t lot_metric_t;     //  One series

typedef enum {
    LOT_METRIC_COUNTER,
    LOT_METRIC_GAUGE,
    LOT_METRIC_HISTOGRAM
} lot_metric_type_t;

#define LOT_METRIC_BUCKETS_MAX 16

//  A family, described once by the code that updates it (a static const).
typedef struct {
    const char *name;
    const char *help;
    lot_metric_type_t type;
    double unit;                //  One unit of an update in the base unit
                                //  (1e-9: updates in nanoseconds of a
                                //  `_seconds` metric); 0 is 1
    double buckets [LOT_METRIC_BUCKETS_MAX];   //  Upper bounds in base
                                //  units, ascending; the first 0 ends them
} lot_metric_family_t;

lot_metrics_t *lot_metrics_new (void);

//  Frees every series: no handle may be used after.
void lot_metrics_destroy (lot_metrics_t **self_p);

//  The series of a family with these labels: pairs of name and value,
//  then NULL. Made, at 0, the first time. NULL when self is NULL (metrics
//  off), or out of memory: updates of NULL do nothing. Takes the mutex:
//  keep the handle.
lot_metric_t *lot_metrics_series (lot_metrics_t *self, const lot_metric_family_t *family,
                                  ...) __attribute__ ((sentinel));

//  A counter or a gauge goes up by value; a histogram observes it.
void lot_metric_add (lot_metric_t *self, uint64_t value);

//  A gauge (or a counter read from elsewhere, as the kernel's CPU time)
//  takes value.
void lot_metric_set (lot_metric_t *self, int64_t value);

//  Every family in the text exposition format (version 0.0.4), in the
//  order first registered. Returns a heap string (*size bytes) the
//  caller frees, or NULL when out of memory.
char *lot_metrics_print (lot_metrics_t *self, size_t *size);

#endif
