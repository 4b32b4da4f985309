/*  lot_chunk_metrics - what became of each chunk, counted by agency

    lottery_chunks_answered_total{actor,agency,result,reason}, result
    `stored` (new bets, made durable), `duplicate` (sent again, stored
    already) or `rejected` (with its reason, as the `apuesta_recibida |
    result: fail` line says it), and lottery_bets_stored_total{agency}.
    An agency outside 1..AGENCIES is counted as agency "other", so that
    no peer can make series without end.

    An agency's stored series are found at its first chunk (or, for the
    actor that stores, at lot_chunk_metrics_storing) and kept, so
    the hot path (a chunk stored) is two relaxed adds (lot_metrics.h); a
    duplicate or a rejection, rare, looks its series up. One thread
    updates a self (the cache is not shared); a NULL self counts
    nothing: metrics off.
*/
#ifndef LOT_CHUNK_METRICS_H_INCLUDED
#define LOT_CHUNK_METRICS_H_INCLUDED

#include "lot_metrics.h"

#include <stdint.h>

typedef struct _lot_chunk_metrics_t lot_chunk_metrics_t;

//  The counters of an actor (a label) for agencies 1..agencies. NULL when
//  metrics is NULL.
lot_chunk_metrics_t *lot_chunk_metrics_new (lot_metrics_t *metrics, const char *actor,
                                            long agencies);

void lot_chunk_metrics_destroy (lot_chunk_metrics_t **self_p);

//  The actor that stores chunks shows each agency's stored series from
//  now on, at 0 until its first chunk. A series that first appears with
//  its bets in it would count none of them in Prometheus's rate() or
//  increase(), which start from a series' first sample: a whole upload
//  between two scrapes would not show at all.
void lot_chunk_metrics_storing (lot_chunk_metrics_t *self);

//  A chunk of bets stored: new bets, durable.
void lot_chunk_metrics_stored (lot_chunk_metrics_t *self, uint32_t agency, uint32_t bets);

//  A chunk answered without new bets: a duplicate (reason NULL) or
//  rejected for reason.
void lot_chunk_metrics_answered (lot_chunk_metrics_t *self, uint32_t agency,
                                 const char *reason);

#endif
