/*  lot_secure - the link's CURVE connection to the server's secure port: a DEALER that proves the agency's key

    With auth.cert set, the client speaks to the front-end's SECURE_PORT
    through a ZeroMQ DEALER socket, a CURVE client with the agency's own
    certificate that accepts only the server key it pins (auth.server):
    encrypted both ways, and a server without that key cannot complete
    the handshake (docs/security.md). What travels is the protocol's own
    bytes, several messages to a frame as they come; an empty frame from
    the server closes the link, as the end of a TCP stream does.

    A monitor on the socket says when the handshake is done, failed
    (with libzmq's reason) or the connection went. The socket never
    blocks: the calls here wait on its descriptors, with the limits of
    the link's lot_wait, and ask again. Each returns 0, or -1 with the
    reason in the lot_wait.
*/
#ifndef LOT_SECURE_H_INCLUDED
#define LOT_SECURE_H_INCLUDED

#include "lot_client_config.h"
#include "lot_inbox.h"
#include "lot_wait.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _lot_secure_t lot_secure_t;

//  Loads the agency's certificate (auth.cert, which holds its secret key)
//  and the server's public one (auth.server). NULL with *error set (free
//  it). The config and wait must outlive the link.
lot_secure_t *lot_secure_new (const lot_client_config_t *config, lot_wait_t *wait,
                              char **error);

void lot_secure_destroy (lot_secure_t **self_p);

//  Opens a new socket to auth.address and waits up to server.timeout for
//  its handshake: the server proves the key auth.server pins, and lets
//  the agency's key in.
int lot_secure_connect (lot_secure_t *self);

//  Sends data: held with what was sent before it, to go as one message
//  when the link flushes (or when that would pass 64 kB), since each
//  message costs a CURVE box and a wake-up at both ends.
int lot_secure_send (lot_secure_t *self, const void *data, size_t size);

//  Sends what is held, then takes what the server sent into inbox,
//  waiting for at least one message.
int lot_secure_fill (lot_secure_t *self, lot_inbox_t *inbox);

//  Closes the socket; what was not sent is dropped. Returns whether one
//  was opened since the last close.
bool lot_secure_close (lot_secure_t *self);

#endif
