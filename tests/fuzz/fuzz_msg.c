/*  fuzz_msg - lot_msg's readers on any frames, as if from another actor

    In distributed mode the messages between actors come over TCP: a
    buggy or stale peer must not crash or corrupt an actor, nor make it
    leak. The input is a kind byte, then frames, each a big-endian u16
    length and its bytes (the last one cut where the input ends).
*/
#include "fuzz.h"
#include "lot_msg.h"

#include <assert.h>
#include <string.h>

#define S_AGENCIES 5

static zmsg_t *
s_frames (const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    while (size >= 2) {
        size_t length = (size_t) data [0] << 8 | data [1];
        data += 2, size -= 2;
        length = length < size ? length : size;
        zmsg_addmem (msg, data, length);
        data += length, size -= length;
    }
    return msg;
}

//  A batch of WORK (kind 0), RECORDS (1) or RESULT (2), read to its end.
static void
s_batch (zmsg_t *msg, uint8_t kind)
{
    zframe_t *route = lot_msg_take_route (msg);
    lot_work_t work;
    lot_records_t records;
    lot_result_t result;
    size_t largest = 0;
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg))
        largest = zframe_size (frame) > largest ? zframe_size (frame) : largest;
    int rc;
    if (kind == 0)
        while ((rc = lot_msg_next_work (msg, &work)) != 0)
            if (rc == 1) {
                const uint8_t *start = zframe_data (work.frame);
                assert (work.chunk >= start
                    &&  work.chunk + work.size == start + zframe_size (work.frame));
                zframe_destroy (&work.frame);
            }
    if (kind == 1)
        while ((rc = lot_msg_next_records (msg, &records)) != 0)
            if (rc == 1) {
                const uint8_t *start = zframe_data (records.frame);
                assert (!(records.query && records.last));
                assert (records.lines + records.size == start + zframe_size (records.frame));
                assert (!records.size || records.lines [records.size - 1] == '\n');
                zframe_destroy (&records.frame);
            }
    if (kind == 2)
        while ((rc = lot_msg_next_result (msg, &result)) != 0)
            if (rc == 1) {
                assert (strlen (result.reason) <= largest);
                //  Sent on, it reads back the same: the digest too
                zmsg_t *again = lot_msg_new_routed (NULL);
                lot_msg_add_result (again, &result);
                lot_result_t back;
                assert (lot_msg_next_result (again, &back) == 1);
                assert (back.stored == result.stored && back.finished == result.finished
                        && memcmp (back.digest, result.digest, LOT_DIGEST_SIZE) == 0);
                lot_msg_result_free (&back);
                zmsg_destroy (&again);
                lot_msg_result_free (&result);
            }
    assert (zmsg_size (msg) == 0);
    zframe_destroy (&route);
}

//  Each agency's documents read by agency lie in its frame and end in a
//  newline (or there are none); no agency past the last.
static void
s_winners (zmsg_t *winners)
{
    if (!winners)
        return;
    assert (zmsg_size (winners) == S_AGENCIES);
    size_t size;
    long walked = 0;
    for (const char *documents = lot_msg_winners_first (winners, &size); documents;
         documents = lot_msg_winners_next (winners, &size), walked++) {
        assert (!size || documents [size - 1] == '\n');
        assert (lot_msg_winners_count (documents, size) <= size);
    }
    assert (walked == S_AGENCIES && size == 0);
    zmsg_destroy (&winners);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t kind = data [0] % 7;
    zmsg_t *msg = s_frames (data + 1, size - 1);
    bool finished [S_AGENCIES + 2] = { false };
    char *detail = NULL;
    zmsg_t *winners = NULL;
    if (kind <= 2)
        s_batch (msg, kind);
    else
    if (kind == 3) {
        assert (lot_msg_recv_status (msg, finished, S_AGENCIES) >= -1);
        assert (!finished [0] && !finished [S_AGENCIES + 1]);
    }
    else
    if (kind == 4) {
        if (lot_msg_recv_drawn (msg, S_AGENCIES, &detail, &winners) == 0)
            assert (detail);
        else
            assert (!detail && !winners);
        free (detail);
    }
    else
    if (kind == 5) {
        if (lot_msg_recv_winners (msg, S_AGENCIES, &winners) == 0)
            assert (winners);
    }
    else {
        lot_msg_command_t command = lot_msg_pop_command (msg);
        assert (command >= LOT_MSG_CMD_UNKNOWN && command <= LOT_MSG_CMD_DRAWN);
    }
    s_winners (winners);
    zmsg_destroy (&msg);
    return 0;
}
