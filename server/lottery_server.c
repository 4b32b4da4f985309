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
        { .name = "persister", .actor = lot_persister_actor },
        { .name = "coordinator", .actor = lot_coordinator_actor },
        { .name = "broker", .actor = lot_broker_actor },
        { .name = "handler", .actor = lot_handler_actor, .replicated = true },
        { .name = "frontend", .actor = lot_frontend_actor, .agencies = true },
    };
    return lot_server_run (argc, argv, "lottery-server", LOT_MODE_EMBEDDED,
                           parts, sizeof parts / sizeof parts [0]);
}
