/*  lot_handler - turns chunks into bets-file lines, all or nothing

    Pulls WORK from the front-end, decodes and validates every bet of the
    chunk, and pushes the chunk's bets-file lines to the persister as one
    RECORDS message. A chunk with any invalid field is answered with a
    failed RESULT straight to the front-end, and nothing of it goes on.
    Handlers hold no state between chunks: start as many as the load needs.
*/
#ifndef LOT_HANDLER_H_INCLUDED
#define LOT_HANDLER_H_INCLUDED

#include "lot_settings.h"

#include <czmq.h>
#include <stdint.h>

//  The actor; args is the const lot_settings_t *.
void lot_handler_actor (zsock_t *pipe, void *args);

#endif
