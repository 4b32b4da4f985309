/*  lot_tcp - the link's plain TCP connection to the server: dial, send, receive

    Connecting resolves the server's name again (a front-end may have
    come or gone) and tries its addresses in a random order (lot_dial)
    until one connects: a name that stands for several front-ends
    spreads the agencies over them, and a reconnection may land on
    another one. Each of several addresses has 2 s to answer, so one whose
    host is down does not hold the attempt. Blocking I/O, every wait
    limited by the link's lot_wait, which also says why a step failed.
*/
#ifndef LOT_TCP_H_INCLUDED
#define LOT_TCP_H_INCLUDED

#include "lot_client_config.h"
#include "lot_inbox.h"
#include "lot_wait.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _lot_tcp_t lot_tcp_t;

//  The config and wait must outlive the connection.
lot_tcp_t *lot_tcp_new (const lot_client_config_t *config, lot_wait_t *wait);

//  Closes the connection, if open, and frees it.
void lot_tcp_destroy (lot_tcp_t **self_p);

//  One attempt to connect, over every address of server.address. 0 when
//  connected, -1 with the reason.
int lot_tcp_connect (lot_tcp_t *self);

//  The address last tried, for log lines.
const char *lot_tcp_address (lot_tcp_t *self);

//  Sends all of data: 0, or -1 with the reason.
int lot_tcp_send (lot_tcp_t *self, const void *data, size_t size);

//  Reads what the server sent into inbox, waiting for at least one byte:
//  0, or -1 with the reason.
int lot_tcp_fill (lot_tcp_t *self, lot_inbox_t *inbox);

//  Closes the connection. Returns whether one was open.
bool lot_tcp_close (lot_tcp_t *self);

#endif
