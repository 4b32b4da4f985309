/*  test_port - the front-end's plain TCP port: its events, its outbox, its ids

    lot_port serves the agencies' connections in the front-end's thread.
    These tests drive it as the front-end does (lot_port_next until it
    has nothing, waking on its handle) against real TCP peers on
    loopback, and check what a peer gets byte by byte, and the lines an
    operator reads.
*/
#include "lot_port.h"
#include "lot_log.h"
#include "testutil.h"

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000
#define BLOCK 16384
#define BLOCKS_MAX 2000         //  32 MB: more than loopback's buffers hold

static struct {
    lot_settings_t *settings;
    lot_sockets_t *sockets;
    lot_port_t *port;
} s_rig;

static int
s_setup (void **state)
{
    tu_dir_setup (state);
    char *error = NULL;
    s_rig.settings = lot_settings_new (LOT_MODE_EMBEDDED, NULL, &error);
    assert_non_null (s_rig.settings);
    s_rig.settings->port = 0;
    s_rig.settings->send_timeout = 300;
    s_rig.sockets = lot_sockets_new ("frontend", s_rig.settings);
    lot_log_set_level (LOT_LOG_WARNING);
    s_rig.port = lot_port_new (s_rig.settings, s_rig.sockets, "agencies");
    assert_non_null (s_rig.port);
    return 0;
}

static int
s_teardown (void **state)
{
    lot_log_set_level (LOT_LOG_WARNING);
    lot_port_destroy (&s_rig.port);
    lot_sockets_destroy (&s_rig.sockets);
    lot_settings_destroy (&s_rig.settings);
    lot_log_set_level (LOT_LOG_INFO);
    return tu_dir_teardown (state);
}

//  The port's next event, waiting on its handle as the front-end's
//  poller does, for up to timeout_ms; LOT_PORT_NONE when none came.
static lot_port_kind_t
s_next (lot_port_event_t *event, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    zpoller_t *poller = zpoller_new (lot_port_handle (s_rig.port), NULL);
    lot_port_kind_t kind;
    while ((kind = lot_port_next (s_rig.port, event)) == LOT_PORT_NONE
       &&  zclock_mono () < deadline)
        zpoller_wait (poller, (int) (deadline - zclock_mono ()));
    zpoller_destroy (&poller);
    return kind;
}

//  A peer connected, and the id the port gave it.
static int
s_connect (uint64_t *id)
{
    int fd = tu_connect (lot_port_number (s_rig.port), WAIT_MS);
    assert_true (fd >= 0);
    lot_port_event_t event;
    assert_int_equal (s_next (&event, WAIT_MS), LOT_PORT_OPENED);
    assert_string_equal (event.peer, "127.0.0.1");
    *id = event.id;
    return fd;
}

//  The bytes of block n, each telling where it is.
static void
s_block (uint8_t *block, size_t n)
{
    for (size_t i = 0; i < BLOCK; i++)
        block [i] = (uint8_t) (n * 7 + i);
}

//  Sends blocks to a peer that reads nothing until a write is refused
//  (EAGAIN, asserted); returns how many were taken.
static size_t
s_fill (uint64_t id)
{
    uint8_t block [BLOCK];
    size_t blocks = 0;
    int rc = 0;
    for (; blocks < BLOCKS_MAX && rc == 0; blocks++) {
        s_block (block, blocks);
        rc = lot_port_send (s_rig.port, id, block, BLOCK);
    }
    assert_int_equal (rc, EAGAIN);
    return blocks - 1;
}

//  A connection's life as the front-end sees it, and the lines libzmq's
//  monitor gave for it when a STREAM socket served the port.
static void
test_events (void **state)
{
    lot_log_set_level (LOT_LOG_INFO);
    tu_capture_t capture = tu_capture_begin (1, "log");
    uint64_t id;
    int peer = s_connect (&id);
    lot_port_event_t event;
    int sent = tu_send_all (peer, "B\x01\x02", 3);
    lot_port_kind_t data = s_next (&event, WAIT_MS);
    int answered = lot_port_send (s_rig.port, id, "O", 1);
    close (peer);
    lot_port_event_t closed;
    lot_port_kind_t gone = s_next (&closed, WAIT_MS);
    int after = lot_port_send (s_rig.port, id, "O", 1);
    fflush (stdout);
    char *log = tu_temp_own (tu_capture_end (capture));
    assert_int_equal (sent, 0);
    assert_int_equal (data, LOT_PORT_DATA);
    assert_int_equal (event.id, id);
    assert_int_equal (event.size, 3);
    assert_memory_equal (event.data, "B\x01\x02", 3);
    assert_int_equal (answered, 0);
    assert_int_equal (gone, LOT_PORT_CLOSED);
    assert_int_equal (closed.id, id);
    assert_int_equal (after, EHOSTUNREACH);
    int port = lot_port_number (s_rig.port);
    const char *lines [] = { "ACCEPTED", "DISCONNECTED" };
    for (size_t i = 0; i < 2; i++)
        assert_non_null (strstr (log, tu_temp ("action: zmq_evento | result: success | actor:"
                                               " frontend | socket: agencies | event: %s"
                                               " | endpoint: tcp://127.0.0.1:%d | value: ",
                                               lines [i], port)));
}

//  A peer that reads nothing: the kernel takes what it can, the outbox
//  holds up to 64 KiB more, then a write is refused. Closed from our side,
//  the connection sends every byte it took, in order, then ends; and
//  the close is not reported as the peer leaving.
static void
test_outbox_and_close (void **state)
{
    uint64_t id;
    int peer = s_connect (&id);
    size_t blocks = s_fill (id);
    lot_port_close (s_rig.port, id);
    assert_int_equal (lot_port_send (s_rig.port, id, "O", 1), EHOSTUNREACH);
    //  The peer reads now, while the port runs as the front-end runs it
    uint8_t got [BLOCK], expected [BLOCK];
    size_t received = 0;
    int64_t deadline = zclock_mono () + WAIT_MS * 4;
    lot_port_event_t event;
    while (zclock_mono () < deadline) {
        assert_int_equal (lot_port_next (s_rig.port, &event), LOT_PORT_NONE);
        ssize_t n = recv (peer, got, sizeof got, MSG_DONTWAIT);
        if (n == 0)
            break;
        if (n < 0) {
            //  Until the peer or the port has something
            assert_true (errno == EAGAIN || errno == EWOULDBLOCK);
            struct pollfd ready [] = {
                { .fd = peer, .events = POLLIN },
                { .fd = *lot_port_handle (s_rig.port), .events = POLLIN }
            };
            assert_true (poll (ready, 2, (int) (deadline - zclock_mono ())) >= 0);
            continue;
        }
        for (ssize_t i = 0; i < n; i++, received++) {
            if (received % BLOCK == 0)
                s_block (expected, received / BLOCK);
            assert_int_equal (got [i], expected [received % BLOCK]);
        }
    }
    assert_int_equal (received, blocks * BLOCK);
    assert_int_equal (lot_port_expire (s_rig.port), -1);
    close (peer);
}

//  A peer that never reads and is closed from our side: after
//  SEND_TIMEOUT what still waits is given up, and the peer gets what the
//  kernel had taken, then the end.
static void
test_close_gives_up (void **state)
{
    uint64_t id;
    int peer = s_connect (&id);
    size_t blocks = s_fill (id);
    lot_port_close (s_rig.port, id);
    int64_t left = lot_port_expire (s_rig.port);
    assert_true (left > 0 && left <= s_rig.settings->send_timeout);
    //  Waits for the deadline the port names, as the front-end's loop does
    int64_t deadline = zclock_mono () + WAIT_MS;
    while ((left = lot_port_expire (s_rig.port)) >= 0 && zclock_mono () < deadline)
        zclock_sleep ((int) left);
    assert_int_equal (left, -1);
    struct timeval limit = { .tv_sec = WAIT_MS / 1000 };
    assert_int_equal (setsockopt (peer, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    size_t received = 0;
    uint8_t got [BLOCK];
    ssize_t n;
    while ((n = recv (peer, got, sizeof got, 0)) > 0)
        received += (size_t) n;
    assert_int_equal (n, 0);
    assert_true (received < blocks * BLOCK);
    close (peer);
}

//  A descriptor is used again, an id never: an answer meant for a peer
//  that left finds no one, not the next peer on the same descriptor.
static void
test_ids_not_reused (void **state)
{
    uint64_t first;
    close (s_connect (&first));
    lot_port_event_t event;
    assert_int_equal (s_next (&event, WAIT_MS), LOT_PORT_CLOSED);
    uint64_t second;
    int peer = s_connect (&second);
    assert_int_equal (second & UINT32_MAX, first & UINT32_MAX);
    assert_true (second != first);
    assert_int_equal (lot_port_send (s_rig.port, first, "E", 1), EHOSTUNREACH);
    assert_int_equal (lot_port_send (s_rig.port, second, "O", 1), 0);
    char got;
    assert_int_equal (tu_recv_exact (peer, &got, 1, WAIT_MS), 1);
    assert_int_equal (got, 'O');
    close (peer);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        cmocka_unit_test_setup_teardown (test_events, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_outbox_and_close, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_close_gives_up, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_ids_not_reused, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
