/*  lot_msg - the messages actors send each other  */
#include "lot_msg.h"

#include <inttypes.h>

char *
lot_msg_id_key (uint64_t id, char *key)
{
    snprintf (key, LOT_MSG_KEY_SIZE, "%" PRIu64, id);
    return key;
}

int
lot_msg_send_work (void *dest, uint64_t id, uint64_t watermark,
                   const void *chunk, size_t size)
{
    return zsock_send (dest, "88b", id, watermark, chunk, size);
}

int
lot_msg_recv_work (void *source, uint64_t *id, uint64_t *watermark,
                   zframe_t **chunk)
{
    *chunk = NULL;
    if (zsock_recv (source, "88f", id, watermark, chunk) || !*chunk) {
        zframe_destroy (chunk);
        return -1;
    }
    return 0;
}

int
lot_msg_send_records (void *dest, uint64_t id, uint64_t watermark,
                      uint32_t agency, bool last, uint32_t count,
                      const void *lines, size_t size)
{
    return zsock_send (dest, "88444b", id, watermark, agency, (uint32_t) last,
                       count, lines, size);
}

int
lot_msg_recv_records (void *source, lot_records_t *records)
{
    uint32_t flag = 0;
    records->lines = NULL;
    if (zsock_recv (source, "88444f", &records->id, &records->watermark,
                    &records->agency, &flag,
                    &records->count, &records->lines) || !records->lines) {
        zframe_destroy (&records->lines);
        return -1;
    }
    records->last = flag;
    return 0;
}

int
lot_msg_send_result (void *dest, uint64_t id, bool ok, uint32_t count,
                     const char *reason)
{
    return zsock_send (dest, "844s", id, (uint32_t) ok, count, reason ? reason : "");
}

int
lot_msg_recv_result (void *source, uint64_t *id, bool *ok, uint32_t *count,
                     char **reason)
{
    uint32_t flag = 0;
    *reason = NULL;
    if (zsock_recv (source, "844s", id, &flag, count, reason) || !*reason) {
        zstr_free (reason);
        return -1;
    }
    *ok = flag;
    return 0;
}
