/*  lot_conn_metrics - the front-end's metrics: its agency connections, its resends

    lottery_connections_open and lottery_connections_max (MAX_CONNECTIONS:
    the two side by side say how full the table is);
    lottery_connections_accepted_total; lottery_connections_refused_total
    {reason} (a new connection over MAX_CONNECTIONS, an unknown agency,
    one already connected); lottery_connections_evicted_total{reason}
    (`idle`, `room`: the idle one that made room in a full table,
    `slow_message`, `not_reading`); lottery_winners_queries_held;
    lottery_resends_total (chunks and queries sent to the handlers again,
    unanswered after RESEND_TIMEOUT). The
    front-end's thread alone updates them; a NULL self counts nothing:
    metrics off.
*/
#ifndef LOT_CONN_METRICS_H_INCLUDED
#define LOT_CONN_METRICS_H_INCLUDED

#include "lot_metrics.h"

#include <stddef.h>

typedef struct _lot_conn_metrics_t lot_conn_metrics_t;

//  NULL when metrics is NULL.
lot_conn_metrics_t *lot_conn_metrics_new (lot_metrics_t *metrics, long max_connections);

void lot_conn_metrics_destroy (lot_conn_metrics_t **self_p);

//  A connection came; open are open now.
void lot_conn_metrics_accepted (lot_conn_metrics_t *self, size_t open);

//  One left, or was closed; open are open now.
void lot_conn_metrics_closed (lot_conn_metrics_t *self, size_t open);

//  A connection refused (reason: why, one of a few fixed texts).
void lot_conn_metrics_refused (lot_conn_metrics_t *self, const char *reason);

//  A connection ended by the front-end (reason: one of a few fixed texts).
void lot_conn_metrics_evicted (lot_conn_metrics_t *self, const char *reason);

//  An item went to the handlers again.
void lot_conn_metrics_resent (lot_conn_metrics_t *self);

//  Winners queries held now.
void lot_conn_metrics_held (lot_conn_metrics_t *self, size_t queries);

#endif
