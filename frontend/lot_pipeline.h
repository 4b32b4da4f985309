/*  lot_pipeline - the front-end's items on their way to the handlers and back

    An item (lot_item_t: a chunk, or a position query) goes to the
    broker in a WORK batch on the front-end's DEALER and is in flight
    until a RESULT settles it: the RESULT gives it its answer ('O', 'E'
    or, for a v2 query, 'S'), which the front-end writes in its turn. One
    unanswered for RESEND_TIMEOUT goes out again. The front-end never
    blocks: when the handlers' queues are full, or PIPELINE_MAX chunks are
    out, an item waits in the backlog, oldest first.

    The items belong to their connections; the pipeline only lists them.
*/
#ifndef LOT_PIPELINE_H_INCLUDED
#define LOT_PIPELINE_H_INCLUDED

#include "lot_conn.h"
#include "lot_msg.h"
#include "lot_settings.h"

#include <czmq.h>

typedef struct _lot_pipeline_t lot_pipeline_t;

lot_pipeline_t *lot_pipeline_new (const lot_settings_t *settings);

void lot_pipeline_destroy (lot_pipeline_t **self_p);

//  The DEALER to the broker (not owned), with a send timeout of 0; set
//  before the first item.
void lot_pipeline_set_broker (lot_pipeline_t *self, zsock_t *broker);

//  Puts an item in the WORK batch being built, or in the backlog when
//  the pipeline is full or older items wait.
void lot_pipeline_dispatch (lot_pipeline_t *self, lot_item_t *item);

//  At the end of a pass of the front-end's loop: what waited for room
//  goes while there is some, and the batch built so far is sent.
void lot_pipeline_flush (lot_pipeline_t *self);

//  Gives the item of conn that a RESULT answers its answer. Returns 0, or
//  -1 when conn has no such item in flight (a resend's second answer).
int lot_pipeline_settle (lot_pipeline_t *self, lot_conn_t *conn, const lot_result_t *result);

//  Takes a connection's items out of the pipeline: their RESULTs will
//  find no one.
void lot_pipeline_forget (lot_pipeline_t *self, lot_conn_t *conn);

//  When its check is due, sends again what has waited RESEND_TIMEOUT for
//  a RESULT.
void lot_pipeline_resend (lot_pipeline_t *self);

//  How long the front-end may wait, given that nothing else is due
//  within timeout, before the pipeline has something to do.
int64_t lot_pipeline_timeout (lot_pipeline_t *self, int64_t timeout);

#endif
