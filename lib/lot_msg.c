/*  lot_msg - the messages actors send each other  */
#include "lot_msg.h"

typedef enum {
    S_KIND_MORE,
    S_KIND_LAST,
    S_KIND_QUERY
} s_kind_t;

int
lot_msg_send_work (void *dest, uint32_t agency, uint32_t position, bool follows,
                   const void *chunk, size_t size)
{
    return zsock_send (dest, "444b", agency, position, (uint32_t) follows, chunk, size);
}

int
lot_msg_recv_work (void *source, uint32_t *agency, uint32_t *position,
                   bool *follows, zframe_t **chunk)
{
    uint32_t flag = 0;
    *chunk = NULL;
    if (zsock_recv (source, "444f", agency, position, &flag, chunk) || !*chunk) {
        zframe_destroy (chunk);
        return -1;
    }
    *follows = flag;
    return 0;
}

int
lot_msg_send_records (void *dest, const lot_records_t *records,
                      const void *lines, size_t size)
{
    uint32_t kind = records->query ? S_KIND_QUERY
                  : records->last ? S_KIND_LAST : S_KIND_MORE;
    return zsock_send (dest, "44444b", records->agency, records->position, kind,
                       records->count, (uint32_t) records->follows, lines, size);
}

int
lot_msg_recv_records (void *source, lot_records_t *records)
{
    uint32_t kind = 0, follows = 0;
    records->lines = NULL;
    if (zsock_recv (source, "44444f", &records->agency, &records->position, &kind,
                    &records->count, &follows, &records->lines)
    ||  !records->lines || kind > S_KIND_QUERY) {
        zframe_destroy (&records->lines);
        return -1;
    }
    records->query = kind == S_KIND_QUERY;
    records->last = kind == S_KIND_LAST;
    records->follows = follows;
    return 0;
}

int
lot_msg_send_result (void *dest, const lot_result_t *result)
{
    return zsock_send (dest, "44444s44", result->agency, result->position,
                       (uint32_t) result->query, (uint32_t) result->ok,
                       result->count, result->reason ? result->reason : "",
                       result->stored, (uint32_t) result->finished);
}

int
lot_msg_recv_result (void *source, lot_result_t *result)
{
    uint32_t query = 0, ok = 0, finished = 0;
    result->reason = NULL;
    if (zsock_recv (source, "44444s44", &result->agency, &result->position,
                    &query, &ok, &result->count, &result->reason,
                    &result->stored, &finished)
    ||  !result->reason) {
        zstr_free (&result->reason);
        return -1;
    }
    result->query = query;
    result->ok = ok;
    result->finished = finished;
    return 0;
}

void
lot_msg_result_free (lot_result_t *result)
{
    zstr_free (&result->reason);
}

int
lot_msg_send_status (void *dest, const bool *finished, long agencies)
{
    zchunk_t *list = zchunk_new (NULL, 0);
    for (long agency = 1; agency <= agencies; agency++)
        if (finished [agency]) {
            uint8_t value [4] = { (uint8_t) (agency >> 24), (uint8_t) (agency >> 16),
                                  (uint8_t) (agency >> 8), (uint8_t) agency };
            zchunk_extend (list, value, 4);
        }
    int rc = zsock_send (dest, "sc", LOT_MSG_STATUS, list);
    zchunk_destroy (&list);
    return rc;
}

int
lot_msg_recv_status (zmsg_t *msg, bool *finished, long agencies)
{
    zframe_t *list = zmsg_first (msg);
    if (!list || zframe_size (list) % 4)
        return -1;
    const uint8_t *data = zframe_data (list);
    int named = 0;
    for (size_t i = 0; i < zframe_size (list); i += 4) {
        uint32_t agency = (uint32_t) data [i] << 24 | (uint32_t) data [i + 1] << 16
                        | (uint32_t) data [i + 2] << 8 | data [i + 3];
        if (agency >= 1 && agency <= agencies) {
            finished [agency] = true;
            named++;
        }
    }
    return named;
}
