/*  lot_swarm - many v1 agencies at once: each agency's chunks encoded
    before the clock, then one epoll thread driving them all

    Each agency is a state machine over one non-blocking socket: connect,
    'B' with the first chunk, each next chunk after the 'O' of the one
    before, then after the last a second connection for the winners
    query. Nothing is read or encoded while the clock runs.
*/
#include "lot_swarm.h"
#include "lot_fail.h"
#include "lot_feed.h"
#include "lot_bet.h"
#include "lot_codec.h"

#include <czmq.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENTS_MAX      256
#define SERVERS_MAX     16
#define ANSWER_START    4096        //  Bytes first kept for an answer

typedef struct {
    unsigned id;
    char name [12];                 //  The id in decimal, as sent
    size_t server;                  //  Which of the servers it talks to
    //  Encoded before the clock: 'B', then every chunk, back to back
    uint8_t *packets;
    size_t size;
    size_t capacity;
    size_t *ends;                   //  Where each chunk ends in packets
    size_t ends_capacity;
    size_t chunks;
    uint8_t query [16];             //  'W' and the name
    size_t query_size;
    //  The run
    int fd;                         //  The open connection, or -1
    uint32_t events;                //  What epoll watches it for
    bool winners;                   //  The winners connection, else bets
    bool connected;
    size_t chunk;                   //  The chunk going out or answered next
    const uint8_t *out;             //  What is left to send
    size_t out_size;
    uint8_t *in;                    //  The answer so far
    size_t in_size;
    size_t in_capacity;
    int64_t connect_at;             //  Every time in µs, zclock_usecs
    int64_t sent_at;                //  The chunk awaited went out
} s_agency_t;

struct _lot_swarm_t {
    unsigned agencies;
    unsigned max_amount;
    size_t max_bytes;
    struct sockaddr_storage address [SERVERS_MAX];
    socklen_t address_size [SERVERS_MAX];
    size_t servers;
    s_agency_t *agency;             //  Agency n at [n - 1]
    size_t bets;
    size_t chunks;
    int epoll;
    lot_tally_t *tally;             //  During the run
    lot_verify_t *verify;
    unsigned done;                  //  Agencies answered their winners
};

lot_swarm_t *
lot_swarm_new (unsigned agencies, unsigned max_amount, size_t max_bytes)
{
    lot_swarm_t *self = calloc (1, sizeof *self);
    assert (self);
    self->agencies = agencies;
    self->max_amount = max_amount;
    self->max_bytes = max_bytes;
    self->agency = calloc (agencies, sizeof *self->agency);
    self->epoll = epoll_create1 (EPOLL_CLOEXEC);
    assert (self->agency && self->epoll >= 0);
    for (unsigned i = 0; i < agencies; i++) {
        s_agency_t *agency = &self->agency [i];
        *agency = (s_agency_t) { .id = i + 1, .fd = -1 };
        snprintf (agency->name, sizeof agency->name, "%u", agency->id);
        lot_span_t name = { .data = agency->name, .size = strlen (agency->name) };
        agency->query_size = lot_codec_query_encode (agency->query, sizeof agency->query, name);
    }
    return self;
}

void
lot_swarm_destroy (lot_swarm_t **self_p)
{
    if (*self_p) {
        lot_swarm_t *self = *self_p;
        for (unsigned i = 0; i < self->agencies; i++) {
            s_agency_t *agency = &self->agency [i];
            if (agency->fd >= 0)
                close (agency->fd);
            free (agency->packets);
            free (agency->ends);
            free (agency->in);
        }
        free (self->agency);
        close (self->epoll);
        free (self);
        *self_p = NULL;
    }
}

//  One HOST:PORT, of SIZE bytes, into the next address.
static int
s_swarm_resolve_one (lot_swarm_t *self, const char *server, size_t size)
{
    char host [256], port [16];
    const char *colon = memrchr (server, ':', size);
    size_t port_size = colon ? size - (size_t) (colon - server) - 1 : 0;
    if (!colon || (size_t) (colon - server) >= sizeof host || port_size >= sizeof port
    ||  self->servers == SERVERS_MAX)
        return lot_fail (0, "--server %.*s is not HOST:PORT, or more than %d of them",
                         (int) size, server, SERVERS_MAX);
    snprintf (host, sizeof host, "%.*s", (int) (colon - server), server);
    snprintf (port, sizeof port, "%.*s", (int) port_size, colon + 1);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *addresses;
    int rc = getaddrinfo (host, port, &hints, &addresses);
    if (rc)
        return lot_fail (0, "cannot resolve %.*s: %s", (int) size, server, gai_strerror (rc));
    memcpy (&self->address [self->servers], addresses->ai_addr, addresses->ai_addrlen);
    self->address_size [self->servers++] = addresses->ai_addrlen;
    freeaddrinfo (addresses);
    return 0;
}

int
lot_swarm_resolve (lot_swarm_t *self, const char *servers)
{
    self->servers = 0;
    for (const char *next = servers; ; ) {
        const char *comma = strchr (next, ',');
        size_t size = comma ? (size_t) (comma - next) : strlen (next);
        if (s_swarm_resolve_one (self, next, size))
            return -1;
        if (!comma)
            break;
        next = comma + 1;
    }
    assert (self->servers > 0);         //  Each pass resolved one, or returned
    for (unsigned i = 0; i < self->agencies; i++)
        self->agency [i].server = i % self->servers;
    return 0;
}

//  Room for one more chunk of at most max_bytes, and for its end.
static int
s_agency_reserve (s_agency_t *self, size_t max_bytes)
{
    if (self->size + max_bytes > self->capacity) {
        size_t capacity = (self->size + max_bytes) * 2;
        uint8_t *packets = realloc (self->packets, capacity);
        if (!packets)
            return -1;
        self->packets = packets;
        self->capacity = capacity;
    }
    if (self->chunks == self->ends_capacity) {
        size_t capacity = self->ends_capacity ? self->ends_capacity * 2 : 64;
        size_t *ends = realloc (self->ends, capacity * sizeof *ends);
        if (!ends)
            return -1;
        self->ends = ends;
        self->ends_capacity = capacity;
    }
    return 0;
}

//  Every chunk of the agency's file, as our client cuts them: at most
//  max_amount bets and max_bytes bytes, the last tagged 'L' (empty when
//  the file is).
static int
s_swarm_encode_agency (lot_swarm_t *self, s_agency_t *agency, const char *path)
{
    lot_feed_file_t *source = lot_feed_file_new (path);
    if (!source)
        return lot_fail (agency->id, "%s: %s", path, strerror (errno));
    lot_feed_t *feed = lot_feed_new (lot_feed_file_next, source);
    assert (feed);
    lot_span_t name = { .data = agency->name, .size = strlen (agency->name) };
    int rc = s_agency_reserve (agency, 1 + self->max_bytes);
    if (rc == 0)
        agency->packets [agency->size++] = LOT_TAG_BETS;
    for (bool last = false; rc == 0 && !last; ) {
        lot_chunk_writer_t writer;
        if (s_agency_reserve (agency, self->max_bytes)
        ||  lot_codec_chunk_start (&writer, agency->packets + agency->size,
                                   self->max_bytes, name)) {
            rc = lot_fail (agency->id, "out of memory, or --max-bytes too small");
            break;
        }
        if (lot_feed_fill (feed, &writer, self->max_amount, &last) < 0) {
            rc = lot_fail (agency->id, "%s: %s", path, lot_feed_oversized (feed)
                           ? "a bet does not fit in --max-bytes"
                           : "a bad record (said above)");
            break;
        }
        agency->size += lot_codec_chunk_finish (&writer, last);
        agency->ends [agency->chunks++] = agency->size;
    }
    self->bets += lot_feed_file_bets (source);
    self->chunks += agency->chunks;
    lot_feed_destroy (&feed);
    lot_feed_file_destroy (&source);
    return rc;
}

int
lot_swarm_encode (lot_swarm_t *self, const char *data_dir)
{
    int rc = 0;
    for (unsigned i = 0; rc == 0 && i < self->agencies; i++) {
        char *path = zsys_sprintf ("%s/agency-%u.csv", data_dir, i + 1);
        rc = s_swarm_encode_agency (self, &self->agency [i], path);
        zstr_free (&path);
    }
    return rc;
}

size_t
lot_swarm_bets (lot_swarm_t *self)
{
    return self->bets;
}

size_t
lot_swarm_chunks (lot_swarm_t *self)
{
    return self->chunks;
}

//  ---------------------------------------------------------------------
//  The run: one state machine per agency

static int
s_swarm_watch (lot_swarm_t *self, s_agency_t *agency, uint32_t events)
{
    if (agency->events == events)
        return 0;
    struct epoll_event event = { .events = events, .data.ptr = agency };
    int op = agency->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl (self->epoll, op, agency->fd, &event))
        return lot_fail (agency->id, "epoll_ctl: %s", strerror (errno));
    agency->events = events;
    return 0;
}

//  Opens the bets or the winners connection; what it sends first is set.
static int
s_swarm_connect (lot_swarm_t *self, s_agency_t *agency)
{
    const struct sockaddr_storage *address = &self->address [agency->server];
    agency->fd = socket (address->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (agency->fd < 0)
        return lot_fail (agency->id, "socket: %s", strerror (errno));
    agency->events = 0;
    agency->connected = false;
    agency->connect_at = zclock_usecs ();
    if (connect (agency->fd, (const struct sockaddr *) address,
                 self->address_size [agency->server])
    &&  errno != EINPROGRESS)
        return lot_fail (agency->id, "connect: %s", strerror (errno));
    //  Writable once connected, or failed
    return s_swarm_watch (self, agency, EPOLLOUT);
}

static void
s_agency_close (s_agency_t *agency)
{
    close (agency->fd);
    agency->fd = -1;
    agency->in_size = 0;
}

static int
s_swarm_send (lot_swarm_t *self, s_agency_t *agency)
{
    while (agency->out_size > 0) {
        ssize_t sent = send (agency->fd, agency->out, agency->out_size, MSG_NOSIGNAL);
        if (sent > 0) {
            agency->out += sent;
            agency->out_size -= (size_t) sent;
        }
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return s_swarm_watch (self, agency, EPOLLOUT);
        else
        if (errno != EINTR)
            return lot_fail (agency->id, "send: %s", strerror (errno));
    }
    return s_swarm_watch (self, agency, EPOLLIN);
}

//  Sends the next chunk; the first goes out with the 'B' before it.
static int
s_swarm_send_chunk (lot_swarm_t *self, s_agency_t *agency)
{
    size_t start = agency->chunk ? agency->ends [agency->chunk - 1] : 0;
    agency->out = agency->packets + start;
    agency->out_size = agency->ends [agency->chunk] - start;
    agency->sent_at = zclock_usecs ();
    return s_swarm_send (self, agency);
}

//  The answer to a chunk: 'O' sends the next one, or after the last
//  opens the winners connection; 'E' fails the run.
static int
s_swarm_answered (lot_swarm_t *self, s_agency_t *agency)
{
    lot_span_t reason;
    size_t total;
    lot_codec_status_t status = lot_codec_error_measure (agency->in, agency->in_size,
                                                         &reason, &total);
    if (status == LOT_CODEC_INCOMPLETE)
        return 0;
    if (status == LOT_CODEC_COMPLETE)
        return lot_fail (agency->id, "chunk %zu of %zu rejected: 'E' \"%.*s\"",
                         agency->chunk + 1, agency->chunks, (int) reason.size, reason.data);
    uint8_t tag = agency->in [0];
    if (tag != LOT_TAG_OK || agency->in_size > 1)
        return lot_fail (agency->id, "chunk %zu: not 'O' or 'E' but 0x%02x and %zu bytes",
                         agency->chunk + 1, tag, agency->in_size - 1);
    int64_t now = zclock_usecs ();
    lot_tally_round_trip (self->tally, now - agency->sent_at);
    agency->in_size = 0;
    if (++agency->chunk < agency->chunks)
        return s_swarm_send_chunk (self, agency);
    lot_tally_uploaded (self->tally, agency->id, now);
    s_agency_close (agency);
    agency->winners = true;
    agency->out = agency->query;
    agency->out_size = agency->query_size;
    return s_swarm_connect (self, agency);
}

//  The winners answer: count, then the documents; complete, it is kept.
static int
s_swarm_told (lot_swarm_t *self, s_agency_t *agency)
{
    lot_winners_reader_t reader;
    size_t total;
    if (lot_codec_winners_measure (agency->in, agency->in_size, UINT16_MAX, &reader,
                                   &total) != LOT_CODEC_COMPLETE)
        return 0;
    if (total < agency->in_size)
        return lot_fail (agency->id, "%zu bytes after the winners answer",
                         agency->in_size - total);
    int64_t now = zclock_usecs ();
    size_t winners = 0;
    lot_span_t document;
    while (lot_codec_winners_next (&reader, &document)) {
        lot_verify_winner (self->verify, agency->id, document.data, document.size);
        winners++;
    }
    lot_tally_answered (self->tally, agency->id, now, winners);
    s_agency_close (agency);
    self->done++;
    return 0;
}

static int
s_swarm_receive (lot_swarm_t *self, s_agency_t *agency)
{
    if (agency->in_size == agency->in_capacity) {
        size_t capacity = agency->in_capacity ? agency->in_capacity * 2 : ANSWER_START;
        uint8_t *in = realloc (agency->in, capacity);
        if (!in)
            return lot_fail (agency->id, "out of memory");
        agency->in = in;
        agency->in_capacity = capacity;
    }
    ssize_t got = recv (agency->fd, agency->in + agency->in_size,
                        agency->in_capacity - agency->in_size, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (got <= 0)
        return lot_fail (agency->id, "%s connection: %s",
                         agency->winners ? "winners" : "bets",
                         got ? strerror (errno) : "closed by the server");
    agency->in_size += (size_t) got;
    return agency->winners ? s_swarm_told (self, agency) : s_swarm_answered (self, agency);
}

static int
s_swarm_ready (lot_swarm_t *self, s_agency_t *agency)
{
    if (!agency->connected) {
        int error = 0;
        socklen_t size = sizeof error;
        if (getsockopt (agency->fd, SOL_SOCKET, SO_ERROR, &error, &size))
            error = errno;
        if (error)
            return lot_fail (agency->id, "connect: %s", strerror (error));
        agency->connected = true;
        lot_tally_connected (self->tally, zclock_usecs () - agency->connect_at);
        return agency->winners ? s_swarm_send (self, agency)
                               : s_swarm_send_chunk (self, agency);
    }
    return agency->out_size ? s_swarm_send (self, agency)
                            : s_swarm_receive (self, agency);
}

int
lot_swarm_run (lot_swarm_t *self, lot_tally_t *tally, lot_verify_t *verify, long timeout)
{
    assert (self->servers > 0);
    self->tally = tally;
    self->verify = verify;
    lot_tally_start (tally);
    int64_t deadline = zclock_usecs () + timeout * 1000000;
    for (unsigned i = 0; i < self->agencies; i++)
        if (s_swarm_connect (self, &self->agency [i]))
            return -1;
    struct epoll_event events [EVENTS_MAX];
    while (self->done < self->agencies) {
        int count = epoll_wait (self->epoll, events, EVENTS_MAX, 100);
        if (count < 0 && errno != EINTR)
            return lot_fail (0, "epoll_wait: %s", strerror (errno));
        for (int i = 0; i < count; i++)
            if (s_swarm_ready (self, events [i].data.ptr))
                return -1;
        if (zclock_usecs () > deadline)
            return lot_fail (0, "%u of %u agencies not answered after %ld s",
                             self->agencies - self->done, self->agencies, timeout);
    }
    return 0;
}
