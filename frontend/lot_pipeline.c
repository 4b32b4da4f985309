/*  lot_pipeline - the front-end's items on their way to the handlers and back  */
#include "lot_pipeline.h"
#include "lot_actor.h"
#include "lot_conn_metrics.h"
#include "lot_codec.h"
#include "lot_log.h"

#define RETRY_MSECS 10          //  Retry interval while the broker takes nothing
                                //  (it waits for the handlers)
#define PIPELINE_MAX 256        //  Chunks out to the actors at once

struct _lot_pipeline_t {
    const lot_settings_t *settings;
    zsock_t *broker;            //  DEALER: WORK out, RESULTs back
    zlistx_t *in_flight;        //  Items out (lot_item_t), oldest first
    zmsg_t *batch;              //  WORK being built, and its items
    zlistx_t *batched;
    zlistx_t *backlog;          //  Items waiting for room in the queues to the
                                //  handlers, the broker's first
    int64_t next_resend_check;
    lot_metric_t *sent;         //  The front-end's WORK batches (lot_actor_messages)
    lot_conn_metrics_t *metrics;    //  Its resends; NULL: metrics off
};

lot_pipeline_t *
lot_pipeline_new (const lot_settings_t *settings)
{
    lot_pipeline_t *self = calloc (1, sizeof *self);
    assert (self);
    *self = (lot_pipeline_t) {
        .settings = settings,
        .in_flight = zlistx_new (),
        .batched = zlistx_new (),
        .backlog = zlistx_new (),
        .sent = lot_actor_messages (settings, "frontend", "out"),
        .metrics = lot_conn_metrics_new (settings->metrics, settings->max_connections),
    };
    assert (self->in_flight && self->batched && self->backlog);
    return self;
}

void
lot_pipeline_destroy (lot_pipeline_t **self_p)
{
    if (*self_p) {
        lot_pipeline_t *self = *self_p;
        zlistx_destroy (&self->backlog);
        zlistx_destroy (&self->batched);
        zmsg_destroy (&self->batch);
        zlistx_destroy (&self->in_flight);
        lot_conn_metrics_destroy (&self->metrics);
        free (self);
        *self_p = NULL;
    }
}

void
lot_pipeline_set_broker (lot_pipeline_t *self, zsock_t *broker)
{
    self->broker = broker;
}

//  Takes an item out of the list it is in, if any.
static void
s_unlist (lot_item_t *item)
{
    void *handle;
    zlistx_t *list = lot_item_list (item, &handle);
    if (list)
        zlistx_delete (list, handle);
    lot_item_set_list (item, NULL, NULL);
}

//  Puts an item at the end of a list: it is in one at a time.
static void
s_list (lot_item_t *item, zlistx_t *list)
{
    lot_item_set_list (item, list, zlistx_add_end (list, item));
}

static bool
s_is_in (lot_item_t *item, zlistx_t *list)
{
    void *handle;
    return lot_item_list (item, &handle) == list;
}

//  Adds an item to a WORK batch.
static void
s_add_work (zmsg_t *batch, lot_item_t *item)
{
    lot_conn_t *conn = lot_item_conn (item);
    if (lot_item_is_query (item)) {
        lot_msg_add_work (batch, lot_conn_agency (conn), 0, false, NULL, 0);
        return;
    }
    size_t size;
    const uint8_t *chunk = lot_conn_chunk (conn, item, &size);
    lot_msg_add_work (batch, lot_conn_agency (conn), lot_item_position (item),
                      lot_conn_follows (conn, item), chunk, size);
}

//  Hands an item to the handlers alone (a resend, or one that waited in
//  the backlog). Returns -1 when their queues are full.
static int
s_send (lot_pipeline_t *self, lot_item_t *item)
{
    zmsg_t *batch = zmsg_new ();
    s_add_work (batch, item);
    int rc = lot_msg_send (&batch, self->broker);
    lot_metric_add (self->sent, rc == 0);
    return rc;
}

//  Sends the WORK batch built so far: its items are in flight, or in the
//  backlog when the handlers' queues are full.
static void
s_flush_batch (lot_pipeline_t *self)
{
    if (!self->batch)
        return;
    assert (self->broker);
    int rc = lot_msg_send (&self->batch, self->broker);
    lot_metric_add (self->sent, rc == 0);
    int64_t now = zclock_mono ();
    lot_item_t *item;
    while ((item = zlistx_first (self->batched))) {
        s_unlist (item);
        if (rc == 0) {
            lot_item_set_sent_at (item, now);
            s_list (item, self->in_flight);
        }
        else
            s_list (item, self->backlog);
    }
}

//  Whether the pipeline holds all it may: PIPELINE_MAX chunks out (or
//  being batched) at once. More would only wait in the actors' queues,
//  each a copy of its chunk (the persister takes at most that many into
//  a group), so they wait in the backlog, where they cost nothing.
static bool
s_full (lot_pipeline_t *self)
{
    return zlistx_size (self->in_flight) + zlistx_size (self->batched) >= PIPELINE_MAX;
}

//  Items go to the handlers in batches: one message, and one wake-up of a
//  handler, for up to LOT_MSG_BATCH_MAX of the chunks that came in one
//  pass over the agencies' socket (the rest go at the pass's end).
static void
s_batch (lot_pipeline_t *self, lot_item_t *item)
{
    if (!self->batch)
        self->batch = zmsg_new ();
    s_add_work (self->batch, item);
    s_list (item, self->batched);
    if (zlistx_size (self->batched) == LOT_MSG_BATCH_MAX)
        s_flush_batch (self);
}

void
lot_pipeline_dispatch (lot_pipeline_t *self, lot_item_t *item)
{
    if (zlistx_size (self->backlog) || s_full (self))
        s_list (item, self->backlog);
    else
        s_batch (self, item);
}

//  Dispatches what waited for room, oldest first, in batches, while the
//  pipeline has room. A batch the handlers' queues refuse comes back to
//  the backlog.
static void
s_flush_backlog (lot_pipeline_t *self)
{
    lot_item_t *item;
    while ((item = zlistx_first (self->backlog)) && !s_full (self)) {
        s_unlist (item);
        s_batch (self, item);
        if (s_is_in (item, self->backlog))
            return;             //  Refused: the handlers are full
    }
}

void
lot_pipeline_flush (lot_pipeline_t *self)
{
    if (zlistx_size (self->backlog))
        s_flush_backlog (self);
    s_flush_batch (self);
}

//  The answer a RESULT makes: for a query, the agency's position (v2 and
//  v3 are told it in 'S', each in its own); for a chunk, 'O' or 'E'.
static void
s_settle (lot_conn_t *conn, lot_item_t *item, const lot_result_t *result)
{
    uint8_t answer [LOT_ANSWER_MAX] = { LOT_TAG_OK };
    size_t size = 1;
    if (result->query && lot_conn_version (conn) == 1) {
        lot_conn_set_next_position (conn, result->stored);
        size = 0;
    }
    else
    if (result->query)
        size = lot_codec_stored_encode (answer, sizeof answer,
                                        (unsigned) lot_conn_version (conn), result->stored,
                                        result->finished, result->digest);
    else
    if (!result->ok)
        size = lot_codec_error_encode (answer, sizeof answer, result->reason);
    else
    if (lot_conn_version (conn) == 1)
        lot_conn_set_next_position (conn, result->stored);
    lot_item_set_answer (item, answer, size);
}

int
lot_pipeline_settle (lot_pipeline_t *self, lot_conn_t *conn, const lot_result_t *result)
{
    lot_item_t *item = lot_conn_find (conn, result->query, result->position,
                                      result->count);
    if (!item || !s_is_in (item, self->in_flight))
        return -1;
    s_unlist (item);
    s_settle (conn, item, result);
    return 0;
}

void
lot_pipeline_forget (lot_pipeline_t *self, lot_conn_t *conn)
{
    (void) self;
    //  One in the batch has its bytes there already; its answer will find
    //  no one
    for (size_t i = 0; i < lot_conn_items (conn); i++)
        s_unlist (lot_conn_item (conn, i));
}

//  PUSH/PULL drops what was queued for a handler that stops or dies, and
//  a persister that restarts loses what it had not yet stored: an item
//  unanswered for RESEND_TIMEOUT goes out again, and the persister, which
//  knows each chunk by its agency and position, stores it once.
static void
s_resend (lot_pipeline_t *self)
{
    int64_t now = zclock_mono ();
    for (lot_item_t *item = zlistx_first (self->in_flight); item;
         item = zlistx_next (self->in_flight)) {
        if (now - lot_item_sent_at (item) < self->settings->resend_timeout)
            continue;
        if (s_send (self, item))
            return;             //  Full: next time
        lot_item_set_sent_at (item, now);
        lot_conn_metrics_resent (self->metrics);
        lot_conn_t *conn = lot_item_conn (item);
        lot_log_warning ("action: reenviar | result: in_progress | agencia: %u"
                         " | posicion: %u | consulta: %s | peer: %s", lot_conn_agency (conn),
                         lot_item_position (item),
                         lot_item_is_query (item) ? "si" : "no", lot_conn_peer (conn));
    }
}

void
lot_pipeline_resend (lot_pipeline_t *self)
{
    if (zclock_mono () >= self->next_resend_check) {
        s_resend (self);
        self->next_resend_check = zclock_mono () + self->settings->resend_timeout / 2;
    }
}

int64_t
lot_pipeline_timeout (lot_pipeline_t *self, int64_t timeout)
{
    //  Items wait for the handlers' queues: try again soon. Items that
    //  wait for room in the pipeline go when answers come
    if (zlistx_size (self->backlog) && !s_full (self))
        return RETRY_MSECS;
    if (zlistx_size (self->in_flight) && self->settings->resend_timeout / 2 < timeout)
        timeout = self->settings->resend_timeout / 2;
    return timeout;
}
