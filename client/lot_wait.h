/*  lot_wait - how long a link waits for the server, and why its last step failed

    Every wait of the link, on either transport (lot_tcp, lot_secure), is
    limited: by server.timeout for each read or write, past which the
    server is as good as gone and the connection counts as dropped, or by
    a deadline for a whole exchange (the winners query), past which the
    link has timed out. SIGTERM and SIGINT stop any wait (lot_signals):
    they are let in only inside ppoll, here.

    A step that fails returns -1 and leaves why here, with whether the
    connection dropped (worth another one) or the deadline passed, so
    that one fail line of the link's caller says why.
*/
#ifndef LOT_WAIT_H_INCLUDED
#define LOT_WAIT_H_INCLUDED

#include <poll.h>
#include <stdbool.h>

//  Room for a reason, its NUL included
#define LOT_WAIT_REASON_MAX 512

typedef struct _lot_wait_t lot_wait_t;

//  server_timeout: how long a read or write waits, outside a deadline.
lot_wait_t *lot_wait_new (long server_timeout);

void lot_wait_destroy (lot_wait_t **self_p);

//  Limits every wait from now on to ms from now (< 0: no limit). While
//  the limit holds, no wait has server.timeout.
void lot_wait_set_deadline (lot_wait_t *self, long ms);

//  How long a read or write may wait for the server: server.timeout, or
//  -1 (no limit but the deadline) while a deadline holds.
long lot_wait_patience (lot_wait_t *self);

//  Waits for events on the count items, or just for the time when count
//  is 0; timeout_ms < 0 waits for ever. Never past the deadline. Returns
//  1 when ready, 0 on timeout, -1 when a signal stopped the wait, the
//  deadline passed or poll failed.
int lot_wait_poll (lot_wait_t *self, struct pollfd *items, nfds_t count, long timeout_ms);

//  The same on one fd, or for the time alone when fd < 0.
int lot_wait_fd (lot_wait_t *self, int fd, short events, long timeout_ms);

//  The same until a zclock_mono time (< 0: no limit but the deadline).
int lot_wait_until (lot_wait_t *self, struct pollfd *items, nfds_t count, long long until);

//  Waits ms, a signal or the deadline: -1 for either of these.
int lot_wait_pause (lot_wait_t *self, long ms);

//  A signal came or the deadline passed: no wait would go on.
bool lot_wait_stopped (lot_wait_t *self);

//  Says why the step failed. Returns -1.
int lot_wait_fail (lot_wait_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  The connection went, and why. Returns -1.
int lot_wait_drop (lot_wait_t *self, const char *reason);

//  The server said nothing for patience ms: the connection went. Returns -1.
int lot_wait_silent (lot_wait_t *self, long patience);

//  Why the last step failed.
const char *lot_wait_reason (lot_wait_t *self);

//  The connection went (EOF, reset, a silent server): worth another one.
bool lot_wait_dropped (lot_wait_t *self);

//  A new connection: nothing has dropped yet.
void lot_wait_clear_dropped (lot_wait_t *self);

#endif
