/*  lottery-coordinator - counts finished agencies, announces the draw, as its own process  */
#include "lot_server.h"
#include "lot_coordinator.h"

int
main (int argc, char *argv [])
{
    static const lot_server_part_t parts [] = {
        { .name = "coordinator", .actor = lot_coordinator_actor },
    };
    return lot_server_run (argc, argv, "lottery-coordinator", LOT_MODE_DISTRIBUTED, parts, 1);
}
