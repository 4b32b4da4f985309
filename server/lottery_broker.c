/*  lottery-broker - the hub front-ends and actors connect to, as its own process  */
#include "lot_server.h"
#include "lot_broker.h"

int
main (int argc, char *argv [])
{
    static const lot_server_part_t parts [] = {
        { .name = "broker", .actor = lot_broker_actor },
    };
    return lot_server_run (argc, argv, "lottery-broker", LOT_MODE_DISTRIBUTED, parts, 1);
}
