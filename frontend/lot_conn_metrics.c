/*  lot_conn_metrics - the front-end's metrics: its agency connections, its resends  */
#include "lot_conn_metrics.h"

#include <stdlib.h>

enum { S_OPEN, S_MAX, S_ACCEPTED, S_HELD, S_RESENT, S_FAMILIES };

static const lot_metric_family_t s_families [S_FAMILIES] = {
    [S_OPEN] = {
        .name = "lottery_connections_open", .type = LOT_METRIC_GAUGE,
        .help = "Agency connections open on the front-end." },
    [S_MAX] = {
        .name = "lottery_connections_max", .type = LOT_METRIC_GAUGE,
        .help = "Agency connections the front-end keeps open at most (MAX_CONNECTIONS)." },
    [S_ACCEPTED] = {
        .name = "lottery_connections_accepted_total", .type = LOT_METRIC_COUNTER,
        .help = "Agency connections accepted." },
    [S_HELD] = {
        .name = "lottery_winners_queries_held", .type = LOT_METRIC_GAUGE,
        .help = "Winners queries held until the draw." },
    [S_RESENT] = {
        .name = "lottery_resends_total", .type = LOT_METRIC_COUNTER,
        .help = "Chunks and queries sent to the handlers again, unanswered after"
                " RESEND_TIMEOUT." },
};

static const lot_metric_family_t s_refused = {
    .name = "lottery_connections_refused_total", .type = LOT_METRIC_COUNTER,
    .help = "Agency connections refused, by reason."
};

static const lot_metric_family_t s_evicted = {
    .name = "lottery_connections_evicted_total", .type = LOT_METRIC_COUNTER,
    .help = "Agency connections the front-end ended, by reason (idle, room,"
            " slow_message, not_reading)."
};

struct _lot_conn_metrics_t {
    lot_metrics_t *metrics;
    lot_metric_t *series [S_FAMILIES];
};

lot_conn_metrics_t *
lot_conn_metrics_new (lot_metrics_t *metrics, long max_connections)
{
    lot_conn_metrics_t *self = metrics ? calloc (1, sizeof *self) : NULL;
    if (!self)
        return NULL;
    self->metrics = metrics;
    for (int i = 0; i < S_FAMILIES; i++)
        self->series [i] = lot_metrics_series (metrics, &s_families [i], NULL);
    lot_metric_set (self->series [S_MAX], max_connections);
    return self;
}

void
lot_conn_metrics_destroy (lot_conn_metrics_t **self_p)
{
    free (*self_p);
    *self_p = NULL;
}

void
lot_conn_metrics_accepted (lot_conn_metrics_t *self, size_t open)
{
    if (self) {
        lot_metric_add (self->series [S_ACCEPTED], 1);
        lot_metric_set (self->series [S_OPEN], (int64_t) open);
    }
}

void
lot_conn_metrics_closed (lot_conn_metrics_t *self, size_t open)
{
    if (self)
        lot_metric_set (self->series [S_OPEN], (int64_t) open);
}

//  Connections end far less often than chunks come: the series is
//  looked up each time.
void
lot_conn_metrics_refused (lot_conn_metrics_t *self, const char *reason)
{
    if (self)
        lot_metric_add (lot_metrics_series (self->metrics, &s_refused, "reason", reason,
                                            NULL), 1);
}

void
lot_conn_metrics_evicted (lot_conn_metrics_t *self, const char *reason)
{
    if (self)
        lot_metric_add (lot_metrics_series (self->metrics, &s_evicted, "reason", reason,
                                            NULL), 1);
}

void
lot_conn_metrics_resent (lot_conn_metrics_t *self)
{
    if (self)
        lot_metric_add (self->series [S_RESENT], 1);
}

void
lot_conn_metrics_held (lot_conn_metrics_t *self, size_t queries)
{
    if (self)
        lot_metric_set (self->series [S_HELD], (int64_t) queries);
}
