/*  lot_frontend - the TCP front-end: agency connections in, answers out  */
#include "lot_frontend.h"
#include "lot_conn.h"
#include "lot_conns.h"
#include "lot_desk.h"
#include "lot_gate.h"
#include "lot_pipeline.h"
#include "lot_requests.h"
#include "lot_responder.h"
#include "lot_port.h"
#include "lot_actor.h"
#include "lot_sockets.h"
#include "lot_codec.h"
#include "lot_log.h"
#include "lot_msg.h"

#define ACTOR "frontend"
#define PASS_MAX 64             //  Events taken from the agencies' sockets at once

typedef struct {
    lot_actor_t actor;          //  Pipe, settings, poller, sockets: first
    lot_port_t *plain;          //  The agencies' plain TCP port
    zsock_t *secure;            //  ROUTER, CURVE: agencies proving their key
    zsock_t *broker;            //  DEALER: WORK out, RESULTs back
    zsock_t *winners;           //  SUB to the coordinator
    lot_conns_t *conns;         //  Every connection, by key and by agency
    lot_pipeline_t *pipeline;   //  Items out to the handlers, and waiting
    lot_desk_t *desk;           //  Winners queries held, and the answers
    lot_responder_t *responder; //  Writes to the connections, and ends them
    lot_gate_t *gate;           //  Who may speak for which agency
    lot_requests_t *requests;   //  What each connection's bytes ask for
    size_t buffer_limit;        //  Bytes a connection may hold: two chunks
                                //  (a v2 upload more: lot_requests)
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_requests_destroy (&self->requests);
        lot_port_destroy (&self->plain);
        lot_responder_destroy (&self->responder);
        lot_gate_destroy (&self->gate);
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
    //  The chunk in flight, and one more from a peer that does not wait
    self->buffer_limit = 2 * (size_t) settings->max_chunk_bytes;
    self->conns = lot_conns_new (settings);
    self->pipeline = lot_pipeline_new (settings);
    self->desk = lot_desk_new (settings);
    self->responder = lot_responder_new (self->conns, self->pipeline, self->desk, settings);
    self->gate = lot_gate_new (settings);
    self->requests = lot_requests_new (settings, self->conns, self->pipeline, self->desk,
                                       self->responder, self->gate);
    if (!self->gate)
        s_self_destroy (&self);
    return self;
}

//  ---------------------------------------------------------------------
//  Socket handlers

//  Bytes from an agency: to its connection's buffer, and as far as they go.
static void
s_self_take_bytes (self_t *self, lot_conn_t *conn, const uint8_t *data, size_t size)
{
    if (!conn || lot_conn_state (conn) >= LOT_CONN_STALLED)
        return;
    lot_conns_touch (self->conns, conn);
    if (lot_conn_append (conn, data, size))
        lot_responder_fail (self->responder, conn, "too much data before an answer");
    else
        lot_requests_process (self->requests, conn);
}

//  An event of the plain port: a connection opened, bytes, or gone.
//  Returns false when there was none.
static bool
s_self_take_plain (self_t *self)
{
    lot_port_event_t event;
    lot_port_kind_t kind = lot_port_next (self->plain, &event);
    if (kind == LOT_PORT_NONE)
        return false;
    char key [LOT_CONN_KEY_MAX];
    lot_conn_key_of (&event.id, sizeof event.id, false, key);
    lot_conn_t *conn = lot_conns_lookup (self->conns, key);
    if (kind == LOT_PORT_OPENED) {
        zframe_t *routing_id = zframe_new (&event.id, sizeof event.id);
        lot_conns_add (self->conns, &routing_id, event.peer, 0, self->buffer_limit,
                       lot_responder_end, self->responder);
    }
    else
    if (kind == LOT_PORT_CLOSED && conn)
        lot_responder_drop (self->responder, conn);     //  The agency left
    else
    if (kind == LOT_PORT_DATA)
        s_self_take_bytes (self, conn, event.data, event.size);
    return true;
}

//  A message of the CURVE socket: bytes of an agency's stream, as on the
//  plain port, from a peer whose key lot_zap named (its User-Id). Its
//  first message opens its connection; libzmq says nothing when it
//  leaves, so it ends idle, or when its agency connects again.
static void
s_self_take_secure (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->secure);
    zframe_t *id = msg ? zmsg_pop (msg) : NULL;
    zframe_t *data = msg ? zmsg_first (msg) : NULL;
    if (!data) {
        zframe_destroy (&id);
        zmsg_destroy (&msg);
        return;
    }
    char key [LOT_CONN_KEY_MAX];
    lot_conn_key_of (zframe_data (id), zframe_size (id), true, key);
    lot_conn_t *conn = lot_conns_lookup (self->conns, key);
    if (!conn) {
        //  Who it is, the handshake said: lot_zap named the key's agency
        const char *user = zframe_meta (data, "User-Id");
        const char *peer = zframe_meta (data, "Peer-Address");
        unsigned agency = 0;
        zframe_t *routing_id = zframe_dup (id);
        if (user && lot_bet_parse_agency ((lot_span_t) { user, strlen (user) },
                                          (unsigned) self->actor.settings->agencies,
                                          &agency) == 0)
            conn = lot_conns_add (self->conns, &routing_id, peer ? peer : "unknown", agency,
                                  self->buffer_limit, lot_responder_end, self->responder);
        zframe_destroy (&routing_id);
    }
    if (conn && zframe_size (data) == 0) {
        lot_responder_drop (self->responder, conn);     //  The agency left
        conn = NULL;
    }
    for (; data && conn && lot_conns_lookup (self->conns, key) == conn; data = zmsg_next (msg))
        s_self_take_bytes (self, conn, zframe_data (data), zframe_size (data));
    zframe_destroy (&id);
    zmsg_destroy (&msg);
}

//  Takes what the agencies' sockets hold, a bounded number of events at
//  a time, so their chunks go to the handlers in one batch.
static void
s_self_handle_plain (self_t *self)
{
    for (int taken = 0; taken < PASS_MAX && s_self_take_plain (self); taken++)
        ;
}

static void
s_self_handle_secure (self_t *self)
{
    int taken = 0;
    do
        s_self_take_secure (self);
    while (++taken < PASS_MAX && (zsock_events (self->secure) & ZMQ_POLLIN));
}

//  A batch of RESULTs, each answered in its turn. A RESULT for an item
//  the connection no longer waits for (a resend's second answer) is
//  dropped.
static void
s_self_handle_result (self_t *self)
{
    zmsg_t *batch = zmsg_recv (self->broker);
    lot_metric_add (self->actor.received, batch != NULL);
    lot_result_t result;
    int rc;
    while (batch && (rc = lot_msg_next_result (batch, &result)) != 0) {
        lot_conn_t *conn = rc == 1 ? lot_conns_bets_of (self->conns, result.agency) : NULL;
        if (conn && lot_pipeline_settle (self->pipeline, conn, &result) == 0
        &&  lot_responder_answer_due (self->responder, conn) == 0)
            lot_requests_process (self->requests, conn);
        lot_msg_result_free (&result);
    }
    zmsg_destroy (&batch);
}

//  The draw is done: every query held gets its answer.
static void
s_self_handle_winners (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->winners);
    lot_metric_add (self->actor.received, msg != NULL);
    if (lot_desk_set_winners (self->desk, msg) == 0) {
        lot_conn_t *conn;
        while ((conn = lot_desk_first (self->desk)))
            lot_responder_answer_winners (self->responder, conn);
    }
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  The actor

//  The port a socket is bound to, or 0.
static int
s_bound_port (zsock_t *socket)
{
    char *bound = socket ? zsock_last_endpoint (socket) : NULL;
    const char *colon = bound ? strrchr (bound, ':') : NULL;
    int port = colon ? atoi (colon + 1) : 0;
    zstr_free (&bound);
    return port;
}

static int
s_self_start (void *args)
{
    self_t *self = args;
    const lot_settings_t *settings = self->actor.settings;
    char endpoint [32];
    self->plain = lot_port_new (settings, self->actor.sockets, "agencies");
    self->broker = lot_sockets_connect (self->actor.sockets, ZMQ_DEALER, settings->broker_endpoint,
                                        "broker", "broker");
    self->winners = lot_sockets_connect (self->actor.sockets, ZMQ_SUB, settings->winners_endpoint,
                                         "winners", "coordinator");
    if (!self->plain || !self->broker || !self->winners)
        return -1;
    if (settings->agency_auth != LOT_AUTH_OFF) {
        snprintf (endpoint, sizeof endpoint, "tcp://*:%ld", settings->secure_port);
        self->secure = lot_sockets_bind_agencies (self->actor.sockets, endpoint, "agencies_curve");
        if (!self->secure)
            return -1;
        zsock_set_sndtimeo (self->secure, 0);
        zpoller_add (self->actor.poller, self->secure);
    }
    zsock_set_sndtimeo (self->broker, 0);
    zsock_set_subscribe (self->winners, LOT_MSG_WINNERS);
    lot_responder_set_sockets (self->responder, self->plain, self->secure);
    lot_pipeline_set_broker (self->pipeline, self->broker);
    zpoller_add (self->actor.poller, lot_port_handle (self->plain));
    zpoller_add (self->actor.poller, self->broker);
    zpoller_add (self->actor.poller, self->winners);
    lot_log_info ("action: escuchar | result: success | port: %d",
                  lot_port_number (self->plain));
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
//  when SERVER_PORT is 0; "SECURE_PORT" their CURVE port (0: none).
//  "RELOAD" (SIGHUP) reads the enrolled agencies again.
static int
s_self_command (void *args, const char *command)
{
    self_t *self = args;
    if (streq (command, "PORT"))
        zstr_sendf (self->actor.pipe, "%d", lot_port_number (self->plain));
    else
    if (streq (command, "SECURE_PORT"))
        zstr_sendf (self->actor.pipe, "%d", s_bound_port (self->secure));
    else
    if (streq (command, "RELOAD"))
        lot_gate_reload (self->gate, true);
    else
        return -1;
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
        //  Sleeps until the next backlog retry, resend check, stall expiry,
        //  idle check, end of an accept pause or close on the port at the
        //  latest
        int64_t timeout = lot_conns_timeout (self->conns);
        int64_t gate = lot_gate_timeout (self->gate);
        int64_t port = self->plain ? lot_port_expire (self->plain) : -1;
        timeout = gate >= 0 && gate < timeout ? gate : timeout;
        timeout = lot_pipeline_timeout (self->pipeline,
                                        port >= 0 && port < timeout ? port : timeout);
        void *which = zpoller_wait (self->actor.poller, (int) timeout);
        //  A pass's log lines (a line or two per agency at 5,000 at once)
        //  go out in one write at its end
        lot_log_hold ();
        if (!which)
            ;                   //  A timer is due: see below
        else
        if (which == self->actor.pipe)
            s_self_handle_pipe (self);
        else
        if (which == lot_port_handle (self->plain))
            s_self_handle_plain (self);
        else
        if (which && which == self->secure)
            s_self_handle_secure (self);
        else
        if (which == self->broker)
            s_self_handle_result (self);
        else
        if (which == self->winners)
            s_self_handle_winners (self);
        lot_pipeline_flush (self->pipeline);
        lot_pipeline_resend (self->pipeline);
        lot_conns_expire (self->conns, lot_responder_end, self->responder);
        lot_gate_reload (self->gate, false);
        lot_log_release ();
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
