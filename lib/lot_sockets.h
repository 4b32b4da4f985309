/*  lot_sockets - the ZeroMQ sockets of one actor, each watched

    An actor opens every socket through its lot_sockets_t, which gives
    them all the same options (the settings' queue limit as high-water
    marks, SEND_TIMEOUT, the listen backlog, TCP keepalive) and starts a czmq zmonitor
    on each before it binds or connects, so no event is missed. Each event
    becomes one log line naming the actor, the socket and the endpoint:

        action: zmq_evento | result: success | actor: persister
            | socket: records | event: ACCEPTED | endpoint: tcp://127.0.0.1:5561

    Failures (BIND_FAILED, ACCEPT_FAILED, CLOSE_FAILED, handshake failures)
    say `fail`; retries and delays say `in_progress`. The monitors are read
    in a thread of their own (lot_watcher), not in the actor's poll loop,
    and destroyed before the sockets they watch.

    Events exist for tcp:// and ipc:// only: inproc sockets are opened and
    closed alike, with nothing to report in between, so they get no
    monitor (each is a thread).

    With CURVE on (lot_curve.h), every tcp:// socket but the agencies'
    raw one is secured before it binds or connects: a bound socket is a
    CURVE server, a connected one a client of the actor that binds that
    endpoint. The first such socket loads the actor's certificate and logs

        action: curve | result: success | actor: persister | cert: PATH

    and each says `| security: curve` in its socket_open line. A refused
    or failed handshake is a monitor event like any other, logged `fail`
    on both sides with the reason where libzmq gives one.

    Actors are closed to other hosts by default. A socket to be bound
    where they can reach it (lot_endpoint_exposed: any tcp:// address but
    loopback's, so every interface and a host name too) must be a CURVE
    server; the agencies' raw socket, meant for them, is the exception.
    Without CURVE it is not opened, its actor fails START and its program
    exits 1 (lot_server.h), after

        action: socket_open | result: fail | actor: broker | socket: work
            | endpoint: tcp://0.0.0.0:5560 | reason: other hosts could connect and
            CURVE is off; set CURVE_CERT and CURVE_PUBLIC_DIR, ...

    unless ACTORS_INSECURE is set (a network the operator trusts, as the
    compose stack's), when it is bound after a warning:

        action: socket_open | result: in_progress | actor: broker | socket:
            work | endpoint: tcp://0.0.0.0:5560 | reason: open to other hosts
            without CURVE, as ACTORS_INSECURE allows
*/
#ifndef LOT_SOCKETS_H_INCLUDED
#define LOT_SOCKETS_H_INCLUDED

#include "lot_settings.h"

#include <czmq.h>

typedef struct _lot_sockets_t lot_sockets_t;

lot_sockets_t *lot_sockets_new (const char *actor, const lot_settings_t *settings);

//  Closes the monitors, then every socket, logging each close. Its
//  inproc endpoints are free again on return.
void lot_sockets_destroy (lot_sockets_t **self_p);

//  Opens a socket and binds it to an endpoint (where
//  lot_endpoint_bind_form says: a tcp endpoint's address, or every
//  interface for a name; port * is one the system picks, logged in the
//  socket_open line). The set owns it. Logs a fail line and returns NULL
//  when it cannot.
zsock_t *lot_sockets_bind (lot_sockets_t *self, int type, const char *endpoint,
                           const char *name);

//  Opens the agencies' CURVE socket, a ROUTER bound to endpoint: a CURVE
//  server with AGENCY_CERT, whose clients lot_zap lets in and names by
//  their agency (ZAP domain LOT_ZAP_AGENCIES); an answer to a peer that
//  is gone fails. Logs a fail line and returns NULL when it cannot.
zsock_t *lot_sockets_bind_agencies (lot_sockets_t *self, const char *endpoint,
                                    const char *name);

//  Opens a socket and connects it to an endpoint that the actor kind
//  server binds (its certificate is the one a CURVE client expects). The
//  set owns it. Logs a fail line and returns NULL when it cannot.
zsock_t *lot_sockets_connect (lot_sockets_t *self, int type, const char *endpoint,
                              const char *name, const char *server);

//  A socket of the actor's that is not libzmq's (the front-end's plain
//  port, lot_port): its bind said in the socket_open line (a fail line
//  with error when error is not NULL), each event in the zmq_evento line
//  and the series a monitored socket's would be in, and its close in the
//  socket_close line, so that operators see it as they saw it when
//  libzmq served it.
void lot_sockets_opened (lot_sockets_t *self, const char *name, const char *endpoint,
                         const char *error);
void lot_sockets_report (lot_sockets_t *self, const char *name, const char *event,
                         long value, const char *endpoint);
void lot_sockets_closed (lot_sockets_t *self, const char *name);

#endif
