/*  lottery-server - every actor as a thread of one process (embedded)  */
#include "lot_server.h"
#include "lot_broker.h"
#include "lot_coordinator.h"
#include "lot_frontend.h"
#include "lot_handler.h"
#include "lot_persister.h"

int
main (int argc, char *argv [])
{
    static const lot_server_part_t parts [] = {
        { "persister", lot_persister_actor, false },
        { "coordinator", lot_coordinator_actor, false },
        { "broker", lot_broker_actor, false },
        { "handler", lot_handler_actor, true },
        { "frontend", lot_frontend_actor, false },
    };
    return lot_server_run (argc, argv, "lottery-server", LOT_MODE_EMBEDDED,
                           parts, sizeof parts / sizeof parts [0]);
}
