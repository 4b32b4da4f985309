/*  lot_persister - the one owner of the bets file

    Pulls RECORDS from the handlers into groups (lib/lot_group.h): several
    chunks per write and per fdatasync, all or nothing per chunk, a chunk
    that comes before the bets ahead of it parked until they are stored.
    Only once a chunk is durable is it logged (apuesta_recibida) and its
    front-end told, in a RESULT, and, once an agency's 'L' chunk is, the
    coordinator, in STATUS (again every ANNOUNCE_INTERVAL, so a coordinator
    that restarts learns it). It runs
    the draw's read of the file when the coordinator asks (DRAW), since it
    owns the file.
*/
#ifndef LOT_PERSISTER_H_INCLUDED
#define LOT_PERSISTER_H_INCLUDED

#include <czmq.h>

//  The actor; args is the const lot_settings_t *.
void lot_persister_actor (zsock_t *pipe, void *args);

#endif
