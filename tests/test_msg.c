/*  test_msg - messages between actors: what goes in comes out (batches
    item by item), an item cut short or malformed is dropped without
    losing the rest, and a malformed message is -1
*/
#include <string.h>

#include "lot_msg.h"
#include "testutil.h"

#define RECV_TIMEOUT_MS 5000

//  ---------------------------------------------------------------------
//  WORK, RECORDS and RESULT items

typedef struct {
    const char *name;
    char kind;                  //  'W' WORK, 'R' RECORDS, 'S' RESULT: as sent
    lot_work_t work;            //  Its agency, position and follows
    lot_records_t records;
    lot_result_t result;
    const char *body;           //  The chunk, the lines
    const char *raw;            //  Else the item is this frame, as no sender
    size_t size;                //  of ours makes it
    bool malformed;             //  -1 on receipt, and dropped
} s_item_t;

#define RAW(literal) .raw = literal, .size = sizeof literal - 1

static const s_item_t s_items [] = {
    { "work, following", 'W', .work = { .agency = 3, .position = 200, .follows = true },
      .body = "chunk" },
    { "work: a position query", 'W', .work = { .agency = 4 } },
    { "records: the last chunk", 'R', .records = { .agency = 1, .position = 100, .count = 2,
      .last = true }, .body = "a\r\nb\r\n" },
    { "records: more follow", 'R', .records = { .agency = 5, .position = 10, .count = 1 },
      .body = "x\r\n" },
    { "records: a query, following", 'R', .records = { .agency = 2, .query = true,
      .follows = true } },
    //  The store takes whole lines only
    { "records: lines cut short", 'R', .records = { .agency = 5, .position = 10, .count = 1 },
      .body = "x\r\ny", .malformed = true },
    { "records: a kind past a query", 'R', RAW ("\0\0\0\1" "\0\0\0\0" "\0\0\0\1" "\11" "\0"),
      .malformed = true },
    { "result: ok, finished", 'S', .result = { .agency = 1, .ok = true, .count = 50,
      .stored = 150, .finished = true } },
    { "result: refused", 'S', .result = { .agency = 2, .position = 7, .count = 3,
      .reason = "invalid document" } },
};

static void
s_add (zmsg_t *batch, const s_item_t *item)
{
    size_t size = item->body ? strlen (item->body) : 0;
    if (item->raw)
        zmsg_addmem (batch, item->raw, item->size);
    else
    if (item->kind == 'W')
        lot_msg_add_work (batch, item->work.agency, item->work.position, item->work.follows,
                          item->body, size);
    else
    if (item->kind == 'R')
        lot_msg_add_records (batch, &item->records, item->body, size);
    else
        lot_msg_add_result (batch, &item->result);
}

//  Takes the next item off batch as the row's kind; when it read one
//  (1), it holds every field of the row. One dropped keeps no frame.
static int
s_next (zmsg_t *batch, const s_item_t *item)
{
    const char *body = item->body ? item->body : "";
    lot_work_t work;
    lot_records_t records;
    lot_result_t result;
    int rc;
    if (item->kind == 'W') {
        if ((rc = lot_msg_next_work (batch, &work)) == 1) {
            assert_int_equal (work.agency, item->work.agency);
            assert_int_equal (work.position, item->work.position);
            assert_int_equal (work.follows, item->work.follows);
            tu_assert_bytes (work.chunk, work.size, body, strlen (body));
        }
        assert_true ((rc == 1) == (work.frame != NULL));
        zframe_destroy (&work.frame);
    }
    else
    if (item->kind == 'R') {
        if ((rc = lot_msg_next_records (batch, &records)) == 1) {
            assert_int_equal (records.agency, item->records.agency);
            assert_int_equal (records.position, item->records.position);
            assert_int_equal (records.count, item->records.count);
            assert_int_equal (records.last, item->records.last);
            assert_int_equal (records.query, item->records.query);
            assert_int_equal (records.follows, item->records.follows);
            tu_assert_bytes (records.lines, records.size, body, strlen (body));
        }
        assert_true ((rc == 1) == (records.frame != NULL));
        zframe_destroy (&records.frame);
    }
    else
    if ((rc = lot_msg_next_result (batch, &result)) == 1) {
        assert_int_equal (result.agency, item->result.agency);
        assert_int_equal (result.position, item->result.position);
        assert_int_equal (result.count, item->result.count);
        assert_int_equal (result.stored, item->result.stored);
        assert_int_equal (result.query, item->result.query);
        assert_int_equal (result.ok, item->result.ok);
        assert_int_equal (result.finished, item->result.finished);
        assert_string_equal (result.reason, item->result.reason ? item->result.reason : "");
        lot_msg_result_free (&result);
        assert_null (result.reason);
    }
    return rc;
}

//  A batch of each kind holds its rows in turn, each followed by every
//  cut of itself shorter than its header: the cuts and the malformed
//  items are -1 and gone, and every item after them still reads.
static void
test_items (void **state)
{
    size_t rows = sizeof s_items / sizeof *s_items;
    for (const char *kind = "WRS"; *kind; kind++) {
        zmsg_t *batch = zmsg_new ();
        s_add (batch, &(s_item_t) { .kind = *kind });      //  Its header alone
        zframe_t *empty = zmsg_pop (batch);
        size_t header = zframe_size (empty);
        zframe_destroy (&empty);
        for (size_t i = 0; i < rows; i++)
            if (s_items [i].kind == *kind) {
                s_add (batch, &s_items [i]);
                zframe_t *whole = zmsg_last (batch);
                for (size_t cut = 0; cut < header; cut++)
                    zmsg_addmem (batch, zframe_data (whole), cut);
            }
        for (size_t i = 0; i < rows; i++)
            if (s_items [i].kind == *kind) {
                tu_case ("%s", s_items [i].name);
                assert_int_equal (s_next (batch, &s_items [i]), s_items [i].malformed ? -1 : 1);
                for (size_t cut = 0; cut < header; cut++) {
                    tu_case ("%s, then cut to %zu bytes", s_items [i].name, cut);
                    assert_int_equal (s_next (batch, &s_items [i]), -1);
                }
            }
        tu_case ("no %c item left", *kind);
        assert_int_equal (s_next (batch, &(s_item_t) { .kind = *kind }), 0);
        zmsg_destroy (&batch);
    }
    tu_case_done ();
}

//  ---------------------------------------------------------------------
//  Between the persister and the coordinator, and on to the front-ends

//  A message of these frames, as another build of an actor could send it.
static zmsg_t *
s_msg (int frames, ...)
{
    zmsg_t *msg = zmsg_new ();
    va_list args;
    va_start (args, frames);
    for (int i = 0; i < frames; i++)
        zmsg_addstr (msg, va_arg (args, const char *));
    va_end (args);
    return msg;
}

//  The winners of two agencies: two documents for the first, none for the
//  second.
static void
s_assert_winners (zmsg_t *winners)
{
    assert_non_null (winners);
    assert_int_equal (zmsg_size (winners), 2);
    assert_true (zframe_streq (zmsg_first (winners), "111\n222\n"));
    assert_int_equal (zframe_size (zmsg_next (winners)), 0);
}

//  A command is its first frame, exactly; the rest is left.
static void
test_commands (void **state)
{
    const struct {
        const char *frame;
        lot_msg_command_t command;
    } cases [] = {
        { LOT_MSG_STATUS, LOT_MSG_CMD_STATUS },
        { LOT_MSG_DRAW, LOT_MSG_CMD_DRAW },
        { LOT_MSG_DRAWN, LOT_MSG_CMD_DRAWN },
        //  Unknown, a prefix, one longer, a topic of the PUB socket, nothing
        { "STATU", LOT_MSG_CMD_UNKNOWN }, { "DRAWNX", LOT_MSG_CMD_UNKNOWN },
        { LOT_MSG_WINNERS, LOT_MSG_CMD_UNKNOWN }, { "", LOT_MSG_CMD_UNKNOWN },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_case ("command \"%s\"", cases [i].frame);
        zmsg_t *msg = s_msg (2, cases [i].frame, "rest");
        assert_int_equal (lot_msg_pop_command (msg), cases [i].command);
        assert_int_equal (zmsg_size (msg), 1);
        zmsg_destroy (&msg);
    }
    tu_case_done ();
    zmsg_t *empty = zmsg_new ();
    assert_int_equal (lot_msg_pop_command (empty), LOT_MSG_CMD_UNKNOWN);
    zmsg_destroy (&empty);
    assert_int_equal (lot_msg_pop_command (NULL), LOT_MSG_CMD_UNKNOWN);
}

//  Receives a message on socket; its command must be command.
static zmsg_t *
s_recv (zsock_t *socket, lot_msg_command_t command)
{
    zmsg_t *msg = zmsg_recv (socket);
    assert_non_null (msg);
    assert_int_equal (lot_msg_pop_command (msg), command);
    return msg;
}

//  Receives a DRAWN and checks its detail, and its winners when drawn.
static void
s_expect_drawn (zsock_t *receiver, const char *detail_want, bool drawn)
{
    zmsg_t *msg = s_recv (receiver, LOT_MSG_CMD_DRAWN);
    char *detail;
    zmsg_t *winners;
    assert_int_equal (lot_msg_recv_drawn (msg, 2, &detail, &winners), 0);
    assert_string_equal (detail, detail_want);
    if (drawn)
        s_assert_winners (winners);
    else
        assert_null (winners);
    zstr_free (&detail);
    zmsg_destroy (&winners);
    zmsg_destroy (&msg);
}

//  STATUS and DRAW between the coordinator's ROUTER and a persister's
//  DEALER; DRAW, DRAWN and WINNERS over a pair.
static void
test_over_sockets (void **state)
{
    zsock_t *router = zsock_new_router ("inproc://test-msg-draw");
    zsock_t *dealer = zsock_new_dealer ("inproc://test-msg-draw");
    zsock_t *receiver = zsock_new_pair ("@inproc://test-msg-pair");
    zsock_t *sender = zsock_new_pair (">inproc://test-msg-pair");
    zsock_t *sockets [] = { router, dealer, receiver, sender };
    for (size_t i = 0; i < 4; i++) {
        assert_non_null (sockets [i]);
        zsock_set_rcvtimeo (sockets [i], RECV_TIMEOUT_MS);
    }
    //  DRAW reaches the persister that spoke last, by its routing id; with
    //  no routing id, on any other socket
    bool finished [3] = { false, true, false };
    assert_int_equal (lot_msg_send_status (dealer, finished, 2), 0);
    zmsg_t *msg = zmsg_recv (router);
    assert_non_null (msg);
    zframe_t *routing_id = zmsg_pop (msg);
    assert_int_equal (lot_msg_pop_command (msg), LOT_MSG_CMD_STATUS);
    zmsg_destroy (&msg);
    assert_int_equal (lot_msg_send_draw (router, routing_id), 0);
    assert_non_null (routing_id);                   //  Still the caller's
    zframe_destroy (&routing_id);
    assert_int_equal (lot_msg_send_draw (sender, NULL), 0);
    zsock_t *to [] = { dealer, receiver };
    for (size_t i = 0; i < 2; i++) {
        msg = s_recv (to [i], LOT_MSG_CMD_DRAW);
        assert_int_equal (zmsg_size (msg), 0);
        zmsg_destroy (&msg);
    }
    //  A draw done: the winners are taken
    zmsg_t *winners = zmsg_new ();
    zmsg_addstr (winners, "111\n222\n");
    zmsg_addstr (winners, "");
    assert_int_equal (lot_msg_send_drawn (sender, "3 bets, 2 winners", &winners), 0);
    assert_null (winners);
    s_expect_drawn (receiver, "3 bets, 2 winners", true);
    //  A draw that failed says why, and has no winners
    assert_int_equal (lot_msg_send_drawn (sender, "cannot read the bets file", NULL), 0);
    s_expect_drawn (receiver, "cannot read the bets file", false);
    //  As the persister sent them before lot_msg: ok "1", or a u32 0
    assert_int_equal (zsock_send (sender, "ssssz", LOT_MSG_DRAWN, "1", "old",
                                  "111\n222\n"), 0);
    s_expect_drawn (receiver, "old", true);
    assert_int_equal (zsock_send (sender, "s4s", LOT_MSG_DRAWN, 0, "old failure"), 0);
    s_expect_drawn (receiver, "old failure", false);

    //  WINNERS goes out as a copy, to be said again, and reads back; the
    //  frames read the same in turn as built, each agency's documents and
    //  how many, and nothing after the last.
    zmsg_t *built = lot_msg_winners_new ();
    lot_msg_winners_add (built, "111\n222\n", 8);
    lot_msg_winners_add (built, NULL, 0);
    s_assert_winners (built);                       //  The same frames as DRAWN's
    assert_int_equal (lot_msg_send_winners (sender, built), 0);
    s_assert_winners (built);                       //  Kept, to say again
    assert_int_equal (lot_msg_send_winners (sender, NULL), -1);
    msg = zmsg_recv (receiver);
    assert_non_null (msg);
    zmsg_t *received;
    assert_int_equal (lot_msg_recv_winners (msg, 2, &received), 0);
    s_assert_winners (received);
    const struct {
        const char *documents;          //  NULL: past the last
        size_t count;
    } cases [] = {
        { .documents = "111\n222\n", .count = 2 }, { .documents = "" }, { NULL },
    };
    zmsg_t *both [] = { built, received };
    for (size_t i = 0; i < 2; i++) {
        size_t size = 99;
        const char *documents = lot_msg_winners_first (both [i], &size);
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            tu_case ("%s, agency %zu", i ? "received" : "built", c + 1);
            if (cases [c].documents) {
                assert_non_null (documents);
                tu_assert_bytes (documents, size, cases [c].documents,
                                 strlen (cases [c].documents));
                assert_int_equal (lot_msg_winners_count (documents, size), cases [c].count);
            }
            else {
                assert_null (documents);
                assert_int_equal (size, 0);
            }
            documents = lot_msg_winners_next (both [i], &size);
        }
    }
    tu_case_done ();
    zmsg_destroy (&received);
    zmsg_destroy (&msg);
    zmsg_destroy (&built);
    for (size_t i = 0; i < 4; i++)
        zsock_destroy (&sockets [i]);
}

//  A DRAWN (after its command) or a WINNERS that is not one is -1, with
//  nothing kept.
static void
test_malformed_draws (void **state)
{
    const struct {
        const char *name;
        bool drawn;                 //  DRAWN, else WINNERS
        zmsg_t *msg;
    } cases [] = {
        //  The agencies are 2
        { "DRAWN, too few agencies", true, s_msg (3, "1", "too few", "1\n") },
        { "DRAWN, too many agencies", true, s_msg (5, "1", "too many", "1\n", "", "") },
        { "DRAWN, no newline", true, s_msg (4, "1", "no newline", "1\n", "2") },
        { "DRAWN, no detail", true, s_msg (1, "1") },
        { "DRAWN, nothing", true, zmsg_new () },
        { "DRAWN, no message", true, NULL },
        { "WINNERS, another topic", false, s_msg (3, LOT_MSG_DRAWN, "1\n", "") },
        { "WINNERS, too few agencies", false, s_msg (2, LOT_MSG_WINNERS, "1\n") },
        { "WINNERS, too many agencies", false, s_msg (4, LOT_MSG_WINNERS, "1\n", "", "") },
        { "WINNERS, no newline", false, s_msg (3, LOT_MSG_WINNERS, "1\n", "2") },
        { "WINNERS, nothing", false, zmsg_new () },
        { "WINNERS, no message", false, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_case ("%s", cases [i].name);
        char *detail = "untouched";
        zmsg_t *winners = (zmsg_t *) &detail;       //  Must be reset
        zmsg_t *msg = cases [i].msg;
        if (cases [i].drawn) {
            assert_int_equal (lot_msg_recv_drawn (msg, 2, &detail, &winners), -1);
            assert_null (detail);
        }
        else
            assert_int_equal (lot_msg_recv_winners (msg, 2, &winners), -1);
        assert_null (winners);
        zmsg_destroy (&msg);
    }
    tu_case_done ();
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_teardown (test_items, tu_case_teardown),
        cmocka_unit_test_teardown (test_commands, tu_case_teardown),
        cmocka_unit_test_teardown (test_over_sockets, tu_case_teardown),
        cmocka_unit_test_teardown (test_malformed_draws, tu_case_teardown),
    };
    return cmocka_run_group_tests_name ("msg", tests, NULL, NULL);
}
