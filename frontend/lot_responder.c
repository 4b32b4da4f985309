/*  lot_responder - writes answers to agency connections, and ends them  */
#include "lot_responder.h"
#include "lot_chunk_metrics.h"
#include "lot_codec.h"
#include "lot_log.h"

//  Answers written at once, at most: 'O's of a whole window, and the
//  longest 'E' among them
#define S_BATCH_MAX (4 * LOT_ANSWER_MAX)

struct _lot_responder_t {
    lot_port_t *plain;          //  The agencies' plain TCP port
    zsock_t *secure;            //  ROUTER: agencies that proved their key
    lot_conns_t *conns;
    lot_pipeline_t *pipeline;
    lot_desk_t *desk;
    lot_chunk_metrics_t *metrics;   //  Chunks rejected here; NULL: metrics off
};

lot_responder_t *
lot_responder_new (lot_conns_t *conns, lot_pipeline_t *pipeline, lot_desk_t *desk,
                   const lot_settings_t *settings)
{
    lot_responder_t *self = calloc (1, sizeof *self);
    assert (self);
    *self = (lot_responder_t) {
        .conns = conns, .pipeline = pipeline, .desk = desk,
        .metrics = lot_chunk_metrics_new (settings->metrics, "frontend", settings->agencies)
    };
    return self;
}

void
lot_responder_destroy (lot_responder_t **self_p)
{
    if (*self_p) {
        lot_chunk_metrics_destroy (&(*self_p)->metrics);
        free (*self_p);
        *self_p = NULL;
    }
}

void
lot_responder_set_sockets (lot_responder_t *self, lot_port_t *plain, zsock_t *secure)
{
    self->plain = plain;
    self->secure = secure;
}

//  Takes a connection and its items out of every queue, forgets its
//  bytes and frees its agency: its items' RESULTs will find no one (or
//  the agency's next connection, which a RESULT for another position or
//  kind does not fool).
static void
s_detach (lot_responder_t *self, lot_conn_t *conn)
{
    lot_pipeline_forget (self->pipeline, conn);
    lot_conn_clear (conn);
    lot_desk_forget (self->desk, conn);
    lot_conns_detach (self->conns, conn);
}

void
lot_responder_drop (lot_responder_t *self, lot_conn_t *conn)
{
    s_detach (self, conn);
    lot_conns_drop (self->conns, conn);
}

//  Returns 0, or the errno of libzmq or lot_port.
static int
s_write (lot_responder_t *self, lot_conn_t *conn, const void *data, size_t size)
{
    zframe_t *routing_id = lot_conn_routing_id (conn);
    if (!lot_conn_proven (conn)) {
        uint64_t id;
        assert (zframe_size (routing_id) == sizeof id);
        memcpy (&id, zframe_data (routing_id), sizeof id);
        if (size == 0)
            lot_port_close (self->plain, id);
        return size ? lot_port_send (self->plain, id, data, size) : 0;
    }
    assert (self->secure);
    zframe_t *id = zframe_dup (routing_id);
    zframe_t *frame = zframe_new (data, size);
    //  SNDTIMEO is 0: a peer that does not read never blocks the others.
    //  An empty frame tells a CURVE peer we closed
    if (zframe_send (&id, self->secure, ZFRAME_MORE)
    ||  zframe_send (&frame, self->secure, 0)) {
        int error = zmq_errno ();
        zframe_destroy (&id);
        zframe_destroy (&frame);
        return error;
    }
    return 0;
}

int
lot_responder_answer (lot_responder_t *self, lot_conn_t *conn, const void *data,
                      size_t size)
{
    int error = s_write (self, conn, data, size);
    if (error == 0) {
        lot_conns_touch (self->conns, conn);
        return 0;
    }
    if (error == EHOSTUNREACH) {
        lot_log_debug ("action: desconexion | result: success | peer: %s"
                       " | reason: left before its answer", lot_conn_peer (conn));
        lot_responder_drop (self, conn);
        return -1;
    }
    s_detach (self, conn);
    lot_conns_stall (self->conns, conn);
    return -1;
}

int
lot_responder_answer_due (lot_responder_t *self, lot_conn_t *conn)
{
    //  The answers due go out in one write: one message of the socket for
    //  a window's 'O's, where each costs a CURVE box and a wake-up of its
    //  agency (the bytes on the wire are the same)
    uint8_t batch [S_BATCH_MAX];
    size_t batched = 0;
    lot_item_t *item;
    const uint8_t *answer;
    size_t size;
    while ((item = lot_conn_item (conn, 0))
       &&  (answer = lot_item_answer (item, &size))) {
        if (batched + size > sizeof batch) {
            if (lot_responder_answer (self, conn, batch, batched))
                return -1;
            batched = 0;
        }
        memcpy (batch + batched, answer, size);
        batched += size;
        lot_conn_pop (conn);
    }
    return batched ? lot_responder_answer (self, conn, batch, batched) : 0;
}

//  Neither port reports a connection closed from our side (libzmq's
//  CURVE socket: measured), so it is forgotten at once.
void
lot_responder_close (lot_responder_t *self, lot_conn_t *conn, const char *reason)
{
    if (reason) {
        uint8_t answer [LOT_ANSWER_MAX];
        size_t size = lot_codec_error_encode (answer, sizeof answer, reason);
        if (lot_responder_answer (self, conn, answer, size))
            return;
    }
    if (lot_responder_answer (self, conn, "", 0) == 0)
        lot_responder_drop (self, conn);
}

void
lot_responder_count_rejected (lot_responder_t *self, lot_conn_t *conn, const char *reason)
{
    lot_chunk_metrics_answered (self->metrics, lot_conn_agency (conn), reason);
}

void
lot_responder_log_rejected (lot_responder_t *self, lot_conn_t *conn, unsigned count,
                            const char *reason)
{
    lot_responder_count_rejected (self, conn, reason);
    lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                   " | reason: %s | peer: %s", count, reason, lot_conn_peer (conn));
}

int
lot_responder_reject (lot_responder_t *self, lot_conn_t *conn, size_t size,
                      unsigned count, const char *reason)
{
    lot_responder_log_rejected (self, conn, count, reason);
    uint8_t answer [LOT_ANSWER_MAX];
    lot_item_set_answer (lot_conn_take (conn, size, 0, 0, count), answer,
                         lot_codec_error_encode (answer, sizeof answer, reason));
    return lot_responder_answer_due (self, conn);
}

void
lot_responder_fail (lot_responder_t *self, lot_conn_t *conn, const char *reason)
{
    if (lot_conn_state (conn) == LOT_CONN_BETS) {
        //  The count of the chunk that broke, when its header came
        size_t size;
        const uint8_t *next = lot_conn_next (conn, &size);
        lot_responder_log_rejected (self, conn, lot_codec_chunk_count (next, size,
                                                                       lot_conn_numbered (conn)),
                                    reason);
    }
    else
        lot_log_error ("action: conexion | result: fail | reason: %s | peer: %s",
                       reason, lot_conn_peer (conn));
    lot_responder_close (self, conn, reason);
}

void
lot_responder_refuse (lot_responder_t *self, lot_conn_t *conn, const char *reason,
                      lot_span_t agency)
{
    lot_log_error ("action: conexion | result: fail | reason: %s | agencia: %.*s"
                   " | peer: %s", reason, (int) agency.size, agency.data, lot_conn_peer (conn));
    lot_responder_close (self, conn, reason);
}

void
lot_responder_end (void *arg, lot_conn_t *conn, const char *reason)
{
    if (reason)
        lot_responder_fail (arg, conn, reason);
    else
        lot_responder_close (arg, conn, NULL);
}

void
lot_responder_answer_winners (lot_responder_t *self, lot_conn_t *conn)
{
    zchunk_t *answer = lot_desk_answer (self->desk, lot_conn_agency (conn));
    if (!answer) {
        lot_responder_close (self, conn, NULL);     //  Its winners do not fit in v1
        return;
    }
    unsigned count = lot_codec_winners_count (zchunk_data (answer), zchunk_size (answer));
    if (lot_responder_answer (self, conn, zchunk_data (answer), zchunk_size (answer)) == 0) {
        lot_log_info ("action: ganadores_enviados | result: success | agencia: %u"
                      " | cant_ganadores: %u", lot_conn_agency (conn), count);
        lot_responder_close (self, conn, NULL);
    }
}
