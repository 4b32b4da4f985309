/*  lot_link - one connection to the server: connect and retry, send, receive an answer

    One connection at a time, with blocking I/O, over plain TCP (lot_tcp)
    or, with the agency's key (auth.cert), over the CURVE port
    (lot_secure). Connecting follows the retry policy: up to loop.amount
    attempts, loop.period apart. A caller that must greet the server first
    (the upload's 'H') does it inside the attempt, through a greet
    callback, so that a greeting that fails is retried as a connection
    that fails. The answers are read into an inbox (lot_inbox) and framed
    by lot_codec.

    Every wait for the server is limited (lot_wait): server.timeout for
    each read or write, past which the connection counts as dropped, or
    a deadline for a whole exchange (the winners query), past which the
    link has timed out. SIGTERM and SIGINT stop any wait (lot_signals).

    A step that fails returns -1 and leaves why in lot_link_reason, and
    whether the connection dropped (worth another one) or the deadline
    passed; the caller's own failures go there too (lot_link_fail), so
    that one fail line says why.
*/
#ifndef LOT_LINK_H_INCLUDED
#define LOT_LINK_H_INCLUDED

#include "lot_client_config.h"
#include "lot_inbox.h"
#include "lot_log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _lot_link_t lot_link_t;

//  Greets the server on a connection just made, before lot_link_connect
//  returns. Returns 0 when done; 1 to try again after loop.period (as an
//  attempt that could not connect); 2 to try again at once, on a new
//  connection (the greeting changed what it will say); -1 to give up.
//  The link closes the connection unless 0.
typedef int (lot_link_greet_fn) (void *arg, lot_link_t *link);

//  The config must outlive the link.
lot_link_t *lot_link_new (const lot_client_config_t *config);

//  Closes the connection (a DEBUG line) and frees the link.
void lot_link_destroy (lot_link_t **self_p);

//  Connects with the retry policy, greeting each connection with greet
//  (NULL: none). resource names the connection in the log lines. Logs a
//  fail line (lot_link_said) unless a signal or the deadline stopped it.
int lot_link_connect (lot_link_t *self, const char *resource,
                      lot_link_greet_fn *greet, void *arg);

//  Closes the connection, if open, with a close line at level.
void lot_link_close (lot_link_t *self, lot_log_level_t level);

//  After a drop: says so (action: reconectar), and closes what is left.
void lot_link_close_dropped (lot_link_t *self);

//  Sends all of data.
int lot_link_send (lot_link_t *self, const void *data, size_t size);

//  Receives the answer of that kind ('O' to a chunk, 'S' to 'H', the
//  winners list), decoded into *answer, whose spans stay valid until the
//  next receive: 0; -1 for an 'E' (its reason the link's), any other
//  answer, or a link that failed.
int lot_link_recv (lot_link_t *self, lot_answer_kind_t kind, lot_answer_t *answer);

//  True when the last step failed on the server's 'E' with this reason.
bool lot_link_rejected (lot_link_t *self, const char *reason);

//  Waits ms, a signal or the deadline: -1 for either of these.
int lot_link_pause (lot_link_t *self, long ms);

//  Limits every wait from now on to ms from now (< 0: no limit). While
//  the limit holds, no wait has server.timeout: the exchange may be as
//  slow as it likes until then.
void lot_link_set_deadline (lot_link_t *self, long ms);

//  Says why the step failed, for the fail line. Returns -1.
int lot_link_fail (lot_link_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Why the last step failed.
const char *lot_link_reason (lot_link_t *self);

//  The connection went (EOF, reset, a silent server): worth another one.
bool lot_link_dropped (lot_link_t *self);

//  The last lot_link_connect logged its failure already.
bool lot_link_said (lot_link_t *self);

#endif
