/*  lot_requests - an agency connection's requests, framed from its bytes

    What a connection's bytes ask for, in the order they came: a winners
    query ('W'), a v2 hello ('H', answered 'S' once the persister says how
    far the agency is stored), the chunks of an upload (v1 after 'B', v2
    numbered), a health check ('P'). Each complete one goes where it is
    answered: the pipeline (chunks and position queries), the winners
    desk, or the responder (refusals, the ping's 'O'); who may speak for
    which agency is the gate's to say. docs/protocol.md has the rules.
*/
#ifndef LOT_REQUESTS_H_INCLUDED
#define LOT_REQUESTS_H_INCLUDED

#include "lot_conn.h"
#include "lot_conns.h"
#include "lot_desk.h"
#include "lot_gate.h"
#include "lot_pipeline.h"
#include "lot_responder.h"
#include "lot_settings.h"

typedef struct _lot_requests_t lot_requests_t;

//  The parts stay the caller's.
lot_requests_t *lot_requests_new (const lot_settings_t *settings, lot_conns_t *conns,
                                  lot_pipeline_t *pipeline, lot_desk_t *desk,
                                  lot_responder_t *responder, lot_gate_t *gate);

void lot_requests_destroy (lot_requests_t **self_p);

//  Takes as many of the connection's requests as are whole and have room
//  in the pipeline (a v2 upload MAX_IN_FLIGHT chunks, anything else one
//  item at a time); the rest wait in its buffer.
void lot_requests_process (lot_requests_t *self, lot_conn_t *conn);

#endif
