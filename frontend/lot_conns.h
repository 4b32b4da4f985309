/*  lot_conns - the front-end's table of agency connections, and their ends

    Every connection is in the table by its key from its port's connect
    notice until it is dropped, and in a list by last activity (who is
    idle, and who makes room when the table is full). A bets connection
    bound to its agency is that agency's entry in bets_of: one per agency
    on a front-end, or two could be handed the same positions. A
    connection whose answer would not go is stalled: ignored until its port
    reports it gone, and after SEND_TIMEOUT logged as an agency that does
    not read and ended; one on the CURVE port, which libzmq gives no way
    to close, is ignored instead until it goes or its slot is needed
    (LOT_CONN_DEAD).

    The table decides which connections end (idle, too slow, over
    MAX_CONNECTIONS) but writes nothing: it hands each to the front-end's
    end function, which writes through the agencies' socket and takes
    the connection out of the pipeline and the winners desk first.
*/
#ifndef LOT_CONNS_H_INCLUDED
#define LOT_CONNS_H_INCLUDED

#include "lot_conn.h"
#include "lot_bet.h"
#include "lot_settings.h"

#include <czmq.h>

typedef struct _lot_conns_t lot_conns_t;

//  Ends a connection from the front-end's side: one that was idle
//  (reason NULL, the table logged why) is closed; one whose stream cannot
//  go on is answered 'E' and the reason first.
typedef void (lot_conns_end_fn) (void *arg, lot_conn_t *conn, const char *reason);

lot_conns_t *lot_conns_new (const lot_settings_t *settings);

//  Destroys every connection left.
void lot_conns_destroy (lot_conns_t **self_p);

//  The connection with this key (its routing id in hex), or NULL.
lot_conn_t *lot_conns_lookup (lot_conns_t *self, const char *key);

//  A new connection that buffers at most limit bytes, the most recently
//  active; proven is the agency its key proved on the CURVE socket, or 0.
//  Takes routing_id. Past MAX_CONNECTIONS one connection makes room
//  (ended through end, or dropped); when none can go, the new one is
//  ended. Returns the new connection, or NULL when it was ended.
lot_conn_t *lot_conns_add (lot_conns_t *self, zframe_t **routing_id_p, const char *peer,
                           unsigned proven, size_t limit, lot_conns_end_fn *end,
                           void *arg);

//  The connection did something: it is the most recently active.
void lot_conns_touch (lot_conns_t *self, lot_conn_t *conn);

//  Binds a bets connection to the agency it names. Returns NULL, or why
//  not (an unknown agency, one bound to another connection).
const char *lot_conns_bind (lot_conns_t *self, lot_conn_t *conn, lot_span_t agency);

//  An agency's bets connection, or NULL.
lot_conn_t *lot_conns_bets_of (lot_conns_t *self, uint32_t agency);

//  Frees the connection's agency and takes it out of the stalled list.
void lot_conns_detach (lot_conns_t *self, lot_conn_t *conn);

//  An answer to the connection would not go: it stalls (it must be
//  detached from everything else already).
void lot_conns_stall (lot_conns_t *self, lot_conn_t *conn);

//  Forgets and destroys a connection; the front-end has taken it out of
//  the pipeline and the winners desk.
void lot_conns_drop (lot_conns_t *self, lot_conn_t *conn);

//  Ends what is past its limit, through end: stalled connections (those
//  of the CURVE port become dead instead), and, when their check is due,
//  idle and slow ones.
void lot_conns_expire (lot_conns_t *self, lot_conns_end_fn *end, void *arg);

//  How long the front-end may wait before lot_conns_expire has something
//  to do.
int64_t lot_conns_timeout (lot_conns_t *self);

#endif
