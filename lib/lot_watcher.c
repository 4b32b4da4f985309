/*  lot_watcher - the zmonitors of one actor's sockets, read in a thread of their own  */
#include "lot_watcher.h"
#include "lot_log.h"

#include <sys/prctl.h>

struct _lot_watcher_t {
    const char *actor;
    const lot_settings_t *settings;
    zactor_t *thread;           //  Started with the first socket
};

//  A socket's monitor, and what its lines say of the socket
typedef struct {
    zactor_t *monitor;
    lot_watched_t watched;      //  Its name a copy of our own
    int type;
} s_monitor_t;

//  The card's monitoring, countable: every event of every monitor
static const lot_metric_family_t s_events = {
    .name = "lottery_zmq_events_total", .type = LOT_METRIC_COUNTER,
    .help = "zmq_monitor events, by actor, socket and event kind (ACCEPTED,"
            " DISCONNECTED, HANDSHAKE_FAILED_AUTH, ...)."
};

//  An event is a connection's, not a message's: finding its series each
//  time costs nothing that counts.
static void
s_count_event (const char *actor, const lot_settings_t *settings, const char *name,
               const char *event)
{
    lot_metric_add (lot_metrics_series (settings->metrics, &s_events, "actor", actor,
                                        "socket", name, "event", event, NULL), 1);
}

void
lot_watcher_report (const char *actor, const lot_settings_t *settings, const char *name,
                    const char *event, long value, const char *endpoint)
{
    lot_log_info ("action: zmq_evento | result: success | actor: %s | socket: %s"
                  " | event: %s | endpoint: %s | value: %ld", actor, name, event,
                  endpoint, value);
    s_count_event (actor, settings, name, event);
}

static const char *
s_event_result (const char *event)
{
    if (strstr (event, "FAILED"))
        return "fail";
    if (streq (event, "CONNECT_RETRIED") || streq (event, "CONNECT_DELAYED"))
        return "in_progress";
    return "success";
}

//  What a failed handshake means, where libzmq says enough to tell.
static const char *
s_handshake_reason (const lot_watched_t *socket, const char *event, const char *value)
{
    long code = strtol (value, NULL, 10);
    if (streq (event, "HANDSHAKE_FAILED_AUTH") && code == 400)
        //  lot_zap's answer: no such key
        return socket->agencies ? "the peer's key is no enrolled agency's"
             : socket->bound ? "the peer's key is not in CURVE_PUBLIC_DIR"
                             : "refused by the peer, our key is not in its CURVE_PUBLIC_DIR";
    if (streq (event, "HANDSHAKE_FAILED_PROTOCOL")
    &&  code == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return "CURVE on one side only";
    if (streq (event, "HANDSHAKE_FAILED_PROTOCOL")
    &&  code == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
        return "CURVE keys do not match, a stale public certificate?";
    //  What a client sees when the server cannot decrypt its hello
    if (socket->curve && !socket->bound && streq (event, "HANDSHAKE_FAILED_NO_DETAIL"))
        return "closed by the peer in the CURVE handshake, a stale public certificate?";
    //  What a server sees when a peer without CURVE read the mismatch
    //  first and hung up (or something not ZeroMQ came and went)
    if (socket->curve && socket->bound && streq (event, "HANDSHAKE_FAILED_NO_DETAIL"))
        return "closed by the peer in the CURVE handshake, CURVE on one side only?";
    return NULL;
}

static void
s_log_event (const char *actor, const s_monitor_t *monitor, const char *event,
             const char *value, const char *endpoint)
{
    const char *result = s_event_result (event);
    lot_log_level_t level = streq (result, "fail") ? LOT_LOG_ERROR : LOT_LOG_INFO;
    //  libzmq reports every close of a raw TCP peer (STREAM) as a failed
    //  handshake: raw peers have no handshake, so it is no failure there,
    //  and DISCONNECTED follows.
    if (monitor->type == ZMQ_STREAM && streq (event, "HANDSHAKE_FAILED_NO_DETAIL")) {
        result = "success";
        level = LOT_LOG_DEBUG;
    }
    const char *reason = s_handshake_reason (&monitor->watched, event, value);
    lot_log (level, "action: zmq_evento | result: %s | actor: %s | socket: %s"
             " | event: %s | endpoint: %s | value: %s%s%s", result, actor,
             monitor->watched.name, event, endpoint, value, reason ? " | reason: " : "",
             reason ? reason : "");
}

//  --------------------------------------------------------------------------
//  The watcher's thread

typedef struct {
    zsock_t *pipe;
    const lot_watcher_t *owner;
    zpoller_t *poller;
    zlistx_t *monitors;         //  s_monitor_t
    bool terminated;
} self_t;

static void
s_monitor_destroy (void **item)
{
    s_monitor_t *monitor = *item;
    if (monitor) {
        //  It stops watching its socket as it goes
        zactor_destroy (&monitor->monitor);
        free ((char *) monitor->watched.name);
        free (monitor);
        *item = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe, const lot_watcher_t *owner)
{
    self_t *self = calloc (1, sizeof *self);
    if (self) {
        *self = (self_t) {
            .pipe = pipe, .owner = owner,
            .poller = zpoller_new (pipe, NULL), .monitors = zlistx_new ()
        };
        if (!self->poller || !self->monitors) {
            zpoller_destroy (&self->poller);
            zlistx_destroy (&self->monitors);
            free (self);
            return NULL;
        }
        //  Only its owner stops it, after SIGTERM too (lot_server.h)
        zpoller_set_nonstop (self->poller, true);
        zlistx_set_destructor (self->monitors, s_monitor_destroy);
    }
    return self;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zlistx_destroy (&self->monitors);
        zpoller_destroy (&self->poller);
        free (self);
        *self_p = NULL;
    }
}

//  Starts a zmonitor on sock, every event on; NULL when it cannot.
static s_monitor_t *
s_monitor_new (zsock_t *sock, const lot_watched_t *watched)
{
    s_monitor_t *monitor = calloc (1, sizeof *monitor);
    char *name = watched->name ? strdup (watched->name) : NULL;
    zactor_t *actor = monitor && name ? zactor_new (zmonitor, sock) : NULL;
    if (!actor) {
        free (name);
        free (monitor);
        return NULL;
    }
    zstr_sendx (actor, "LISTEN", "ALL", NULL);
    zstr_send (actor, "START");
    zsock_wait (actor);
    *monitor = (s_monitor_t) {
        .monitor = actor, .watched = *watched, .type = zsock_type (sock)
    };
    monitor->watched.name = name;
    return monitor;
}

//  "WATCH" starts a monitor while its owner waits, and signals 0, or 1
//  when it could not; "$TERM" ends the loop.
static void
s_self_handle_pipe (self_t *self)
{
    char *command = NULL;
    zsock_t *sock = NULL;
    const lot_watched_t *watched = NULL;
    if (zsock_recv (self->pipe, "spp", &command, &sock, &watched) == -1 || !command)
        self->terminated = true;        //  The pipe broke: its owner is gone
    else
    if (streq (command, "$TERM"))
        self->terminated = true;
    else {
        //  The only other command is its owner's, and never malformed
        assert (streq (command, "WATCH") && sock && watched);
        s_monitor_t *monitor = s_monitor_new (sock, watched);
        if (monitor) {
            zlistx_add_end (self->monitors, monitor);
            zpoller_add (self->poller, monitor->monitor);
        }
        zsock_signal (self->pipe, monitor ? 0 : 1);
    }
    zstr_free (&command);
}

static void
s_self_handle_event (self_t *self, void *which)
{
    for (s_monitor_t *monitor = zlistx_first (self->monitors); monitor;
         monitor = zlistx_next (self->monitors)) {
        if (monitor->monitor != which)
            continue;
        char *event = NULL, *value = NULL, *endpoint = NULL;
        zstr_recvx (monitor->monitor, &event, &value, &endpoint, NULL);
        if (event) {
            s_log_event (self->owner->actor, monitor, event, value ? value : "",
                         endpoint ? endpoint : "");
            s_count_event (self->owner->actor, self->owner->settings,
                           monitor->watched.name, event);
        }
        zstr_free (&event);
        zstr_free (&value);
        zstr_free (&endpoint);
        return;
    }
}

//  Without a self_t: refuses a WATCH, false at $TERM or a broken pipe.
static bool
s_refuse (zsock_t *pipe)
{
    char *command = NULL;
    bool watch = zsock_recv (pipe, "s", &command) == 0 && command && streq (command, "WATCH");
    if (watch)
        zsock_signal (pipe, 1);
    zstr_free (&command);
    return watch;
}

static void
s_watcher_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, args);
    prctl (PR_SET_NAME, "watcher");
    zsock_signal (pipe, 0);
    while (self && !self->terminated) {
        void *which = zpoller_wait (self->poller, -1);
        if (which == self->pipe)
            s_self_handle_pipe (self);
        else
        if (which)
            s_self_handle_event (self, which);
    }
    //  Out of memory from the start: no socket is watched
    while (!self && s_refuse (pipe))
        ;
    s_self_destroy (&self);
}

//  --------------------------------------------------------------------------
//  The owner's side

lot_watcher_t *
lot_watcher_new (const char *actor, const lot_settings_t *settings)
{
    lot_watcher_t *self = calloc (1, sizeof *self);
    if (self)
        *self = (lot_watcher_t) { .actor = actor, .settings = settings };
    return self;
}

void
lot_watcher_destroy (lot_watcher_t **self_p)
{
    if (*self_p) {
        lot_watcher_t *self = *self_p;
        zactor_destroy (&self->thread);
        free (self);
        *self_p = NULL;
    }
}

int
lot_watcher_add (lot_watcher_t *self, zsock_t *sock, const lot_watched_t *watched)
{
    assert (self && sock && watched);
    if (!self->thread)
        self->thread = zactor_new (s_watcher_actor, self);
    if (!self->thread)
        return -1;
    if (zsock_send (self->thread, "spp", "WATCH", sock, watched) == -1)
        return -1;
    return zsock_wait (self->thread) == 0 ? 0 : -1;
}
