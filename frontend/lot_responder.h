/*  lot_responder - writes answers to agency connections, and ends them

    Answers go out on the agencies' plain port (lot_port), or their CURVE
    socket for a connection that proved its key (whose send timeout is
    0): a peer that does not read never blocks the others. When an answer
    cannot be written, the errno says why: EHOSTUNREACH means the peer is
    gone (it is forgotten), while EAGAIN comes from a peer whose answers
    pile up unread, and, on the CURVE socket, from one that has just
    closed (its pipe is being torn down, the disconnect notice on its way).
    So the connection stalls (lot_conns): ignored until it is gone or
    SEND_TIMEOUT passes, and only then is it an agency that does not read.

    Ending a connection, or stalling it, takes it out of everything that
    holds it: the pipeline, the winners desk and the table.
*/
#ifndef LOT_RESPONDER_H_INCLUDED
#define LOT_RESPONDER_H_INCLUDED

#include "lot_conn.h"
#include "lot_conns.h"
#include "lot_desk.h"
#include "lot_pipeline.h"
#include "lot_port.h"

#include <czmq.h>

typedef struct _lot_responder_t lot_responder_t;

//  The table, the pipeline and the desk stay the caller's; settings give
//  the metrics (none when off) and the agencies.
lot_responder_t *lot_responder_new (lot_conns_t *conns, lot_pipeline_t *pipeline,
                                    lot_desk_t *desk, const lot_settings_t *settings);

void lot_responder_destroy (lot_responder_t **self_p);

//  The agencies' plain port and their CURVE socket (NULL when
//  AGENCY_AUTH is off, else with a send timeout of 0), not owned; set
//  before the first answer. A connection's answers go where it came from.
void lot_responder_set_sockets (lot_responder_t *self, lot_port_t *plain, zsock_t *secure);

//  Writes an answer. Returns 0, or -1 when the connection takes no more
//  (the caller must not touch it then).
int lot_responder_answer (lot_responder_t *self, lot_conn_t *conn, const void *data,
                          size_t size);

//  Writes the answers that are due: the oldest items', as far as each
//  has its answer (a later one waits for every earlier one). The items
//  answered go, and their bytes. Returns as lot_responder_answer.
int lot_responder_answer_due (lot_responder_t *self, lot_conn_t *conn);

//  A chunk the front-end rejects itself, the next message's first size
//  bytes with count bets, answered 'E' in its turn; the connection stays
//  open. Returns as lot_responder_answer.
int lot_responder_reject (lot_responder_t *self, lot_conn_t *conn, size_t size,
                          unsigned count, const char *reason);

//  Answers a winners query with its agency's answer from the desk, and
//  closes.
void lot_responder_answer_winners (lot_responder_t *self, lot_conn_t *conn);

//  Closes a connection from our side, after 'E' and the reason when there
//  is one; what was written goes out first.
void lot_responder_close (lot_responder_t *self, lot_conn_t *conn, const char *reason);

//  The stream cannot be decoded any further: logs why, answers 'E' with
//  the reason, and closes.
void lot_responder_fail (lot_responder_t *self, lot_conn_t *conn, const char *reason);

//  Refuses a connection that cannot go on for the agency it named: 'E'
//  with the reason, then close.
void lot_responder_refuse (lot_responder_t *self, lot_conn_t *conn, const char *reason,
                           lot_span_t agency);

//  Ends a connection the table gives up on (a lot_conns_end_fn; arg is
//  the responder): closes it, or with a reason fails it.
void lot_responder_end (void *arg, lot_conn_t *conn, const char *reason);

//  Forgets a connection altogether: its peer is gone.
void lot_responder_drop (lot_responder_t *self, lot_conn_t *conn);

//  The course's line for a chunk answered 'E', whatever the reason: one
//  per chunk whose header says its count (graders count them); and the
//  chunk counted (lot_responder_count_rejected).
void lot_responder_log_rejected (lot_responder_t *self, lot_conn_t *conn, unsigned count,
                                 const char *reason);

//  Counts a chunk the front-end rejected, by its connection's agency
//  (lot_chunk_metrics, actor "frontend").
void lot_responder_count_rejected (lot_responder_t *self, lot_conn_t *conn,
                                   const char *reason);

#endif
