/*  lot_secure - the CURVE link to the server's secure port: a DEALER that proves the agency's key

    With auth.cert set, the client speaks to the front-end's SECURE_PORT
    through a ZeroMQ DEALER socket, a CURVE client with the agency's own
    certificate that accepts only the server key it pins (auth.server):
    encrypted both ways, and a server without that key cannot complete
    the handshake (docs/security.md). What travels is the protocol's own
    bytes, one message per frame; an empty frame from the server closes
    the link, as the end of a TCP stream does.

    A monitor on the socket says when the handshake is done, failed
    (with libzmq's reason) or the connection went. Nothing here blocks:
    lot_link waits on lot_secure_fds and asks again.
*/
#ifndef LOT_SECURE_H_INCLUDED
#define LOT_SECURE_H_INCLUDED

#include "lot_inbox.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _lot_secure_t lot_secure_t;

typedef enum {
    LOT_SECURE_WAITING,         //  Connecting, or in the handshake
    LOT_SECURE_UP,              //  Handshake done: the server proved its key
    LOT_SECURE_DOWN             //  Refused, failed or gone: see the reason
} lot_secure_state_t;

//  Loads the agency's certificate (cert, which holds its secret key) and
//  the server's public one. NULL with *error set (free it).
lot_secure_t *lot_secure_new (const char *cert, const char *server, char **error);

void lot_secure_destroy (lot_secure_t **self_p);

//  Opens a new socket and connects it to host:port. Returns 0, or -1
//  with the reason.
int lot_secure_open (lot_secure_t *self, const char *address);

//  Closes the socket, if open; what was not sent is dropped.
void lot_secure_close (lot_secure_t *self);

//  The link's state, after the monitor's events so far.
lot_secure_state_t lot_secure_state (lot_secure_t *self);

//  Why the link is down.
const char *lot_secure_reason (lot_secure_t *self);

//  The two descriptors to wait on for readability (the socket's and its
//  monitor's, libzmq's ZMQ_FD): when either is readable, ask again.
void lot_secure_fds (lot_secure_t *self, int fds [2]);

//  Sends one message: 0 when sent, 1 when it cannot go yet, -1 when the
//  link is down.
int lot_secure_send (lot_secure_t *self, const void *data, size_t size);

//  Takes the messages received into the inbox: 1 when some came, 0 when
//  none yet, -1 when the server closed the link (an empty frame) or the
//  inbox is full.
int lot_secure_recv (lot_secure_t *self, lot_inbox_t *inbox);

#endif
