/*  lot_conns - the front-end's table of agency connections, and their ends  */
#include "lot_conns.h"
#include "lot_conn_metrics.h"
#include "lot_codec.h"
#include "lot_log.h"

struct _lot_conns_t {
    const lot_settings_t *settings;
    zhashx_t *conns;            //  key -> lot_conn_t
    lot_conn_t **bets_of;       //  By agency: its bets connection (not owned)
    zlistx_t *recent;           //  Every connection, least recently active
                                //  first: who is idle, and who makes room
    zlistx_t *stalled;          //  LOT_CONN_STALLED connections, oldest first
    int64_t next_idle_check;
    lot_conn_metrics_t *metrics;    //  NULL: metrics off
};

static void
s_conn_free (void **item)
{
    lot_conn_destroy ((lot_conn_t **) item);
}

lot_conns_t *
lot_conns_new (const lot_settings_t *settings)
{
    lot_conns_t *self = calloc (1, sizeof *self);
    assert (self);
    *self = (lot_conns_t) {
        .settings = settings,
        .conns = zhashx_new (),
        .bets_of = calloc ((size_t) settings->agencies + 1, sizeof *self->bets_of),
        .recent = zlistx_new (),
        .stalled = zlistx_new (),
        .metrics = lot_conn_metrics_new (settings->metrics, settings->max_connections),
    };
    assert (self->conns && self->bets_of && self->recent && self->stalled);
    zhashx_set_destructor (self->conns, s_conn_free);
    return self;
}

void
lot_conns_destroy (lot_conns_t **self_p)
{
    if (*self_p) {
        lot_conns_t *self = *self_p;
        zlistx_destroy (&self->stalled);
        lot_conn_metrics_destroy (&self->metrics);
        free (self->bets_of);
        zlistx_destroy (&self->recent);
        zhashx_destroy (&self->conns);
        free (self);
        *self_p = NULL;
    }
}

lot_conn_t *
lot_conns_lookup (lot_conns_t *self, const char *key)
{
    return zhashx_lookup (self->conns, key);
}

void
lot_conns_touch (lot_conns_t *self, lot_conn_t *conn)
{
    lot_conn_set_active_at (conn, zclock_mono ());
    zlistx_move_end (self->recent, lot_conn_handle (conn, LOT_CONN_LIST_RECENT));
}

//  One connection uploads for an agency at a time, or two could be
//  handed the same positions.
const char *
lot_conns_bind (lot_conns_t *self, lot_conn_t *conn, lot_span_t agency)
{
    unsigned id;
    const char *refused = lot_bet_parse_agency (agency, (unsigned) self->settings->agencies, &id)
                        ? "unknown agency" : self->bets_of [id] ? LOT_REASON_BUSY : NULL;
    if (refused) {
        lot_conn_metrics_refused (self->metrics, refused);
        return refused;
    }
    lot_conn_set_agency (conn, id);
    self->bets_of [id] = conn;
    lot_log_info ("action: agencia_conectada | result: success | agencia: %u"
                  " | protocolo: %d | peer: %s", id, lot_conn_version (conn),
                  lot_conn_peer (conn));
    return NULL;
}

lot_conn_t *
lot_conns_bets_of (lot_conns_t *self, uint32_t agency)
{
    return agency <= (uint32_t) self->settings->agencies ? self->bets_of [agency] : NULL;
}

void
lot_conns_detach (lot_conns_t *self, lot_conn_t *conn)
{
    void *stalled = lot_conn_handle (conn, LOT_CONN_LIST_STALLED);
    if (stalled)
        zlistx_delete (self->stalled, stalled);
    lot_conn_set_handle (conn, LOT_CONN_LIST_STALLED, NULL);
    //  A bets connection is bound exactly while it is its agency's entry
    unsigned agency = lot_conn_agency (conn);
    if (self->bets_of [agency] == conn)
        self->bets_of [agency] = NULL;
}

void
lot_conns_stall (lot_conns_t *self, lot_conn_t *conn)
{
    lot_conn_set_state (conn, LOT_CONN_STALLED);
    lot_conn_set_handle (conn, LOT_CONN_LIST_STALLED, zlistx_add_end (self->stalled, conn));
}

void
lot_conns_drop (lot_conns_t *self, lot_conn_t *conn)
{
    lot_conns_detach (self, conn);
    zlistx_delete (self->recent, lot_conn_handle (conn, LOT_CONN_LIST_RECENT));
    zhashx_delete (self->conns, lot_conn_key (conn));
    lot_conn_metrics_closed (self->metrics, zhashx_size (self->conns));
}

//  A connection that waits for nothing of ours: no item out, no query
//  held (those wait for the draw, however long it takes).
static bool
s_waits_on_peer (lot_conn_t *conn)
{
    return lot_conn_state (conn) < LOT_CONN_STALLED
        && lot_conn_items (conn) == 0 && lot_conn_state (conn) != LOT_CONN_WINNERS;
}

//  The connection table is full: the connection idle longest makes room,
//  if it has been idle a tenth of IDLE_TIMEOUT at least (so a burst of
//  new connections cannot push out agencies in the middle of an upload),
//  or one that reads nothing. Returns 0, or -1 when none can go.
static int
s_make_room (lot_conns_t *self, lot_conns_end_fn *end, void *arg)
{
    int64_t now = zclock_mono ();
    int64_t since = now - self->settings->idle_timeout / 10;
    for (lot_conn_t *conn = zlistx_first (self->recent); conn;
         conn = zlistx_next (self->recent)) {
        if (lot_conn_state (conn) == LOT_CONN_DEAD) {
            //  Detached when it stalled: nothing else holds it (its pipe is
            //  libzmq's, gone with its peer)
            assert (lot_conn_items (conn) == 0);
            lot_conns_drop (self, conn);
            return 0;
        }
        if (lot_conn_active_at (conn) > since)
            return -1;          //  The rest are more recent still
        if (s_waits_on_peer (conn)) {
            lot_log_warning ("action: conexion | result: fail | reason: idle for %"
                             PRId64 " ms while the table is full | peer: %s",
                             now - lot_conn_active_at (conn), lot_conn_peer (conn));
            lot_conn_metrics_evicted (self->metrics, "room");
            end (arg, conn, NULL);
            return 0;
        }
    }
    return -1;
}

lot_conn_t *
lot_conns_add (lot_conns_t *self, zframe_t **routing_id_p, const char *peer,
               unsigned proven, size_t limit, lot_conns_end_fn *end, void *arg)
{
    lot_conn_t *conn = lot_conn_new (routing_id_p, peer, limit);
    if (proven)
        lot_conn_set_proven (conn, proven);
    zhashx_insert (self->conns, lot_conn_key (conn), conn);
    lot_conn_set_handle (conn, LOT_CONN_LIST_RECENT, zlistx_add_end (self->recent, conn));
    lot_conn_set_active_at (conn, zclock_mono ());
    lot_conn_metrics_accepted (self->metrics, zhashx_size (self->conns));
    //  Each connection may hold two chunks' worth of bytes (an agency's
    //  v2 upload MAX_IN_FLIGHT + 1): their number is what bounds the
    //  front-end's memory
    if (zhashx_size (self->conns) > (size_t) self->settings->max_connections
    &&  s_make_room (self, end, arg)) {
        lot_log_error ("action: conexion | result: fail | reason: more than"
                       " %ld connections | peer: %s",
                       self->settings->max_connections, lot_conn_peer (conn));
        lot_conn_metrics_refused (self->metrics, "table full");
        end (arg, conn, NULL);
        return NULL;
    }
    return conn;
}

//  A stalled connection that has not left by now does not read: one of the
//  plain port is ended (its port gives what waits SEND_TIMEOUT more, then
//  closes it), or it would hold a descriptor and 64 KiB for as long as its
//  peer likes; one of the CURVE port cannot be closed (libzmq's ROUTER
//  closes no peer), so it stays cut off and ignored until it goes.
static void
s_expire_stalled (lot_conns_t *self, lot_conns_end_fn *end, void *arg)
{
    lot_conn_t *conn;
    int64_t now = zclock_mono ();
    while ((conn = zlistx_first (self->stalled))
       &&  now - lot_conn_stalled_at (conn) >= self->settings->send_timeout) {
        lot_log_error ("action: responder | result: fail | peer: %s"
                       " | reason: agency not reading its answers", lot_conn_peer (conn));
        lot_conn_metrics_evicted (self->metrics, "not_reading");
        zlistx_delete (self->stalled, lot_conn_handle (conn, LOT_CONN_LIST_STALLED));
        lot_conn_set_handle (conn, LOT_CONN_LIST_STALLED, NULL);
        if (lot_conn_proven (conn))
            lot_conn_set_state (conn, LOT_CONN_DEAD);
        else
            end (arg, conn, NULL);
    }
}

//  Closes the connections that sent nothing for IDLE_TIMEOUT while we
//  waited on them, and those whose message has been arriving for longer
//  than MESSAGE_TIMEOUT (a slow sender holding a buffer and a slot).
static void
s_expire_idle (lot_conns_t *self, lot_conns_end_fn *end, void *arg)
{
    int64_t now = zclock_mono ();
    lot_conn_t *conn = zlistx_first (self->recent);
    while (conn) {
        //  Taken before close, which may drop conn
        lot_conn_t *next = zlistx_next (self->recent);
        bool waits = s_waits_on_peer (conn);
        int64_t idle = now - lot_conn_active_at (conn);
        if (waits && idle >= self->settings->idle_timeout) {
            lot_log_warning ("action: conexion | result: fail | reason: idle for %"
                             PRId64 " ms | peer: %s", idle, lot_conn_peer (conn));
            lot_conn_metrics_evicted (self->metrics, "idle");
            end (arg, conn, NULL);
        }
        else
        if (waits && lot_conn_partial_at (conn)
        &&  now - lot_conn_partial_at (conn) >= self->settings->message_timeout) {
            lot_conn_metrics_evicted (self->metrics, "slow_message");
            end (arg, conn, "message too slow");
        }
        conn = next;
    }
}

//  How often idle and slow connections are looked for: a quarter of the
//  shorter limit, so none outlives its limit by more than a quarter.
static int64_t
s_idle_period (lot_conns_t *self)
{
    long shorter = self->settings->idle_timeout < self->settings->message_timeout
                 ? self->settings->idle_timeout : self->settings->message_timeout;
    return shorter / 4;
}

void
lot_conns_expire (lot_conns_t *self, lot_conns_end_fn *end, void *arg)
{
    s_expire_stalled (self, end, arg);
    if (zclock_mono () >= self->next_idle_check) {
        s_expire_idle (self, end, arg);
        self->next_idle_check = zclock_mono () + s_idle_period (self);
    }
}

int64_t
lot_conns_timeout (lot_conns_t *self)
{
    int64_t timeout = self->next_idle_check - zclock_mono ();
    timeout = timeout < 0 ? 0 : timeout;
    lot_conn_t *stalled = zlistx_first (self->stalled);
    if (stalled) {
        int64_t left = lot_conn_stalled_at (stalled) + self->settings->send_timeout
                     - zclock_mono ();
        left = left < 0 ? 0 : left;
        timeout = left < timeout ? left : timeout;
    }
    return timeout;
}
