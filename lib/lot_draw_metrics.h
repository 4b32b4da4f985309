/*  lot_draw_metrics - the coordinator's metrics: agencies finished, the draw, its winners

    lottery_agencies_expected (AGENCIES), lottery_agencies_finished, and
    lottery_agency_finished{agency} (0 or 1, every agency from the start,
    so that `lottery_agency_finished == 0` lists those not finished);
    lottery_draw_done (0 or 1), lottery_draw_duration_seconds (from the
    last agency finished to the draw's answer) and
    lottery_winners{agency}. The coordinator's thread alone updates them.
    A NULL self counts nothing: metrics off.
*/
#ifndef LOT_DRAW_METRICS_H_INCLUDED
#define LOT_DRAW_METRICS_H_INCLUDED

#include "lot_metrics.h"

#include <czmq.h>

typedef struct _lot_draw_metrics_t lot_draw_metrics_t;

//  NULL when metrics is NULL.
lot_draw_metrics_t *lot_draw_metrics_new (lot_metrics_t *metrics, long agencies);

void lot_draw_metrics_destroy (lot_draw_metrics_t **self_p);

//  The agency has finished: finished of them so far.
void lot_draw_metrics_finished (lot_draw_metrics_t *self, long agency, long finished);

//  The draw is done: winners (lot_msg's, by agency), msecs after it was
//  asked for.
void lot_draw_metrics_drawn (lot_draw_metrics_t *self, zmsg_t *winners, int64_t msecs);

#endif
