/*  lot_frontend - the TCP front-end: agency connections in, answers out  */
#include "lot_frontend.h"
#include "lot_conn.h"
#include "lot_conns.h"
#include "lot_desk.h"
#include "lot_pipeline.h"
#include "lot_responder.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_codec.h"
#include "lot_log.h"
#include "lot_msg.h"

#define ACTOR "frontend"
#define STREAM_PASS_MAX 64      //  Messages taken from the agencies' socket at once

typedef struct {
    lot_actor_t actor;          //  Pipe, settings, poller, sockets: first
    zsock_t *stream;            //  STREAM: agency TCP connections
    zsock_t *broker;            //  DEALER: WORK out, RESULTs back
    zsock_t *winners;           //  SUB to the coordinator
    lot_conns_t *conns;         //  Every connection, by key and by agency
    lot_pipeline_t *pipeline;   //  Items out to the handlers, and waiting
    lot_desk_t *desk;           //  Winners queries held, and the answers
    lot_responder_t *responder; //  Writes to the connections, and ends them
    size_t buffer_limit;        //  Bytes a connection may hold: two chunks,
    size_t window_limit;        //  or for v2 one more than MAX_IN_FLIGHT
    int port;                   //  The agencies' port, as bound
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_responder_destroy (&self->responder);
        lot_pipeline_destroy (&self->pipeline);
        lot_desk_destroy (&self->desk);
        lot_conns_destroy (&self->conns);
        lot_actor_close (&self->actor);
        free (self);
        *self_p = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe, const lot_settings_t *settings)
{
    self_t *self = lot_actor_new (sizeof *self, ACTOR, pipe, settings);
    if (!self)
        return NULL;
    //  The chunks in flight, and one more from a peer that does not wait
    size_t chunk = (size_t) settings->max_chunk_bytes;
    self->buffer_limit = 2 * chunk;
    self->window_limit = (size_t) (settings->max_in_flight + 1) * (LOT_NUMBERED_HEADER + chunk);
    self->conns = lot_conns_new (settings);
    self->pipeline = lot_pipeline_new (settings);
    self->desk = lot_desk_new (settings);
    self->responder = lot_responder_new (self->conns, self->pipeline, self->desk);
    return self;
}

//  ---------------------------------------------------------------------
//  An agency's requests: framed from its connection's bytes

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
    ||  lot_bet_parse_agency (named, (unsigned) self->actor.settings->agencies, &agency)) {
        //  v1 has no error form for a winners query: close without answer
        lot_log_error ("action: consulta_ganadores | result: fail"
                       " | reason: unknown agency | peer: %s", lot_conn_peer (conn));
        lot_responder_close (self->responder, conn, NULL);
        return;
    }
    lot_conn_skip (conn, total);
    lot_conn_set_state (conn, LOT_CONN_WINNERS);
    lot_conn_set_agency (conn, agency);
    if (lot_desk_drawn (self->desk))
        lot_responder_answer_winners (self->responder, conn);
    else {
        lot_conn_t *oldest = lot_desk_hold (self->desk, conn);
        if (oldest)
            lot_responder_close (self->responder, oldest, NULL);
    }
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
        lot_responder_fail (self->responder, conn, "malformed hello");
        return;
    }
    lot_conn_set_version (conn, 2);
    const char *reason = version != LOT_PROTOCOL_VERSION
                       ? "unsupported protocol version"
                       : lot_conns_bind (self->conns, conn, agency);
    if (reason) {
        lot_responder_refuse (self->responder, conn, reason, agency);
        return;
    }
    lot_conn_skip (conn, total);
    lot_conn_set_limit (conn, self->window_limit);
    lot_conn_set_state (conn, LOT_CONN_BETS);
    lot_pipeline_dispatch (self->pipeline, lot_conn_take_query (conn));
}

//  A v2 client whose own first bets are not those the 'S' describes
//  (their digest differs) sends 'E' and why instead of a chunk, and
//  closes: the conflict is logged, for the operator to look at, and the
//  connection closed. Returns -1: nothing more is done with it.
static int
s_self_take_conflict (self_t *self, lot_conn_t *conn)
{
    size_t size, total;
    const uint8_t *next = lot_conn_next (conn, &size);
    lot_span_t reason;
    if (lot_codec_error_measure (next, size, &reason, &total) == LOT_CODEC_INCOMPLETE)
        return -1;
    char text [LOT_REASON_MAX + 1];
    lot_log_printable (reason.data, reason.size, text, sizeof text);
    lot_log_error ("action: reanudar | result: fail | reason: %s | agencia: %u"
                   " | peer: %s", text, lot_conn_agency (conn), lot_conn_peer (conn));
    lot_responder_close (self->responder, conn, NULL);
    return -1;
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
    size_t max = (size_t) self->actor.settings->max_chunk_bytes;
    int version = lot_conn_version (conn);
    size_t header = version == 2 ? LOT_NUMBERED_HEADER : 0;
    size_t size, length;
    const uint8_t *next = lot_conn_next (conn, &size);
    //  'E' comes where a chunk could, with none unanswered (docs/protocol.md)
    if (version == 2 && next [0] == LOT_TAG_ERROR && lot_conn_items (conn) == 0)
        return s_self_take_conflict (self, conn);
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
        lot_responder_fail (self->responder, conn, reason ? reason : "malformed chunk");
        return -1;
    }
    unsigned agency;
    if (lot_bet_parse_agency (reader.agency, (unsigned) self->actor.settings->agencies,
                              &agency)) {
        //  Framing is intact: the connection may go on
        return lot_responder_reject (self->responder, conn, header + length, reader.count,
                                     "unknown agency");
    }
    bool bound = lot_conns_bets_of (self->conns, lot_conn_agency (conn)) == conn;
    if (bound && agency != lot_conn_agency (conn)) {
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: chunk for another agency | agencia: %u"
                       " | peer: %s", reader.count, lot_conn_agency (conn),
                       lot_conn_peer (conn));
        lot_responder_close (self->responder, conn, "chunk for another agency");
        return -1;
    }
    if (!bound && (reason = lot_conns_bind (self->conns, conn, reader.agency))) {
        lot_responder_log_rejected (conn, reader.count, reason);
        lot_responder_refuse (self->responder, conn, reason, reader.agency);
        return -1;
    }
    if (version == 2 && lot_conn_items (conn) > 0
    &&  position != lot_conn_next_position (conn))
        return lot_responder_reject (self->responder, conn, header + length, reader.count,
                                     "chunk out of order");
    if (version == 1 && !lot_conn_positioned (conn))
        lot_pipeline_dispatch (self->pipeline, lot_conn_take_query (conn));
    else {
        lot_pipeline_dispatch (self->pipeline, lot_conn_take (conn, header + length, header,
                                                              position, reader.count));
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
        && items < (size_t) self->actor.settings->max_in_flight;
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
                if (lot_responder_answer (self->responder, conn, &answer, 1) == 0) {
                    lot_log_debug ("action: ping | result: success | peer: %s",
                                   lot_conn_peer (conn));
                    lot_responder_close (self->responder, conn, NULL);
                }
                return;
            }
            else {
                lot_responder_fail (self->responder, conn, "unknown message tag");
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

//  ---------------------------------------------------------------------
//  Socket handlers

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
    lot_conn_t *conn = lot_conns_lookup (self->conns, key);
    if (zframe_size (data) == 0) {
        if (conn)
            lot_responder_drop (self->responder, conn);     //  The agency left
        else {
            const char *peer = zframe_meta (data, "Peer-Address");
            zframe_t *routing_id = zframe_dup (id);
            lot_conns_add (self->conns, &routing_id, peer ? peer : "unknown",
                           self->buffer_limit, lot_responder_end, self->responder);
        }
    }
    else
    if (conn && lot_conn_state (conn) < LOT_CONN_STALLED) {
        lot_conns_touch (self->conns, conn);
        if (lot_conn_append (conn, zframe_data (data), zframe_size (data)))
            lot_responder_fail (self->responder, conn, "too much data before an answer");
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
        lot_conn_t *conn = rc == 1 ? lot_conns_bets_of (self->conns, result.agency) : NULL;
        if (conn && lot_pipeline_settle (self->pipeline, conn, &result) == 0
        &&  lot_responder_answer_due (self->responder, conn) == 0)
            s_self_process (self, conn);
        lot_msg_result_free (&result);
    }
    zmsg_destroy (&batch);
}

//  The draw is done: every query held gets its answer.
static void
s_self_handle_winners (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->winners);
    if (lot_desk_set_winners (self->desk, msg) == 0) {
        lot_conn_t *conn;
        while ((conn = lot_desk_first (self->desk)))
            lot_responder_answer_winners (self->responder, conn);
    }
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  The actor

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->actor.settings;
    char endpoint [32];
    snprintf (endpoint, sizeof endpoint, "tcp://*:%ld", settings->port);
    self->stream = lot_sockets_bind (self->actor.sockets, ZMQ_STREAM, endpoint, "agencies");
    self->broker = lot_sockets_connect (self->actor.sockets, ZMQ_DEALER, settings->broker_endpoint,
                                        "broker", "broker");
    self->winners = lot_sockets_connect (self->actor.sockets, ZMQ_SUB, settings->winners_endpoint,
                                         "winners", "coordinator");
    if (!self->stream || !self->broker || !self->winners)
        return -1;
    zsock_set_sndtimeo (self->stream, 0);
    zsock_set_sndtimeo (self->broker, 0);
    zsock_set_subscribe (self->winners, LOT_MSG_WINNERS);
    lot_responder_set_stream (self->responder, self->stream);
    lot_pipeline_set_broker (self->pipeline, self->broker);
    zpoller_add (self->actor.poller, self->stream);
    zpoller_add (self->actor.poller, self->broker);
    zpoller_add (self->actor.poller, self->winners);
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
    zstr_sendf (self->actor.pipe, "%d", self->port);
    return 0;
}

//  "START" opens the sockets, "$TERM" ends the loop.
static void
s_self_handle_pipe (self_t *self)
{
    lot_actor_serve_pipe (&self->actor, s_self_start, s_self_command);
}

static void
s_self_run (self_t *self)
{
    while (self && !self->actor.terminated) {
        //  Sleeps until the next backlog retry, resend check, stall expiry
        //  or idle check at the latest
        int timeout = (int) lot_pipeline_timeout (self->pipeline,
                                                  lot_conns_timeout (self->conns));
        void *which = zpoller_wait (self->actor.poller, timeout);
        if (!which)
            ;                   //  A timer is due: see below
        else
        if (which == self->actor.pipe)
            s_self_handle_pipe (self);
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
            lot_sockets_handle_event (self->actor.sockets, which);
        lot_pipeline_flush (self->pipeline);
        lot_pipeline_resend (self->pipeline);
        lot_conns_expire (self->conns, lot_responder_end, self->responder);
    }
}

void
lot_frontend_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, args);
    lot_actor_signal (pipe, ACTOR, self != NULL);
    s_self_run (self);
    s_self_destroy (&self);
}
