/*  lot_coordinator - counts finished agencies and announces the draw

    Binds a ROUTER where persisters report DONE (an agency's 'L' chunk is
    stored). When every one of the AGENCIES agencies is done it asks the
    persister for the draw (DRAW), logs `sorteo`, and PUBlishes WINNERS.
    A subscriber that connects late would miss a single announcement, so
    WINNERS is published again every ANNOUNCE_INTERVAL.
*/
#ifndef LOT_COORDINATOR_H_INCLUDED
#define LOT_COORDINATOR_H_INCLUDED

#include <czmq.h>

//  The actor; args is the const lot_settings_t *.
void lot_coordinator_actor (zsock_t *pipe, void *args);

#endif
