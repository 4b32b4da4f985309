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

//  Decodes and validates a chunk into bets-file lines, appended to *lines
//  (grown as needed). Returns NULL when the chunk is valid, else a reason
//  and *used as it was.
//  Sets *count from the chunk's header whenever the header decodes.
const char *lot_handler_convert (const uint8_t *chunk, size_t size,
                                 unsigned max_agency, char **lines,
                                 size_t *capacity, size_t *used,
                                 unsigned *agency, bool *last, unsigned *count);

#endif
