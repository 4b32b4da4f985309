/*  lot_desk - the winners desk: queries held until the draw, and the answers

    A winners query ('W agency') is held, with no answer and no refusal,
    until the coordinator's WINNERS arrives; an agency's held queries are
    bounded by QUERIES_PER_AGENCY. WINNERS is taken once (the coordinator
    repeats it for subscribers that join late): each agency's answer is
    encoded then, once, and serves every held and every later query of
    that agency. The desk holds connections but writes nothing: the
    front-end writes each answer and closes the connection.
*/
#ifndef LOT_DESK_H_INCLUDED
#define LOT_DESK_H_INCLUDED

#include "lot_conn.h"
#include "lot_settings.h"

#include <czmq.h>

typedef struct _lot_desk_t lot_desk_t;

lot_desk_t *lot_desk_new (const lot_settings_t *settings);

void lot_desk_destroy (lot_desk_t **self_p);

//  Holds a winners query (its agency set) until the draw. Returns NULL,
//  or the agency's oldest query when it already had as many held as it
//  may: the front-end closes that one.
lot_conn_t *lot_desk_hold (lot_desk_t *self, lot_conn_t *conn);

//  Lets go of a connection, if it is held.
void lot_desk_forget (lot_desk_t *self, lot_conn_t *conn);

//  The oldest query held, or NULL.
lot_conn_t *lot_desk_first (lot_desk_t *self);

//  Takes the answers from a WINNERS message (msg stays the caller's).
//  Returns 0, or -1 when the desk had them already or msg is malformed.
int lot_desk_set_winners (lot_desk_t *self, zmsg_t *msg);

//  True once the desk has the answers.
bool lot_desk_drawn (lot_desk_t *self);

//  An agency's encoded answer; NULL when its winners do not fit in v1.
zchunk_t *lot_desk_answer (lot_desk_t *self, unsigned agency);

#endif
