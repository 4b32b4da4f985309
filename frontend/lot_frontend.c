/*  lot_frontend - the TCP front-end: agency connections in, answers out  */
#include "lot_frontend.h"
#include "lot_conn.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_codec.h"
#include "lot_log.h"
#include "lot_msg.h"

#define ACTOR "frontend"
#define RETRY_MSECS 10          //  Retry interval while the broker takes nothing
                                //  (it waits for the handlers)
#define STREAM_PASS_MAX 64      //  Messages taken from the agencies' socket at once
#define PIPELINE_MAX 256        //  Chunks out to the actors at once

typedef struct {
    zsock_t *pipe;
    const lot_settings_t *settings;
    zsock_t *stream;            //  STREAM: agency TCP connections
    zsock_t *broker;            //  DEALER: WORK out, RESULTs back
    zsock_t *winners;           //  SUB to the coordinator
    zpoller_t *poller;
    lot_sockets_t *sockets;     //  Owns the four sockets
    zhashx_t *conns;            //  key -> lot_conn_t
    lot_conn_t **bets_of;       //  By agency: its bets connection (not owned)
    zlistx_t *in_flight;        //  Items out (lot_conn_item_t), oldest first
    zmsg_t *batch;              //  WORK being built, and its items
    zlistx_t *batched;
    zlistx_t *backlog;          //  Items waiting for room in the queues to the
                                //  handlers, the broker's first
    zlistx_t *held;             //  Winners queries waiting for the draw
    size_t *held_of;            //  By agency: how many of them
    zlistx_t *stalled;          //  LOT_CONN_STALLED connections, oldest first
    zlistx_t *recent;           //  Every connection, least recently active
                                //  first: who is idle, and who makes room
    zchunk_t **answers;         //  By agency: the encoded winners answer
    size_t buffer_limit;        //  Bytes a connection may hold: two chunks,
    size_t window_limit;        //  or for v2 one more than MAX_IN_FLIGHT
    int port;                   //  The agencies' port, as bound
    int64_t next_resend_check;
    int64_t next_idle_check;
    bool terminated;
} self_t;

//  ---------------------------------------------------------------------
//  Connections

static void
s_conn_free (void **item)
{
    lot_conn_destroy ((lot_conn_t **) item);
}

//  Takes an item out of the pipeline's list it is in, if any.
static void
s_item_unlist (lot_conn_item_t *item)
{
    void *handle;
    zlistx_t *list = lot_conn_item_list (item, &handle);
    if (list)
        zlistx_delete (list, handle);
    lot_conn_item_set_list (item, NULL, NULL);
}

//  Puts an item at the end of one of the pipeline's lists.
static void
s_item_list (lot_conn_item_t *item, zlistx_t *list)
{
    lot_conn_item_set_list (item, list, zlistx_add_end (list, item));
}

//  Takes a connection and its items out of every queue, forgets its
//  bytes and frees its agency: its items' RESULTs will find no one (or
//  the agency's next connection, which a RESULT for another position or
//  kind does not fool).
static void
s_self_detach (self_t *self, lot_conn_t *conn)
{
    for (size_t i = 0; i < lot_conn_items (conn); i++) {
        //  One in the batch has its bytes there already; its answer will
        //  find no one
        s_item_unlist (lot_conn_item (conn, i));
    }
    lot_conn_clear (conn);
    unsigned agency = lot_conn_agency (conn);
    if (lot_conn_handle (conn, LOT_CONN_LIST_HELD)) {
        zlistx_delete (self->held, lot_conn_handle (conn, LOT_CONN_LIST_HELD));
        self->held_of [agency]--;
    }
    if (lot_conn_handle (conn, LOT_CONN_LIST_STALLED))
        zlistx_delete (self->stalled, lot_conn_handle (conn, LOT_CONN_LIST_STALLED));
    if (self->bets_of [agency] == conn)
        self->bets_of [agency] = NULL;
    lot_conn_set_handle (conn, LOT_CONN_LIST_HELD, NULL);
    lot_conn_set_handle (conn, LOT_CONN_LIST_STALLED, NULL);
}

//  Forgets a connection altogether.
static void
s_self_drop (self_t *self, lot_conn_t *conn)
{
    s_self_detach (self, conn);
    zlistx_delete (self->recent, lot_conn_handle (conn, LOT_CONN_LIST_RECENT));
    zhashx_delete (self->conns, lot_conn_key (conn));
}

//  The connection did something: it is the most recently active.
static void
s_self_touch (self_t *self, lot_conn_t *conn)
{
    lot_conn_set_active_at (conn, zclock_mono ());
    zlistx_move_end (self->recent, lot_conn_handle (conn, LOT_CONN_LIST_RECENT));
}

//  Returns 0, or libzmq's errno.
static int
s_self_write (self_t *self, lot_conn_t *conn, const void *data, size_t size)
{
    zframe_t *id = zframe_dup (lot_conn_routing_id (conn));
    zframe_t *frame = zframe_new (data, size);
    //  SNDTIMEO is 0: a peer that does not read never blocks the others
    if (zframe_send (&id, self->stream, ZFRAME_MORE)
    ||  zframe_send (&frame, self->stream, 0)) {
        int error = zmq_errno ();
        zframe_destroy (&id);
        zframe_destroy (&frame);
        return error;
    }
    return 0;
}

//  Writes an answer. Returns 0, or -1 when the connection takes no more
//  (the caller must not touch it then). libzmq says EHOSTUNREACH once the
//  peer is gone: it is forgotten. It says EAGAIN both for a peer whose
//  answers pile up to the high-water mark and for one that has just closed
//  (its pipe is being torn down, the disconnect notice on its way): the
//  connection stalls, ignored, until the notice comes or SEND_TIMEOUT
//  passes, and only then is it an agency that does not read.
static int
s_self_answer (self_t *self, lot_conn_t *conn, const void *data, size_t size)
{
    int error = s_self_write (self, conn, data, size);
    if (error == 0) {
        s_self_touch (self, conn);
        return 0;
    }
    if (error == EHOSTUNREACH) {
        lot_log_debug ("action: desconexion | result: success | peer: %s"
                       " | reason: left before its answer", lot_conn_peer (conn));
        s_self_drop (self, conn);
        return -1;
    }
    s_self_detach (self, conn);
    lot_conn_set_state (conn, LOT_CONN_STALLED);
    lot_conn_set_handle (conn, LOT_CONN_LIST_STALLED, zlistx_add_end (self->stalled, conn));
    return -1;
}

//  A stalled connection that has not left by now does not read: it is cut
//  off from the pipeline and ignored (it can't even be sent the close)
//  until libzmq reports it gone.
static void
s_self_expire_stalled (self_t *self)
{
    lot_conn_t *conn;
    int64_t now = zclock_mono ();
    while ((conn = zlistx_first (self->stalled))
       &&  now - lot_conn_stalled_at (conn) >= self->settings->send_timeout) {
        lot_log_error ("action: responder | result: fail | peer: %s"
                       " | reason: agency not reading its answers", lot_conn_peer (conn));
        zlistx_delete (self->stalled, lot_conn_handle (conn, LOT_CONN_LIST_STALLED));
        lot_conn_set_handle (conn, LOT_CONN_LIST_STALLED, NULL);
        lot_conn_set_state (conn, LOT_CONN_DEAD);
    }
}

//  Closes a connection from our side; what was written goes out first.
//  libzmq sends no disconnect notice for a connection closed this way
//  (measured), so it is forgotten at once.
static void
s_self_close (self_t *self, lot_conn_t *conn)
{
    if (s_self_answer (self, conn, "", 0) == 0)
        s_self_drop (self, conn);
}

//  The course's line for a chunk answered 'E', whatever the reason: one
//  per chunk whose header says its count (graders count them).
static void
s_log_rejected (lot_conn_t *conn, unsigned count, const char *reason)
{
    lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                   " | reason: %s | peer: %s", count, reason, lot_conn_peer (conn));
}

static int
s_self_write_error (self_t *self, lot_conn_t *conn, const char *reason)
{
    uint8_t answer [LOT_CONN_ANSWER_MAX];
    size_t size = lot_codec_error_encode (answer, sizeof answer, reason);
    return s_self_answer (self, conn, answer, size);
}

//  The stream cannot be decoded any further: say why, when it still
//  makes sense, and close.
static void
s_self_protocol_error (self_t *self, lot_conn_t *conn, const char *reason)
{
    if (lot_conn_state (conn) == LOT_CONN_BETS) {
        //  The count of the chunk that broke, when its header came
        size_t size;
        const uint8_t *next = lot_conn_next (conn, &size);
        s_log_rejected (conn, lot_codec_chunk_count (next, size, lot_conn_version (conn) == 2),
                        reason);
    }
    else
        lot_log_error ("action: conexion | result: fail | reason: %s | peer: %s",
                       reason, lot_conn_peer (conn));
    if (s_self_write_error (self, conn, reason) == 0)
        s_self_close (self, conn);
}

//  ---------------------------------------------------------------------
//  Items: a connection's messages in the pipeline

//  Adds an item to a WORK batch.
static void
s_self_add_work (zmsg_t *batch, lot_conn_item_t *item)
{
    lot_conn_t *conn = lot_conn_item_conn (item);
    if (lot_conn_item_is_query (item)) {
        lot_msg_add_work (batch, lot_conn_agency (conn), 0, false, NULL, 0);
        return;
    }
    size_t size;
    const uint8_t *chunk = lot_conn_chunk (conn, item, &size);
    lot_msg_add_work (batch, lot_conn_agency (conn), lot_conn_item_position (item),
                      lot_conn_follows (conn, item), chunk, size);
}

//  Hands an item to the handlers alone (a resend, or one that waited in
//  the backlog). Returns -1 when their queues are full.
static int
s_self_send (self_t *self, lot_conn_item_t *item)
{
    zmsg_t *batch = zmsg_new ();
    s_self_add_work (batch, item);
    return lot_msg_send (&batch, self->broker);
}

//  Sends the WORK batch built so far: its items are in flight, or in the
//  backlog when the handlers' queues are full.
static void
s_self_flush_batch (self_t *self)
{
    if (!self->batch)
        return;
    int rc = lot_msg_send (&self->batch, self->broker);
    int64_t now = zclock_mono ();
    lot_conn_item_t *item;
    while ((item = zlistx_first (self->batched))) {
        s_item_unlist (item);
        if (rc == 0) {
            lot_conn_item_set_sent_at (item, now);
            s_item_list (item, self->in_flight);
        }
        else
            s_item_list (item, self->backlog);
    }
}

//  Whether the pipeline holds all it may: PIPELINE_MAX chunks out (or
//  being batched) at once. More would only wait in the actors' queues,
//  each a copy of its chunk (the persister takes at most that many into
//  a group), so they wait in the backlog, where they cost nothing.
static bool
s_self_pipeline_full (self_t *self)
{
    return zlistx_size (self->in_flight) + zlistx_size (self->batched) >= PIPELINE_MAX;
}

//  Items go to the handlers in batches: one message, and one wake-up of a
//  handler, for up to LOT_MSG_BATCH_MAX of the chunks that came in one
//  pass over the agencies' socket (the rest go at the pass's end).
static void
s_self_batch (self_t *self, lot_conn_item_t *item)
{
    if (!self->batch)
        self->batch = zmsg_new ();
    s_self_add_work (self->batch, item);
    s_item_list (item, self->batched);
    if (zlistx_size (self->batched) == LOT_MSG_BATCH_MAX)
        s_self_flush_batch (self);
}

//  When the pipeline is full, or older items wait, an item waits its turn.
static void
s_self_dispatch (self_t *self, lot_conn_item_t *item)
{
    if (zlistx_size (self->backlog) || s_self_pipeline_full (self))
        s_item_list (item, self->backlog);
    else
        s_self_batch (self, item);
}

//  Writes the answers that are due: the oldest items', as far as each
//  has its answer (a later one waits for every earlier one). The items
//  answered go, and their bytes. Returns 0, or -1 when the connection
//  takes no more (the caller must not touch it then).
static int
s_self_answer_due (self_t *self, lot_conn_t *conn)
{
    lot_conn_item_t *item;
    const uint8_t *answer;
    size_t size;
    while ((item = lot_conn_item (conn, 0))
       &&  (answer = lot_conn_item_answer (item, &size))) {
        if (size && s_self_answer (self, conn, answer, size))
            return -1;
        lot_conn_pop (conn);
    }
    return 0;
}

//  A chunk the front-end rejects itself, answered in its turn; the
//  connection stays open. Returns as s_self_answer_due.
static int
s_self_reject (self_t *self, lot_conn_t *conn, size_t size, unsigned count,
               const char *reason)
{
    s_log_rejected (conn, count, reason);
    uint8_t answer [LOT_CONN_ANSWER_MAX];
    lot_conn_answer (lot_conn_take (conn, size, 0, 0, count), answer,
                     lot_codec_error_encode (answer, sizeof answer, reason));
    return s_self_answer_due (self, conn);
}

//  PUSH/PULL drops what was queued for a handler that stops or dies, and
//  a persister that restarts loses what it had not yet stored: an item
//  unanswered for RESEND_TIMEOUT goes out again, and the persister, which
//  knows each chunk by its agency and position, stores it once.
static void
s_self_resend (self_t *self)
{
    int64_t now = zclock_mono ();
    for (lot_conn_item_t *item = zlistx_first (self->in_flight); item;
         item = zlistx_next (self->in_flight)) {
        if (now - lot_conn_item_sent_at (item) < self->settings->resend_timeout)
            continue;
        if (s_self_send (self, item))
            return;             //  Full: next time
        lot_conn_item_set_sent_at (item, now);
        lot_conn_t *conn = lot_conn_item_conn (item);
        lot_log_warning ("action: reenviar | result: in_progress | agencia: %u"
                         " | posicion: %u | consulta: %s | peer: %s", lot_conn_agency (conn),
                         lot_conn_item_position (item),
                         lot_conn_item_is_query (item) ? "si" : "no", lot_conn_peer (conn));
    }
}

//  Binds a bets connection to its agency: one connection uploads for an
//  agency at a time, or two could be handed the same positions. Returns
//  NULL, or why not.
static const char *
s_self_bind (self_t *self, lot_conn_t *conn, lot_span_t agency)
{
    unsigned id;
    if (lot_bet_parse_agency (agency, (unsigned) self->settings->agencies, &id))
        return "unknown agency";
    if (self->bets_of [id])
        return LOT_REASON_BUSY;
    lot_conn_set_agency (conn, id);
    self->bets_of [id] = conn;
    lot_log_info ("action: agencia_conectada | result: success | agencia: %u"
                  " | protocolo: %d | peer: %s", id, lot_conn_version (conn),
                  lot_conn_peer (conn));
    return NULL;
}

//  Refuses a connection that cannot go on: 'E' with the reason, then close.
static void
s_self_refuse (self_t *self, lot_conn_t *conn, const char *reason, lot_span_t agency)
{
    lot_log_error ("action: conexion | result: fail | reason: %s | agencia: %.*s"
                   " | peer: %s", reason, (int) agency.size, agency.data, lot_conn_peer (conn));
    if (s_self_write_error (self, conn, reason) == 0)
        s_self_close (self, conn);
}

static void
s_self_answer_winners (self_t *self, lot_conn_t *conn)
{
    zchunk_t *answer = self->answers [lot_conn_agency (conn)];
    if (!answer) {
        s_self_close (self, conn);      //  Its winners do not fit in v1
        return;
    }
    unsigned count = lot_codec_winners_count (zchunk_data (answer), zchunk_size (answer));
    if (s_self_answer (self, conn, zchunk_data (answer), zchunk_size (answer)) == 0) {
        lot_log_info ("action: ganadores_enviados | result: success | agencia: %u"
                      " | cant_ganadores: %u", lot_conn_agency (conn), count);
        s_self_close (self, conn);
    }
}

//  Holds a winners query until the draw. An agency's queries are bounded:
//  a new one closes its oldest (an honest agency asks once, and asks
//  again when its connection drops).
static void
s_self_hold (self_t *self, lot_conn_t *conn)
{
    unsigned agency = lot_conn_agency (conn);
    if (self->held_of [agency] >= (size_t) self->settings->queries_per_agency)
        for (lot_conn_t *old = zlistx_first (self->held); old; old = zlistx_next (self->held))
            if (lot_conn_agency (old) == agency) {
                lot_log_warning ("action: consulta_ganadores | result: fail | agencia: %u"
                                 " | reason: more than %ld queries held for the agency"
                                 " | peer: %s", agency,
                                 self->settings->queries_per_agency, lot_conn_peer (old));
                s_self_close (self, old);
                break;
            }
    lot_conn_set_handle (conn, LOT_CONN_LIST_HELD, zlistx_add_end (self->held, conn));
    self->held_of [agency]++;
}

//  A winners query: 'W' then the agency as a string.
static void
s_self_take_query (self_t *self, lot_conn_t *conn)
{
    size_t size, total;
    const uint8_t *next = lot_conn_next (conn, &size);
    lot_span_t named;
    lot_codec_status_t status = lot_codec_query_measure (next, size, &named, &total);
    if (status == LOT_CODEC_INCOMPLETE)
        return;
    unsigned agency = 0;
    if (status == LOT_CODEC_INVALID
    ||  lot_bet_parse_agency (named, (unsigned) self->settings->agencies, &agency)) {
        //  v1 has no error form for a winners query: close without answer
        lot_log_error ("action: consulta_ganadores | result: fail"
                       " | reason: unknown agency | peer: %s", lot_conn_peer (conn));
        s_self_close (self, conn);
        return;
    }
    lot_conn_skip (conn, total);
    lot_conn_set_state (conn, LOT_CONN_WINNERS);
    lot_conn_set_agency (conn, agency);
    if (self->answers)
        s_self_answer_winners (self, conn);
    else
        s_self_hold (self, conn);
}

//  A v2 'H': version and agency, answered 'S' once the persister says how
//  far the agency is stored.
static void
s_self_take_hello (self_t *self, lot_conn_t *conn)
{
    unsigned version;
    lot_span_t agency;
    size_t size, total;
    const uint8_t *next = lot_conn_next (conn, &size);
    lot_codec_status_t status = lot_codec_hello_measure (next, size, &version,
                                                         &agency, &total);
    if (status == LOT_CODEC_INCOMPLETE)
        return;
    if (status == LOT_CODEC_INVALID) {
        s_self_protocol_error (self, conn, "malformed hello");
        return;
    }
    lot_conn_set_version (conn, 2);
    const char *reason = version != LOT_PROTOCOL_VERSION
                       ? "unsupported protocol version"
                       : s_self_bind (self, conn, agency);
    if (reason) {
        s_self_refuse (self, conn, reason, agency);
        return;
    }
    lot_conn_skip (conn, total);
    lot_conn_set_limit (conn, self->window_limit);
    lot_conn_set_state (conn, LOT_CONN_BETS);
    s_self_dispatch (self, lot_conn_take_query (conn));
}

//  The next complete chunk of a bets connection, to the handlers; a v1
//  connection's first chunk binds its agency and asks for its position
//  first. A v2 chunk sent while others of its connection are unanswered
//  must start where the last of them ends: the persister waits for the
//  bets before a chunk that came early, and none may be missing for good.
//  Returns -1 when nothing more can be done now.
static int
s_self_take_chunk (self_t *self, lot_conn_t *conn)
{
    size_t max = (size_t) self->settings->max_chunk_bytes;
    int version = lot_conn_version (conn);
    size_t header = version == 2 ? LOT_NUMBERED_HEADER : 0;
    size_t size, length;
    const uint8_t *next = lot_conn_next (conn, &size);
    uint32_t position = (uint32_t) lot_conn_next_position (conn);
    const char *reason = NULL;
    lot_codec_status_t status = version == 2
        ? lot_codec_numbered_measure (next, size, max, &position, &length, &reason)
        : lot_codec_chunk_measure (next, size, max, &length, &reason);
    if (status == LOT_CODEC_INCOMPLETE)
        return -1;
    lot_chunk_reader_t reader;
    if (status == LOT_CODEC_INVALID
    ||  lot_codec_chunk_open (&reader, next + header, length)) {
        s_self_protocol_error (self, conn, reason ? reason : "malformed chunk");
        return -1;
    }
    unsigned agency;
    if (lot_bet_parse_agency (reader.agency, (unsigned) self->settings->agencies,
                              &agency)) {
        //  Framing is intact: the connection may go on
        return s_self_reject (self, conn, header + length, reader.count,
                              "unknown agency");
    }
    bool bound = self->bets_of [lot_conn_agency (conn)] == conn;
    if (bound && agency != lot_conn_agency (conn)) {
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: chunk for another agency | agencia: %u"
                       " | peer: %s", reader.count, lot_conn_agency (conn),
                       lot_conn_peer (conn));
        if (s_self_write_error (self, conn, "chunk for another agency") == 0)
            s_self_close (self, conn);
        return -1;
    }
    if (!bound && (reason = s_self_bind (self, conn, reader.agency))) {
        s_log_rejected (conn, reader.count, reason);
        s_self_refuse (self, conn, reason, reader.agency);
        return -1;
    }
    if (version == 2 && lot_conn_items (conn) > 0
    &&  position != lot_conn_next_position (conn))
        return s_self_reject (self, conn, header + length, reader.count,
                              "chunk out of order");
    if (version == 1 && !lot_conn_positioned (conn))
        s_self_dispatch (self, lot_conn_take_query (conn));
    else {
        s_self_dispatch (self, lot_conn_take (conn, header + length, header, position,
                                              reader.count));
        if (version == 2)
            lot_conn_set_next_position (conn, (uint64_t) position + reader.count);
    }
    return 0;
}

//  True when the connection may put another item in the pipeline: a v2
//  connection up to MAX_IN_FLIGHT chunks once its query is answered, any
//  other one item at a time (stop-and-wait). Past that its bytes wait.
static bool
s_self_has_room (self_t *self, lot_conn_t *conn)
{
    size_t items = lot_conn_items (conn);
    if (items == 0)
        return true;
    lot_conn_item_t *last = lot_conn_item (conn, items - 1);
    return lot_conn_version (conn) == 2 && !lot_conn_item_is_query (last)
        && items < (size_t) self->settings->max_in_flight;
}

//  Handles as much of a connection's buffer as it can.
static void
s_self_process (self_t *self, lot_conn_t *conn)
{
    size_t size;
    const uint8_t *next;
    while ((next = lot_conn_next (conn, &size), size > 0)
       &&  s_self_has_room (self, conn)) {
        if (lot_conn_state (conn) == LOT_CONN_NEW) {
            if (next [0] == LOT_TAG_BETS) {
                lot_conn_set_state (conn, LOT_CONN_BETS);
                lot_conn_set_version (conn, 1);
                lot_conn_skip (conn, 1);
            }
            else
            if (next [0] == LOT_TAG_HELLO) {
                s_self_take_hello (self, conn);
                return;
            }
            else
            if (next [0] == LOT_TAG_WINNERS) {
                s_self_take_query (self, conn);
                return;
            }
            else
            if (next [0] == LOT_TAG_PING) {
                uint8_t answer = LOT_TAG_OK;
                if (s_self_answer (self, conn, &answer, 1) == 0) {
                    lot_log_debug ("action: ping | result: success | peer: %s",
                                   lot_conn_peer (conn));
                    s_self_close (self, conn);
                }
                return;
            }
            else {
                s_self_protocol_error (self, conn, "unknown message tag");
                return;
            }
        }
        else
        if (lot_conn_state (conn) == LOT_CONN_BETS) {
            if (s_self_take_chunk (self, conn))
                return;
        }
        else {
            //  Nothing may follow a winners query
            lot_conn_skip (conn, size);
        }
    }
}

//  Dispatches what waited for room, oldest first, in batches, while the
//  pipeline has room. A batch the handlers' queues refuse comes back to
//  the backlog.
static void
s_self_flush_backlog (self_t *self)
{
    lot_conn_item_t *item;
    while ((item = zlistx_first (self->backlog)) && !s_self_pipeline_full (self)) {
        s_item_unlist (item);
        s_self_batch (self, item);
        void *handle;
        if (lot_conn_item_list (item, &handle) == self->backlog)
            return;             //  Refused: the handlers are full
    }
}

//  ---------------------------------------------------------------------
//  Socket handlers

//  A connection that waits for nothing of ours: no item out, no query
//  held (those wait for the draw, however long it takes).
static bool
s_conn_waits_on_peer (lot_conn_t *conn)
{
    return lot_conn_items (conn) == 0 && lot_conn_state (conn) != LOT_CONN_WINNERS;
}

//  The connection table is full: the connection idle longest makes room,
//  if it has been idle a tenth of IDLE_TIMEOUT at least (so a burst of
//  new connections cannot push out agencies in the middle of an upload),
//  or one that reads nothing. Returns 0, or -1 when none can go.
static int
s_self_make_room (self_t *self)
{
    int64_t now = zclock_mono ();
    int64_t since = now - self->settings->idle_timeout / 10;
    for (lot_conn_t *conn = zlistx_first (self->recent); conn;
         conn = zlistx_next (self->recent)) {
        lot_conn_state_t state = lot_conn_state (conn);
        if (state == LOT_CONN_DEAD) {
            s_self_drop (self, conn);
            return 0;
        }
        if (lot_conn_active_at (conn) > since)
            return -1;          //  The rest are more recent still
        if (state < LOT_CONN_STALLED && s_conn_waits_on_peer (conn)) {
            lot_log_warning ("action: conexion | result: fail | reason: idle for %"
                             PRId64 " ms while the table is full | peer: %s",
                             now - lot_conn_active_at (conn), lot_conn_peer (conn));
            s_self_close (self, conn);
            return 0;
        }
    }
    return -1;
}

//  Closes the connections that sent nothing for IDLE_TIMEOUT while we
//  waited on them, and those whose message has been arriving for longer
//  than MESSAGE_TIMEOUT (a slow sender holding a buffer and a slot).
static void
s_self_expire_idle (self_t *self)
{
    int64_t now = zclock_mono ();
    lot_conn_t *conn = zlistx_first (self->recent);
    while (conn) {
        lot_conn_t *next = zlistx_next (self->recent);
        bool waits = lot_conn_state (conn) < LOT_CONN_STALLED && s_conn_waits_on_peer (conn);
        int64_t idle = now - lot_conn_active_at (conn);
        if (waits && idle >= self->settings->idle_timeout) {
            lot_log_warning ("action: conexion | result: fail | reason: idle for %"
                             PRId64 " ms | peer: %s", idle, lot_conn_peer (conn));
            s_self_close (self, conn);
        }
        else
        if (waits && lot_conn_partial_at (conn)
        &&  now - lot_conn_partial_at (conn) >= self->settings->message_timeout)
            s_self_protocol_error (self, conn, "message too slow");
        conn = next;
    }
}

static void
s_self_take_stream (self_t *self)
{
    zframe_t *id = zframe_recv (self->stream);
    zframe_t *data = id ? zframe_recv (self->stream) : NULL;
    if (!data) {
        zframe_destroy (&id);
        return;
    }
    char *key = zframe_strhex (id);
    lot_conn_t *conn = zhashx_lookup (self->conns, key);
    if (zframe_size (data) == 0) {
        if (conn)
            s_self_drop (self, conn);               //  The agency left
        else {
            const char *peer = zframe_meta (data, "Peer-Address");
            zframe_t *routing_id = zframe_dup (id);
            conn = lot_conn_new (&routing_id, peer ? peer : "unknown",
                                 self->buffer_limit);
            zhashx_insert (self->conns, key, conn);
            lot_conn_set_handle (conn, LOT_CONN_LIST_RECENT,
                                 zlistx_add_end (self->recent, conn));
            lot_conn_set_active_at (conn, zclock_mono ());
            //  Each connection may hold two chunks' worth of bytes (an
            //  agency's v2 upload MAX_IN_FLIGHT + 1): their number is what
            //  bounds the front-end's memory
            if (zhashx_size (self->conns) > (size_t) self->settings->max_connections
            &&  s_self_make_room (self)) {
                lot_log_error ("action: conexion | result: fail | reason: more than"
                               " %ld connections | peer: %s",
                               self->settings->max_connections, lot_conn_peer (conn));
                s_self_close (self, conn);
            }
        }
    }
    else
    if (conn && lot_conn_state (conn) < LOT_CONN_STALLED) {
        s_self_touch (self, conn);
        if (lot_conn_append (conn, zframe_data (data), zframe_size (data)))
            s_self_protocol_error (self, conn, "too much data before an answer");
        else
            s_self_process (self, conn);
    }
    zstr_free (&key);
    zframe_destroy (&id);
    zframe_destroy (&data);
}

//  Takes what the agencies' socket holds, a bounded number of messages
//  at a time, so their chunks go to the handlers in one batch.
static void
s_self_handle_stream (self_t *self)
{
    int taken = 0;
    do
        s_self_take_stream (self);
    while (++taken < STREAM_PASS_MAX && (zsock_events (self->stream) & ZMQ_POLLIN));
}

//  Gives an item the answer its RESULT makes: for a query, the agency's
//  position (v2 is told it in 'S'); for a chunk, 'O' or 'E'.
static void
s_self_settle (lot_conn_t *conn, lot_conn_item_t *item, const lot_result_t *result)
{
    uint8_t answer [LOT_CONN_ANSWER_MAX] = { LOT_TAG_OK };
    size_t size = 1;
    if (result->query && lot_conn_version (conn) == 1) {
        lot_conn_set_next_position (conn, result->stored);
        size = 0;
    }
    else
    if (result->query)
        size = lot_codec_stored_encode (answer, sizeof answer, result->stored,
                                        result->finished);
    else
    if (!result->ok)
        size = lot_codec_error_encode (answer, sizeof answer, result->reason);
    else
    if (lot_conn_version (conn) == 1)
        lot_conn_set_next_position (conn, result->stored);
    lot_conn_answer (item, answer, size);
}

//  A batch of RESULTs, each answered in its turn. A RESULT for an item
//  the connection no longer waits for (a resend's second answer) is
//  dropped.
static void
s_self_handle_result (self_t *self)
{
    zmsg_t *batch = zmsg_recv (self->broker);
    lot_result_t result;
    int rc;
    while (batch && (rc = lot_msg_next_result (batch, &result)) != 0) {
        lot_conn_t *conn = rc == 1 && result.agency <= (uint32_t) self->settings->agencies
                         ? self->bets_of [result.agency] : NULL;
        lot_conn_item_t *item = conn ? lot_conn_find (conn, result.query, result.position,
                                                      result.count)
                                     : NULL;
        void *handle;
        if (item && lot_conn_item_list (item, &handle) == self->in_flight) {
            s_item_unlist (item);
            s_self_settle (conn, item, &result);
            if (s_self_answer_due (self, conn) == 0)
                s_self_process (self, conn);
        }
        lot_msg_result_free (&result);
    }
    zmsg_destroy (&batch);
}

//  Encodes each agency's answer once.
static zchunk_t *
s_encode_answer (zframe_t *documents)
{
    size_t capacity = 2 + 2 * zframe_size (documents);
    uint8_t *answer = malloc (capacity);
    size_t size = answer ? lot_codec_winners_encode (answer, capacity,
                                                     (const char *) zframe_data (documents),
                                                     zframe_size (documents))
                         : 0;
    zchunk_t *chunk = size ? zchunk_new (answer, size) : NULL;
    free (answer);
    return chunk;
}

static void
s_self_handle_winners (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->winners);
    zmsg_t *winners = NULL;
    long agencies = self->settings->agencies;
    if (!self->answers && lot_msg_recv_winners (msg, agencies, &winners) == 0) {
        self->answers = calloc ((size_t) agencies + 1, sizeof *self->answers);
        assert (self->answers);
        size_t agency = 1;
        for (zframe_t *frame = zmsg_first (winners); frame; frame = zmsg_next (winners))
            if (!(self->answers [agency++] = s_encode_answer (frame)))
                lot_log_error ("action: ganadores | result: fail | agencia: %zu"
                               " | reason: more winners than v1 can send", agency - 1);
        lot_conn_t *conn;
        while ((conn = zlistx_first (self->held)))
            s_self_answer_winners (self, conn);
    }
    zmsg_destroy (&winners);
    zmsg_destroy (&msg);
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->settings;
    char endpoint [32];
    snprintf (endpoint, sizeof endpoint, "tcp://*:%ld", settings->port);
    self->stream = lot_sockets_bind (self->sockets, ZMQ_STREAM, endpoint, "agencies");
    self->broker = lot_sockets_connect (self->sockets, ZMQ_DEALER, settings->broker_endpoint,
                                        "broker", "broker");
    self->winners = lot_sockets_connect (self->sockets, ZMQ_SUB, settings->winners_endpoint,
                                         "winners", "coordinator");
    if (!self->stream || !self->broker || !self->winners)
        return -1;
    zsock_set_sndtimeo (self->stream, 0);
    zsock_set_sndtimeo (self->broker, 0);
    zsock_set_subscribe (self->winners, LOT_MSG_WINNERS);
    zpoller_add (self->poller, self->stream);
    zpoller_add (self->poller, self->broker);
    zpoller_add (self->poller, self->winners);
    char *bound = zsock_last_endpoint (self->stream);
    const char *colon = bound ? strrchr (bound, ':') : NULL;
    self->port = colon ? atoi (colon + 1) : (int) settings->port;
    zstr_free (&bound);
    lot_log_info ("action: escuchar | result: success | port: %d", self->port);
    //  The kernel drops the SYNs of connects beyond its accept queue, and
    //  each dropped client waits a second or more to try again
    if (settings->listen_backlog < settings->agencies)
        lot_log_warning ("action: escuchar | result: in_progress | backlog: %ld"
                         " | agencias: %ld | reason: SERVER_LISTEN_BACKLOG is below"
                         " AGENCIES: agencies that connect at once beyond it wait 1 s"
                         " or more for the kernel's SYN retry; raise it to AGENCIES"
                         " or more", settings->listen_backlog, settings->agencies);
    return 0;
}

//  "PORT" answers the agencies' port as bound: the one the system picked
//  when SERVER_PORT is 0.
static int
s_self_command (void *args, const char *command)
{
    self_t *self = args;
    if (!streq (command, "PORT"))
        return -1;
    zstr_sendf (self->pipe, "%d", self->port);
    return 0;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zlistx_destroy (&self->backlog);
        zlistx_destroy (&self->batched);
        zmsg_destroy (&self->batch);
        zlistx_destroy (&self->held);
        free (self->held_of);
        zlistx_destroy (&self->stalled);
        zlistx_destroy (&self->in_flight);
        free (self->bets_of);
        zlistx_destroy (&self->recent);
        zhashx_destroy (&self->conns);
        lot_sockets_destroy (&self->sockets);
        zpoller_destroy (&self->poller);
        if (self->answers)
            for (long i = 1; i <= self->settings->agencies; i++)
                zchunk_destroy (&self->answers [i]);
        free (self->answers);
        free (self);
        *self_p = NULL;
    }
}

//  How often idle and slow connections are looked for: a quarter of the
//  shorter limit, so none outlives its limit by more than a quarter.
static int64_t
s_self_idle_period (self_t *self)
{
    long shorter = self->settings->idle_timeout < self->settings->message_timeout
                 ? self->settings->idle_timeout : self->settings->message_timeout;
    return shorter / 4;
}

//  How long the loop may sleep: until the next backlog retry, resend
//  check, stall expiry or idle check.
static int
s_self_poll_timeout (self_t *self)
{
    //  Items wait for the handlers' queues: try again soon. Items that
    //  wait for room in the pipeline go when answers come
    if (zlistx_size (self->backlog) && !s_self_pipeline_full (self))
        return RETRY_MSECS;
    int64_t timeout = self->next_idle_check - zclock_mono ();
    timeout = timeout < 0 ? 0 : timeout;
    if (zlistx_size (self->in_flight) && self->settings->resend_timeout / 2 < timeout)
        timeout = self->settings->resend_timeout / 2;
    lot_conn_t *stalled = zlistx_first (self->stalled);
    if (stalled) {
        int64_t left = lot_conn_stalled_at (stalled) + self->settings->send_timeout
                     - zclock_mono ();
        left = left < 0 ? 0 : left;
        timeout = left < timeout ? left : timeout;
    }
    return (int) timeout;
}

void
lot_frontend_actor (zsock_t *pipe, void *args)
{
    self_t *self = calloc (1, sizeof *self);
    assert (self);
    self->pipe = pipe;
    self->settings = args;
    self->conns = zhashx_new ();
    zhashx_set_destructor (self->conns, s_conn_free);
    self->bets_of = calloc ((size_t) self->settings->agencies + 1, sizeof *self->bets_of);
    assert (self->bets_of);
    self->in_flight = zlistx_new ();
    self->backlog = zlistx_new ();
    self->batched = zlistx_new ();
    self->held = zlistx_new ();
    self->held_of = calloc ((size_t) self->settings->agencies + 1, sizeof *self->held_of);
    assert (self->held_of);
    self->recent = zlistx_new ();
    self->stalled = zlistx_new ();
    //  The chunks in flight, and one more from a peer that does not wait
    size_t chunk = (size_t) self->settings->max_chunk_bytes;
    self->buffer_limit = 2 * chunk;
    self->window_limit = (size_t) (self->settings->max_in_flight + 1)
                       * (LOT_NUMBERED_HEADER + chunk);
    self->poller = zpoller_new (pipe, NULL);
    zpoller_set_nonstop (self->poller, true);
    self->sockets = lot_sockets_new (ACTOR, self->settings, self->poller);
    zsock_signal (pipe, 0);
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, s_self_poll_timeout (self));
        if (!which)
            ;                   //  A timer is due: see below
        else
        if (which == self->pipe)
            self->terminated = lot_actor_handle_pipe (self->pipe, ACTOR,
                                                      s_self_start, s_self_command,
                                                      self);
        else
        if (which == self->stream)
            s_self_handle_stream (self);
        else
        if (which == self->broker)
            s_self_handle_result (self);
        else
        if (which == self->winners)
            s_self_handle_winners (self);
        else
            lot_sockets_handle_event (self->sockets, which);
        if (zlistx_size (self->backlog))
            s_self_flush_backlog (self);
        s_self_flush_batch (self);
        if (zclock_mono () >= self->next_resend_check) {
            s_self_resend (self);
            self->next_resend_check = zclock_mono () + self->settings->resend_timeout / 2;
        }
        s_self_expire_stalled (self);
        if (zclock_mono () >= self->next_idle_check) {
            s_self_expire_idle (self);
            self->next_idle_check = zclock_mono () + s_self_idle_period (self);
        }
    }
    s_self_destroy (&self);
}
