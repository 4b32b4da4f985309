/*  lot_store_metrics - the persister's metrics: its chunks, its group commits, its files

    What the persister's store took (lot_chunk_metrics, actor
    "persister"), and per group commit (lot_store_stats): chunks and
    bets in it, how long its write and its sync took (histograms), the
    sizes of the bets file and of its journal; the chunks parked for the
    bets before them.
    The persister's thread alone updates them. A NULL self counts
    nothing: metrics off.
*/
#ifndef LOT_STORE_METRICS_H_INCLUDED
#define LOT_STORE_METRICS_H_INCLUDED

#include "lot_metrics.h"
#include "lot_store.h"

typedef struct _lot_store_metrics_t lot_store_metrics_t;

//  NULL when metrics is NULL.
lot_store_metrics_t *lot_store_metrics_new (lot_metrics_t *metrics, long agencies);

void lot_store_metrics_destroy (lot_store_metrics_t **self_p);

//  A chunk answered: stored (verdict APPEND, reason NULL), a duplicate
//  (STORED or REPEAT) or rejected (reason).
void lot_store_metrics_chunk (lot_store_metrics_t *self, uint32_t agency, uint32_t bets,
                              lot_store_verdict_t verdict, const char *reason);

//  Once the store is open, and after each batch: the store's last group,
//  when it is new, and the files' sizes; the chunks parked now.
void lot_store_metrics_batch (lot_store_metrics_t *self, lot_store_t *store, int parked);

#endif
