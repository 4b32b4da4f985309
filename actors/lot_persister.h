/*  lot_persister - the one owner of the bets file

    Pulls RECORDS from the handlers and appends them to the bets file,
    several chunks per write and per fdatasync (group commit). Only once a
    chunk is durable does it log `apuesta_recibida`, push an ok RESULT to
    the front-end and, for an agency's 'L' chunk, tell the coordinator
    DONE. A failed write is cut back off the file and every chunk of that
    write is rejected: all or nothing per chunk. Several handlers may
    deliver one agency's chunks out of order: a chunk that comes before the
    bets ahead of it, and that the front-end sent while an earlier chunk
    of its connection was unanswered, waits unanswered (a bounded number
    of them) until those bets are stored. It runs the draw's read of the
    file when the coordinator asks (DRAW), since it owns the file.
*/
#ifndef LOT_PERSISTER_H_INCLUDED
#define LOT_PERSISTER_H_INCLUDED

#include <czmq.h>

//  The actor; args is the const lot_settings_t *.
void lot_persister_actor (zsock_t *pipe, void *args);

#endif
