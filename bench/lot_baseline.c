/*  lottery-baseline - the smallest honest server of protocol v1

    The yardstick of make bench: what one thread and epoll do with the
    same protocol, the same bet rules (lot_convert_chunk) and the same
    durability as our server, and nothing more. Each epoll round is a
    group commit: the lines of every chunk that arrived whole in it go to
    the bets file in one write and one fdatasync, and only then is each
    chunk answered, 'O' or 'E' (a failed write stores none of them).
    Winners queries are held until AGENCIES agencies have stored their
    last chunk; the draw then reads the bets file back, as our persister
    does (the bets file, its commits and the draw: lot_ledger). No v2, no
    health check, no journal, no defences against hostile peers: a v1
    client is trusted to wait for each answer.

    Settings as lottery-server's (config.ini, then the environment); it
    uses SERVER_PORT, SERVER_LISTEN_BACKLOG, AGENCIES, BETS_FILE,
    BETS_FSYNC and MAX_CHUNK_BYTES. Stops on SIGTERM or SIGINT.
*/
#include "lot_bet.h"
#include "lot_codec.h"
#include "lot_ledger.h"
#include "lot_log.h"
#include "lot_settings.h"

#include <czmq.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROGRAM "lottery-baseline"
#define EVENTS_MAX 256
#define USAGE \
    "The baseline of make bench: protocol v1 from one thread. Reads\n" \
    "config.ini unless --config is given; SERVER_PORT, SERVER_LISTEN_BACKLOG,\n" \
    "AGENCIES, BETS_FILE, BETS_FSYNC and MAX_CHUNK_BYTES override it.\n"

static volatile sig_atomic_t s_stopped;

typedef struct {
    int fd;
    void *handle;               //  Its place in the server's list
    uint8_t tag;                //  'B' or 'W' once the first byte came
    uint8_t *data;              //  Bytes received, not yet answered
    size_t size;
    size_t chunk_size;          //  The chunk in this round's commit
    const char *reason;         //  Why it is refused, or NULL
    unsigned agency;            //  The chunk's, or the one asked about
    bool last;                  //  The chunk is tagged 'L'
    bool asked;                 //  A whole winners query came
} s_conn_t;

typedef struct {
    lot_settings_t *settings;
    int listener;
    int epoll;
    lot_ledger_t *ledger;       //  The bets file, its commits, the draw
    zlistx_t *conns;            //  Every connection (owns them)
    zlistx_t *round;            //  Those with a chunk in the round
} self_t;

static void
s_conn_destroy (s_conn_t **self_p)
{
    if (*self_p) {
        s_conn_t *self = *self_p;
        close (self->fd);
        free (self->data);
        free (self);
        *self_p = NULL;
    }
}

static void
s_conn_consume (s_conn_t *self, size_t size)
{
    memmove (self->data, self->data + size, self->size - size);
    self->size -= size;
}

//  Sends all of it; a peer that reads slowly is waited for.
static int
s_conn_send (s_conn_t *self, const void *data, size_t size)
{
    const uint8_t *next = data;
    while (size > 0) {
        ssize_t sent = send (self->fd, next, size, MSG_NOSIGNAL);
        if (sent > 0) {
            next += sent;
            size -= (size_t) sent;
        }
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            poll (&(struct pollfd) { .fd = self->fd, .events = POLLOUT }, 1, -1);
        else
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        zlistx_destroy (&self->round);
        zlistx_destroy (&self->conns);
        lot_ledger_destroy (&self->ledger);
        if (self->epoll >= 0)
            close (self->epoll);
        if (self->listener >= 0)
            close (self->listener);
        lot_settings_destroy (&self->settings);
        free (self);
        *self_p = NULL;
    }
}

static int
s_self_listen (self_t *self)
{
    const lot_settings_t *settings = self->settings;
    self->listener = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    struct sockaddr_in address = {
        .sin_family = AF_INET, .sin_port = htons ((uint16_t) settings->port),
        .sin_addr.s_addr = htonl (INADDR_ANY)
    };
    socklen_t size = sizeof address;
    if (self->listener < 0
    ||  setsockopt (self->listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on)
    ||  bind (self->listener, (struct sockaddr *) &address, sizeof address)
    ||  listen (self->listener, (int) settings->listen_backlog)
    ||  getsockname (self->listener, (struct sockaddr *) &address, &size))
        return -1;
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl (self->epoll, EPOLL_CTL_ADD, self->listener, &event))
        return -1;
    lot_log_info ("action: escuchar | result: success | port: %d", ntohs (address.sin_port));
    return 0;
}

static self_t *
s_self_new (const char *config_file)
{
    char *error = NULL;
    lot_settings_t *settings = lot_settings_new (LOT_MODE_EMBEDDED, config_file, &error);
    if (!settings) {
        lot_log_error ("action: config | result: fail | reason: %s",
                       error ? error : "out of memory");
        free (error);
        return NULL;
    }
    lot_log_set_level (settings->logging_level);
    self_t *self = calloc (1, sizeof *self);
    assert (self);
    self->settings = settings;
    self->listener = -1;
    self->epoll = epoll_create1 (EPOLL_CLOEXEC);
    self->conns = zlistx_new ();
    self->round = zlistx_new ();
    assert (self->conns && self->round);
    zlistx_set_destructor (self->conns, (czmq_destructor *) s_conn_destroy);
    self->ledger = lot_ledger_new (settings);
    if (!self->ledger)
        s_self_destroy (&self);
    else
    if (self->epoll < 0 || s_self_listen (self)) {
        lot_log_error ("action: escuchar | result: fail | port: %ld | reason: %s",
                       settings->port, strerror (errno));
        s_self_destroy (&self);
    }
    return self;
}

static void
s_self_close (self_t *self, s_conn_t *conn)
{
    zlistx_delete (self->conns, conn->handle);
}

static void
s_self_accept (self_t *self)
{
    int fd;
    size_t capacity = 1 + (size_t) self->settings->max_chunk_bytes;
    while ((fd = accept4 (self->listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        s_conn_t *conn = calloc (1, sizeof *conn);
        uint8_t *data = malloc (capacity);
        assert (conn && data);
        *conn = (s_conn_t) { .fd = fd, .data = data };
        conn->handle = zlistx_add_end (self->conns, conn);
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = conn };
        if (epoll_ctl (self->epoll, EPOLL_CTL_ADD, fd, &event))
            s_self_close (self, conn);
    }
}

//  'E' with a reason; the connection closes when framing is lost.
static void
s_self_refuse (self_t *self, s_conn_t *conn, const char *reason, bool close)
{
    uint8_t answer [LOT_ANSWER_MAX];
    size_t size = lot_codec_error_encode (answer, sizeof answer, reason);
    if (s_conn_send (conn, answer, size) || close)
        s_self_close (self, conn);
}

static void
s_self_answer_winners (self_t *self, s_conn_t *conn)
{
    size_t size;
    const uint8_t *answer = lot_ledger_answer (self->ledger, conn->agency, &size);
    if (answer)
        s_conn_send (conn, answer, size);
    s_self_close (self, conn);
}

//  A winners query: answered now after the draw, else held.
static void
s_self_query (self_t *self, s_conn_t *conn)
{
    lot_span_t agency;
    size_t total;
    lot_codec_status_t status = lot_codec_query_measure (conn->data, conn->size, &agency,
                                                         &total);
    if (status == LOT_CODEC_INCOMPLETE)
        return;
    if (status == LOT_CODEC_INVALID
    ||  lot_bet_parse_agency (agency, (unsigned) self->settings->agencies,
                              &conn->agency)) {
        lot_log_error ("action: consulta_ganadores | result: fail | reason: unknown agency");
        s_self_close (self, conn);
        return;
    }
    conn->asked = true;
    if (lot_ledger_drawn (self->ledger))
        s_self_answer_winners (self, conn);
}

//  A whole chunk is checked and formatted into the round's lines.
static void
s_self_chunk (self_t *self, s_conn_t *conn)
{
    const char *reason;
    lot_codec_status_t status = lot_codec_chunk_measure (
        conn->data, conn->size, (size_t) self->settings->max_chunk_bytes,
        &conn->chunk_size, &reason);
    if (status == LOT_CODEC_INVALID)
        s_self_refuse (self, conn, reason, true);
    if (status != LOT_CODEC_COMPLETE)
        return;
    conn->reason = lot_ledger_add (self->ledger, conn->data, conn->chunk_size,
                                   &conn->agency, &conn->last);
    zlistx_add_end (self->round, conn);
}

static void
s_self_read (self_t *self, s_conn_t *conn)
{
    size_t room = 1 + (size_t) self->settings->max_chunk_bytes - conn->size;
    ssize_t got = recv (conn->fd, conn->data + conn->size, room, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (got <= 0) {
        s_self_close (self, conn);
        return;
    }
    conn->size += (size_t) got;
    if (!conn->tag) {
        conn->tag = conn->data [0];
        //  'B' is all of its message; 'W' begins the query it tags
        if (conn->tag != LOT_TAG_WINNERS)
            s_conn_consume (conn, 1);
    }
    if (conn->tag == LOT_TAG_BETS)
        s_self_chunk (self, conn);
    else
    if (conn->tag == LOT_TAG_WINNERS && !conn->asked)
        s_self_query (self, conn);
    else
    if (!conn->asked)
        s_self_refuse (self, conn, "unknown message tag", true);
}

//  The group commit, then every chunk of the round is answered; the
//  draw when the last agency has finished.
static void
s_self_commit (self_t *self)
{
    if (zlistx_size (self->round) == 0)
        return;
    const char *failure = lot_ledger_commit (self->ledger);
    for (s_conn_t *conn = zlistx_first (self->round); conn; conn = zlistx_next (self->round)) {
        const char *reason = conn->reason ? conn->reason : failure;
        s_conn_consume (conn, conn->chunk_size);
        if (!reason && conn->last)
            lot_ledger_finish (self->ledger, conn->agency);
        uint8_t ok = LOT_TAG_OK;
        if (reason)
            s_self_refuse (self, conn, reason, false);
        else
        if (s_conn_send (conn, &ok, 1))
            s_self_close (self, conn);
    }
    zlistx_purge (self->round);
    if (lot_ledger_draw (self->ledger)) {
        s_conn_t *conn = zlistx_first (self->conns);
        while (conn) {
            s_conn_t *next = zlistx_next (self->conns);
            if (conn->asked)
                s_self_answer_winners (self, conn);
            conn = next;
        }
    }
}

static int
s_self_run (self_t *self)
{
    struct epoll_event events [EVENTS_MAX];
    while (!s_stopped) {
        int count = epoll_wait (self->epoll, events, EVENTS_MAX, -1);
        if (count < 0 && errno != EINTR) {
            lot_log_error ("action: epoll_wait | result: fail | reason: %s", strerror (errno));
            return 1;
        }
        for (int i = 0; i < count; i++)
            if (events [i].data.ptr)
                s_self_read (self, events [i].data.ptr);
            else
                s_self_accept (self);
        s_self_commit (self);
    }
    return 0;
}

static void
s_on_signal (int signal)
{
    s_stopped = signal;
}

int
main (int argc, char *argv [])
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    const char *config_file;
    int rc = lot_settings_parse_args (argc, argv, USAGE, &config_file);
    if (rc)
        return rc > 0 ? 0 : 2;
    //  No SA_RESTART: epoll_wait returns and the loop sees the flag
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    self_t *self = s_self_new (config_file);
    rc = self ? s_self_run (self) : 1;
    s_self_destroy (&self);
    lot_log_info ("action: exit | result: %s | program: " PROGRAM " | status: %d",
                  rc ? "fail" : "success", rc);
    return rc;
}
