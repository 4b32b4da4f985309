/*  lot_agency - what an agency does: send its bets, ask for its winners

    Bets mode: the data file's bets go out in chunks over one connection
    (v2: up to batch.window chunks unanswered, answered in order; v1:
    stop-and-wait), and an upload that takes more than two seconds says
    how far it is, at most once a second (`action: progreso`); then a
    second connection asks for the winners and waits for the draw, up to
    winners.timeout; a winners connection that drops is opened again and
    asked again. Single-bet mode: when there is no data file (or it is a
    directory) and NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and NUMERO are
    set, that one bet goes out as the last chunk.

    protocol.version 1 speaks the course's bytes: 'B', then the chunks; a
    drop ends the run. Version 2 opens with 'H', learns from the 'S' how
    many of the agency's bets are stored, and sends the rest as numbered
    chunks; when the connection drops it connects again and goes on from
    what the new 'S' says (the data file is read again from its start). A
    server that never answered 'S' and does not answer this 'H' with one
    speaks v1 only: the run goes on in v1 at once, with a warning line.
    A server silent for server.timeout, while the bets go, is a dropped
    connection.

    Every connection attempt resolves the server's name again and tries
    its addresses in a random order (lot_dial) until one connects: a name
    that stands for several front-ends spreads the agencies over them, and
    a reconnection may land on another one. Each of several addresses has
    2 s to answer, so one whose host is down does not hold the attempt.

    SIGTERM and SIGINT stop any wait: what is open is closed and logged,
    and the run ends with status 0. The signals stay blocked outside the
    waits (ppoll), so none is lost between a check and a blocking call.
*/
#ifndef LOT_AGENCY_H_INCLUDED
#define LOT_AGENCY_H_INCLUDED

#include "lot_client_config.h"

typedef struct _lot_agency_t lot_agency_t;

//  The config must outlive the agency.
lot_agency_t *lot_agency_new (const lot_client_config_t *config);

void lot_agency_destroy (lot_agency_t **self_p);

//  Runs the agency to the end. Returns the exit status: 0 when done (or
//  stopped by a signal), 1 when a connection, the server or the data
//  file failed, 2 when there is nothing valid to send.
int lot_agency_run (lot_agency_t *self);

#endif
