/*  lot_sockets - the ZeroMQ sockets of one actor, each watched  */
#include "lot_sockets.h"
#include "lot_curve.h"
#include "lot_watcher.h"
#include "lot_zap.h"
#include "lot_log.h"

typedef struct {
    zsock_t *sock;
    char *name;
    bool bound;                 //  Else connected
} s_entry_t;

struct _lot_sockets_t {
    const char *actor;
    const lot_settings_t *settings;
    lot_watcher_t *watcher;     //  Every tcp:// and ipc:// socket's monitor
    zlistx_t *entries;          //  s_entry_t, in opening order
    zcert_t *cert;              //  The actor's own, once a socket needs it
};

static void
s_entry_destroy (void **item)
{
    s_entry_t *entry = *item;
    if (entry) {
        zsock_destroy (&entry->sock);
        free (entry->name);
        free (entry);
        *item = NULL;
    }
}

lot_sockets_t *
lot_sockets_new (const char *actor, const lot_settings_t *settings)
{
    lot_sockets_t *self = calloc (1, sizeof *self);
    assert (self);
    self->actor = actor;
    self->settings = settings;
    self->watcher = lot_watcher_new (actor, settings);
    assert (self->watcher);
    self->entries = zlistx_new ();
    zlistx_set_destructor (self->entries, s_entry_destroy);
    return self;
}

//  libzmq frees an inproc endpoint only once its reaper thread gets to
//  the closed socket, so binding it again at once may fail (EADDRINUSE);
//  an unbind frees it now, and an actor started again in this process
//  binds at once.
static void
s_unbind_inproc (zsock_t *sock)
{
    char *endpoint = zsock_last_endpoint (sock);
    if (endpoint && strncmp (endpoint, "inproc://", 9) == 0)
        zsock_unbind (sock, "%s", endpoint);
    zstr_free (&endpoint);
}

void
lot_sockets_destroy (lot_sockets_t **self_p)
{
    if (*self_p) {
        lot_sockets_t *self = *self_p;
        //  The monitors go first: they still speak to their sockets
        lot_watcher_destroy (&self->watcher);
        for (s_entry_t *entry = zlistx_first (self->entries); entry;
             entry = zlistx_next (self->entries)) {
            if (entry->bound)
                s_unbind_inproc (entry->sock);
            zsock_destroy (&entry->sock);
            lot_sockets_closed (self, entry->name);
        }
        zlistx_destroy (&self->entries);
        zcert_destroy (&self->cert);
        free (self);
        *self_p = NULL;
    }
}

//  Makes sock a CURVE server or, when server is given, a client of that
//  actor kind. Returns 0, or -1 with *error set.
static int
s_curve_secure (lot_sockets_t *self, zsock_t *sock, const char *server, char **error)
{
    const lot_settings_t *settings = self->settings;
    if (!self->cert) {
        self->cert = lot_curve_load_secret (settings->curve_cert, error);
        if (!self->cert)
            return -1;
        lot_log_info ("action: curve | result: success | actor: %s | cert: %s",
                      self->actor, settings->curve_cert);
    }
    zcert_apply (self->cert, sock);
    if (!server) {
        zsock_set_curve_server (sock, 1);
        return 0;
    }
    zcert_t *peer = lot_curve_load_public (settings->curve_public_dir, server, error);
    if (!peer)
        return -1;
    zsock_set_curve_serverkey_bin (sock, zcert_public_key (peer));
    zcert_destroy (&peer);
    return 0;
}

//  A socket to be bound where other hosts reach it, without CURVE: a
//  warning with ACTORS_INSECURE (returns 0), else a fail line saying what
//  to do (returns -1).
static int
s_check_exposed (lot_sockets_t *self, const char *endpoint, const char *name)
{
    char *address = lot_endpoint_bind_form (endpoint);
    int rc = 0;
    if (self->settings->actors_insecure)
        lot_log_warning ("action: socket_open | result: in_progress | actor: %s | socket: %s"
                         " | endpoint: %s | reason: open to other hosts without CURVE,"
                         " as ACTORS_INSECURE allows", self->actor, name,
                         address ? address : endpoint);
    else {
        lot_log_error ("action: socket_open | result: fail | actor: %s | socket: %s"
                       " | endpoint: %s | reason: other hosts could connect and CURVE is off;"
                       " set CURVE_CERT and CURVE_PUBLIC_DIR, or give the endpoint a loopback"
                       " address, or set ACTORS_INSECURE=true on a network you trust",
                       self->actor, name, address ? address : endpoint);
        rc = -1;
    }
    free (address);
    return rc;
}

//  Makes sock the agencies' CURVE server, with its own certificate, whose
//  clients lot_zap names by their agency. Returns 0, or -1 with *error set.
static int
s_agencies_secure (lot_sockets_t *self, zsock_t *sock, char **error)
{
    zcert_t *cert = lot_curve_load_secret (self->settings->agency_cert, error);
    if (!cert)
        return -1;
    zcert_apply (cert, sock);
    zcert_destroy (&cert);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, LOT_ZAP_AGENCIES);
    //  An answer to a peer that is gone fails (EHOSTUNREACH), as on STREAM
    zsock_set_router_mandatory (sock, 1);
    return 0;
}

//  The socket_open line of a bound socket, or its fail line with error.
static void
s_log_opened (lot_sockets_t *self, const char *name, const char *endpoint,
              const char *error, const char *security)
{
    if (error)
        lot_log_error ("action: socket_open | result: fail | actor: %s | socket: %s"
                       " | endpoint: %s | reason: %s", self->actor, name, endpoint, error);
    else
        lot_log_info ("action: socket_open | result: success | actor: %s | socket: %s"
                      " | mode: bind | endpoint: %s%s", self->actor, name, endpoint,
                      security);
}

//  Opens a socket: binds it when server is NULL, else connects it to an
//  endpoint that actor kind binds. The agencies' CURVE socket is bound
//  with agencies set.
static zsock_t *
s_open (lot_sockets_t *self, int type, const char *endpoint, const char *name,
        const char *server, bool agencies)
{
    const lot_settings_t *settings = self->settings;
    bool bind = !server;
    //  CURVE guards what can come from another host: tcp:// between actors
    bool curve = settings->curve_cert && type != ZMQ_STREAM && !agencies
                 && strncmp (endpoint, "tcp://", 6) == 0;
    //  Other hosts may reach an actor's bound socket only through CURVE,
    //  or when the settings say their network is trusted (the agencies'
    //  sockets are meant for them)
    if (bind && !curve && !agencies && type != ZMQ_STREAM && lot_endpoint_exposed (endpoint)
    &&  s_check_exposed (self, endpoint, name))
        return NULL;
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        lot_log_error ("action: socket_open | result: fail | actor: %s | socket: %s"
                       " | reason: %s", self->actor, name, zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_sndhwm (sock, (int) settings->queue_limit);
    zsock_set_rcvhwm (sock, (int) settings->queue_limit);
    zsock_set_backlog (sock, (int) settings->listen_backlog);
    zsock_set_tcp_keepalive (sock, 1);     //  Finds peers that vanished
    //  libzmq takes an IPv6 address only on a socket told it may
    if (lot_endpoint_ipv6 (endpoint))
        zsock_set_ipv6 (sock, 1);
    //  A send never blocks for ever (a PUSH whose inproc peer has gone
    //  blocks until it comes back, and would not hear $TERM): what cannot
    //  be handed on in time is dropped, and the front-end sends its chunk
    //  again after RESEND_TIMEOUT
    zsock_set_sndtimeo (sock, (int) settings->send_timeout);
    char *error = NULL;
    if ((curve && s_curve_secure (self, sock, server, &error))
    ||  (agencies && s_agencies_secure (self, sock, &error))) {
        lot_log_error ("action: socket_open | result: fail | actor: %s | socket: %s"
                       " | reason: %s", self->actor, name, error ? error : "out of memory");
        free (error);
        zsock_destroy (&sock);
        return NULL;
    }
    const char *security = curve || agencies ? " | security: curve" : "";
    s_entry_t *entry = calloc (1, sizeof *entry);
    assert (entry);
    entry->sock = sock;
    entry->name = strdup (name);
    entry->bound = bind;
    //  inproc has no events to report, and each monitor is a thread
    if (strncmp (endpoint, "inproc://", 9) != 0) {
        lot_watched_t watched = {
            .name = name, .bound = bind, .curve = curve || agencies, .agencies = agencies
        };
        lot_watcher_add (self->watcher, sock, &watched);
    }
    zlistx_add_end (self->entries, entry);

    char *address = bind ? lot_endpoint_bind_form (endpoint) : strdup (endpoint);
    int rc = bind ? zsock_bind (sock, "%s", address) : zsock_connect (sock, "%s", address);
    if (rc == -1)
        s_log_opened (self, name, address, zmq_strerror (zmq_errno ()), "");
    else
    if (bind) {
        //  The endpoint as bound: an ephemeral port (tcp://*:*) shows here,
        //  so whoever started the actor learns it
        char *bound = zsock_last_endpoint (sock);
        s_log_opened (self, name, bound ? bound : address, NULL, security);
        zstr_free (&bound);
    }
    else
        lot_log_debug ("action: socket_open | result: success | actor: %s | socket: %s"
                       " | mode: connect | endpoint: %s%s", self->actor, name, address,
                       security);
    free (address);
    return rc == -1 ? NULL : sock;
}

zsock_t *
lot_sockets_bind (lot_sockets_t *self, int type, const char *endpoint, const char *name)
{
    return s_open (self, type, endpoint, name, NULL, false);
}

zsock_t *
lot_sockets_bind_agencies (lot_sockets_t *self, const char *endpoint, const char *name)
{
    return s_open (self, ZMQ_ROUTER, endpoint, name, NULL, true);
}

zsock_t *
lot_sockets_connect (lot_sockets_t *self, int type, const char *endpoint,
                     const char *name, const char *server)
{
    assert (server);
    return s_open (self, type, endpoint, name, server, false);
}

void
lot_sockets_opened (lot_sockets_t *self, const char *name, const char *endpoint,
                    const char *error)
{
    s_log_opened (self, name, endpoint, error, "");
}

void
lot_sockets_report (lot_sockets_t *self, const char *name, const char *event, long value,
                    const char *endpoint)
{
    lot_watcher_report (self->actor, self->settings, name, event, value, endpoint);
}

void
lot_sockets_closed (lot_sockets_t *self, const char *name)
{
    lot_log_info ("action: socket_close | result: success | actor: %s | socket: %s",
                  self->actor, name);
}
