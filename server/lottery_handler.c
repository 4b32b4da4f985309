/*  lottery-handler - one chunk handler (start as many as the load needs), as its own process  */
#include "lot_server.h"
#include "lot_handler.h"

int
main (int argc, char *argv [])
{
    static const lot_server_part_t parts [] = {
        { .name = "handler", .actor = lot_handler_actor },
    };
    return lot_server_run (argc, argv, "lottery-handler", LOT_MODE_DISTRIBUTED, parts, 1);
}
