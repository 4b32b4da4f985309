/*  lottery-frontend - the TCP front-end, as its own process  */
#include "lot_server.h"
#include "lot_frontend.h"

int
main (int argc, char *argv [])
{
    static const lot_server_part_t parts [] = {
        { .name = "frontend", .actor = lot_frontend_actor, .agencies = true },
    };
    return lot_server_run (argc, argv, "lottery-frontend", LOT_MODE_DISTRIBUTED, parts, 1);
}
