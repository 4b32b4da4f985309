/*  lot_msg - the messages actors send each other  */
#include "lot_msg.h"
#include "lot_codec.h"

typedef enum {
    S_KIND_MORE,
    S_KIND_LAST,
    S_KIND_QUERY
} s_kind_t;

//  Item headers: fixed fields, big-endian, so a batch reads the same on
//  any host of a distributed stack
static void
s_put_u32 (uint8_t **at, uint32_t value)
{
    lot_codec_put_u32 (*at, 4, value);
    *at += 4;
}

static uint32_t
s_get_u32 (const uint8_t **at)
{
    uint32_t value = lot_codec_get_u32 (*at);
    *at += 4;
    return value;
}

//  Adds an item: its header, then its body, in one frame.
static void
s_add_item (zmsg_t *msg, const uint8_t *header, size_t header_size,
            const void *body, size_t size)
{
    zframe_t *frame = zframe_new (NULL, header_size + size);
    memcpy (zframe_data (frame), header, header_size);
    if (size)
        memcpy (zframe_data (frame) + header_size, body, size);
    zmsg_append (msg, &frame);
}

//  Takes the next item off a batch: 1, 0 when none is left, -1 (and the
//  item dropped) when it is shorter than its header.
static int
s_next_item (zmsg_t *msg, size_t header_size, zframe_t **frame)
{
    *frame = zmsg_pop (msg);
    if (!*frame)
        return 0;
    if (zframe_size (*frame) >= header_size)
        return 1;
    zframe_destroy (frame);
    return -1;
}

zmsg_t *
lot_msg_new_routed (zframe_t *route)
{
    zmsg_t *msg = zmsg_new ();
    if (route) {
        zframe_t *copy = zframe_dup (route);
        zmsg_append (msg, &copy);
    }
    return msg;
}

zframe_t *
lot_msg_take_route (zmsg_t *msg)
{
    return zmsg_pop (msg);
}

bool
lot_msg_is_empty (zmsg_t *msg)
{
    return zmsg_size (msg) <= 1;
}

int
lot_msg_send (zmsg_t **msg_p, void *dest)
{
    //  czmq 4.2.1 destroys a message only once it is sent (found by
    //  LeakSanitizer): what was not sent is dropped here
    int rc = zmsg_send (msg_p, dest);
    zmsg_destroy (msg_p);
    return rc;
}

#define S_WORK_HEADER 9

void
lot_msg_add_work (zmsg_t *msg, uint32_t agency, uint32_t position, bool follows,
                  const void *chunk, size_t size)
{
    uint8_t header [S_WORK_HEADER], *at = header;
    s_put_u32 (&at, agency);
    s_put_u32 (&at, position);
    *at = follows;
    s_add_item (msg, header, sizeof header, chunk, size);
}

int
lot_msg_next_work (zmsg_t *msg, lot_work_t *work)
{
    int rc = s_next_item (msg, S_WORK_HEADER, &work->frame);
    if (rc == 1) {
        const uint8_t *at = zframe_data (work->frame);
        work->agency = s_get_u32 (&at);
        work->position = s_get_u32 (&at);
        work->follows = *at++;
        work->chunk = at;
        work->size = zframe_size (work->frame) - S_WORK_HEADER;
    }
    return rc;
}

int
lot_msg_send_work (void *dest, zframe_t *route, uint32_t agency, uint32_t position,
                   bool follows, const void *chunk, size_t size)
{
    zmsg_t *msg = lot_msg_new_routed (route);
    lot_msg_add_work (msg, agency, position, follows, chunk, size);
    return lot_msg_send (&msg, dest);
}

#define S_RECORDS_HEADER 14

void
lot_msg_add_records (zmsg_t *msg, const lot_records_t *records,
                     const void *lines, size_t size)
{
    uint8_t header [S_RECORDS_HEADER], *at = header;
    s_put_u32 (&at, records->agency);
    s_put_u32 (&at, records->position);
    s_put_u32 (&at, records->count);
    *at++ = records->query ? S_KIND_QUERY : records->last ? S_KIND_LAST : S_KIND_MORE;
    *at = records->follows;
    s_add_item (msg, header, sizeof header, lines, size);
}

int
lot_msg_next_records (zmsg_t *msg, lot_records_t *records)
{
    int rc = s_next_item (msg, S_RECORDS_HEADER, &records->frame);
    if (rc != 1)
        return rc;
    const uint8_t *at = zframe_data (records->frame);
    records->agency = s_get_u32 (&at);
    records->position = s_get_u32 (&at);
    records->count = s_get_u32 (&at);
    uint8_t kind = *at++;
    records->query = kind == S_KIND_QUERY;
    records->last = kind == S_KIND_LAST;
    records->follows = *at++;
    records->lines = at;
    records->size = zframe_size (records->frame) - S_RECORDS_HEADER;
    //  The store takes whole lines only: one cut short is no RECORDS a
    //  handler sends, and must not reach it
    if (kind > S_KIND_QUERY
    ||  (records->size && records->lines [records->size - 1] != '\n')) {
        zframe_destroy (&records->frame);
        return -1;
    }
    return 1;
}

int
lot_msg_send_records (void *dest, zframe_t *route, const lot_records_t *records,
                      const void *lines, size_t size)
{
    zmsg_t *msg = lot_msg_new_routed (route);
    lot_msg_add_records (msg, records, lines, size);
    return lot_msg_send (&msg, dest);
}

#define S_RESULT_HEADER (19 + LOT_DIGEST_SIZE)

void
lot_msg_add_result (zmsg_t *msg, const lot_result_t *result)
{
    uint8_t header [S_RESULT_HEADER], *at = header;
    s_put_u32 (&at, result->agency);
    s_put_u32 (&at, result->position);
    s_put_u32 (&at, result->count);
    s_put_u32 (&at, result->stored);
    *at++ = result->query;
    *at++ = result->ok;
    *at++ = result->finished;
    memcpy (at, result->digest, LOT_DIGEST_SIZE);
    const char *reason = result->reason ? result->reason : "";
    s_add_item (msg, header, sizeof header, reason, strlen (reason));
}

int
lot_msg_next_result (zmsg_t *msg, lot_result_t *result)
{
    zframe_t *frame;
    int rc = s_next_item (msg, S_RESULT_HEADER, &frame);
    if (rc != 1)
        return rc;
    const uint8_t *at = zframe_data (frame);
    result->agency = s_get_u32 (&at);
    result->position = s_get_u32 (&at);
    result->count = s_get_u32 (&at);
    result->stored = s_get_u32 (&at);
    result->query = *at++;
    result->ok = *at++;
    result->finished = *at++;
    memcpy (result->digest, at, LOT_DIGEST_SIZE);
    at += LOT_DIGEST_SIZE;
    result->reason = strndup ((const char *) at, zframe_size (frame) - S_RESULT_HEADER);
    zframe_destroy (&frame);
    return result->reason ? 1 : -1;
}

int
lot_msg_send_result (void *dest, zframe_t *route, const lot_result_t *result)
{
    zmsg_t *msg = lot_msg_new_routed (route);
    lot_msg_add_result (msg, result);
    return lot_msg_send (&msg, dest);
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
            uint8_t value [4], *at = value;
            s_put_u32 (&at, (uint32_t) agency);
            zchunk_extend (list, value, sizeof value);
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
        uint32_t agency = lot_codec_get_u32 (data + i);
        if (agency >= 1 && agency <= agencies) {
            finished [agency] = true;
            named++;
        }
    }
    return named;
}

static const char *s_commands [] = {
    [LOT_MSG_CMD_STATUS] = LOT_MSG_STATUS,
    [LOT_MSG_CMD_DRAW] = LOT_MSG_DRAW,
    [LOT_MSG_CMD_DRAWN] = LOT_MSG_DRAWN
};

lot_msg_command_t
lot_msg_pop_command (zmsg_t *msg)
{
    zframe_t *frame = msg ? zmsg_pop (msg) : NULL;
    lot_msg_command_t command = LOT_MSG_CMD_UNKNOWN;
    for (size_t i = 0; frame && i < sizeof s_commands / sizeof *s_commands; i++)
        if (zframe_streq (frame, s_commands [i]))
            command = (lot_msg_command_t) i;
    zframe_destroy (&frame);
    return command;
}

int
lot_msg_send_draw (void *dest, zframe_t *to)
{
    zmsg_t *msg = lot_msg_new_routed (to);
    zmsg_addstr (msg, LOT_MSG_DRAW);
    return lot_msg_send (&msg, dest);
}

//  Moves msg's frames into *winners_p: 0, or -1 (none moved) unless they
//  are one per agency, each empty or ending in a newline, which the
//  front-end's answer encoding relies on.
static int
s_take_winners (zmsg_t *msg, long agencies, zmsg_t **winners_p)
{
    if (agencies < 0 || zmsg_size (msg) != (size_t) agencies)
        return -1;
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg)) {
        size_t size = zframe_size (frame);
        if (size && zframe_data (frame) [size - 1] != '\n')
            return -1;
    }
    *winners_p = zmsg_new ();
    zframe_t *frame;
    while ((frame = zmsg_pop (msg)))
        zmsg_append (*winners_p, &frame);
    return 0;
}

zmsg_t *
lot_msg_winners_new (void)
{
    return zmsg_new ();
}

void
lot_msg_winners_add (zmsg_t *winners, const char *documents, size_t size)
{
    zmsg_addmem (winners, documents, size);
}

//  The documents of a winners frame, or NULL when there is none.
static const char *
s_documents (zframe_t *frame, size_t *size)
{
    if (!frame) {
        *size = 0;
        return NULL;
    }
    *size = zframe_size (frame);
    //  An empty frame may have no data pointer: no winners is not NULL
    return *size ? (const char *) zframe_data (frame) : "";
}

const char *
lot_msg_winners_first (zmsg_t *winners, size_t *size)
{
    return s_documents (zmsg_first (winners), size);
}

const char *
lot_msg_winners_next (zmsg_t *winners, size_t *size)
{
    return s_documents (zmsg_next (winners), size);
}

size_t
lot_msg_winners_count (const char *documents, size_t size)
{
    size_t count = 0;
    for (const char *end = documents + size; documents && documents < end; count++) {
        const char *newline = memchr (documents, '\n', (size_t) (end - documents));
        documents = newline ? newline + 1 : end;
    }
    return count;
}

int
lot_msg_send_drawn (void *dest, const char *detail, zmsg_t **winners_p)
{
    bool drawn = winners_p && *winners_p;
    zmsg_t *msg = drawn ? *winners_p : zmsg_new ();
    if (winners_p)
        *winners_p = NULL;
    zmsg_pushstr (msg, detail);
    zmsg_pushstr (msg, drawn ? "1" : "0");
    zmsg_pushstr (msg, LOT_MSG_DRAWN);
    return lot_msg_send (&msg, dest);
}

int
lot_msg_recv_drawn (zmsg_t *msg, long agencies, char **detail, zmsg_t **winners_p)
{
    *detail = NULL;
    *winners_p = NULL;
    zframe_t *ok = msg ? zmsg_pop (msg) : NULL;
    char *said = msg ? zmsg_popstr (msg) : NULL;
    int rc = -1;
    //  Any ok but "1" is a failed draw: the first persisters sent a u32 0
    if (ok && said)
        rc = zframe_streq (ok, "1") ? s_take_winners (msg, agencies, winners_p) : 0;
    if (rc == 0)
        *detail = said;
    else
        zstr_free (&said);
    zframe_destroy (&ok);
    return rc;
}

int
lot_msg_send_winners (void *dest, zmsg_t *winners)
{
    zmsg_t *msg = winners ? zmsg_dup (winners) : NULL;
    if (!msg)
        return -1;
    zmsg_pushstr (msg, LOT_MSG_WINNERS);
    return lot_msg_send (&msg, dest);
}

int
lot_msg_recv_winners (zmsg_t *msg, long agencies, zmsg_t **winners_p)
{
    *winners_p = NULL;
    zframe_t *topic = msg ? zmsg_pop (msg) : NULL;
    int rc = topic && zframe_streq (topic, LOT_MSG_WINNERS)
           ? s_take_winners (msg, agencies, winners_p) : -1;
    zframe_destroy (&topic);
    return rc;
}
