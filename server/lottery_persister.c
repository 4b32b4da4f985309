/*  lottery-persister - the one owner of the bets file, as its own process  */
#include "lot_server.h"
#include "lot_persister.h"

int
main (int argc, char *argv [])
{
    static const lot_server_part_t parts [] = {
        { .name = "persister", .actor = lot_persister_actor },
    };
    return lot_server_run (argc, argv, "lottery-persister", LOT_MODE_DISTRIBUTED, parts, 1);
}
