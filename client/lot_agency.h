/*  lot_agency - what an agency does: send its bets, then ask for its winners

    Bets mode: the data file is checked whole (a bad file never reaches
    the server, not even its good first part), its bets are uploaded
    (lot_upload: v1 or v2, resumed after drops), then a second connection
    asks for the winners and waits for the draw, up to winners.timeout; a
    winners connection that drops is opened again and asked again, a
    loop.period later. Single-bet mode: when there is no data file (or it
    is a directory) and NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO and
    NUMERO are set, that one bet goes out as the last chunk.

    Each conversation ends in one line, success or fail, with the reason
    of the step that failed; connections, their retries and their
    deadlines are the link's (lot_link). SIGTERM and SIGINT stop any wait:
    what is open is closed and logged, and the run ends with status 0.
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
