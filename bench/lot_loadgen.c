/*  lottery-loadgen - many v1 agencies at once, against any server

    Measures the server, not a client: every chunk of every agency is
    read, checked and encoded before the clock starts, and then one epoll
    thread drives one state machine per agency, all connecting at once:
    'B' and the chunks, stop-and-wait, then the winners query on a second
    connection. After the run it checks the bets file line by line
    against the input files, and each agency's winners against the bets
    of its input that play the winning number.

    Prints a key=value result line (appended to --output as well) and a
    line for people. Exits 1 when the run or a check fails, 2 on bad
    arguments.
*/
#include "lot_feed.h"
#include "lot_bet.h"
#include "lot_codec.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define EVENTS_MAX      256
#define ANSWER_START    4096        //  Bytes first kept for an answer

#define USAGE \
    "usage: lottery-loadgen --server HOST:PORT --data DIR --agencies N\n" \
    "                       --bets-file PATH [--max-amount 100] [--max-bytes 8192]\n" \
    "                       [--output FILE] [--timeout SECONDS]\n" \
    "Agency n sends DIR/agency-n.csv in chunks of at most --max-amount bets\n" \
    "and --max-bytes encoded bytes, as bin/lottery-client does with protocol\n" \
    "version 1; PATH is the server's bets file, checked after the run.\n"

typedef struct {
    unsigned id;
    char name [12];                 //  The id in decimal, as sent
    //  Encoded before the clock: 'B', then every chunk, back to back
    uint8_t *packets;
    size_t size;
    size_t capacity;
    size_t *ends;                   //  Where each chunk ends in packets
    size_t ends_capacity;
    size_t chunks;
    size_t bets;
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
    int64_t uploaded_at;            //  Its last 'O'
    int64_t answered_at;            //  Its winners answer
    zlistx_t *got;                  //  The documents the server named
    zlistx_t *expected;             //  Those the input names
} s_agency_t;

typedef struct {
    //  Arguments
    const char *server;
    const char *data_dir;
    unsigned agencies;
    const char *bets_file;
    unsigned max_amount;
    size_t max_bytes;
    const char *output;
    long timeout;                   //  Seconds the run may take
    //  The run
    struct sockaddr_storage address;
    socklen_t address_size;
    s_agency_t *agency;             //  agencies of them, agency n at [n - 1]
    int epoll;
    int64_t start;
    int64_t *rtts;                  //  Every chunk's round trip, µs
    size_t rtt_count;
    size_t chunks;
    size_t bets;
    size_t done;                    //  Agencies answered their winners
    int64_t connect_max;
    char failure [512];             //  The first thing that failed
} self_t;

static void
s_agency_init (s_agency_t *self, unsigned id)
{
    *self = (s_agency_t) { .id = id, .fd = -1 };
    snprintf (self->name, sizeof self->name, "%u", id);
    lot_span_t name = { .data = self->name, .size = strlen (self->name) };
    self->query_size = lot_codec_query_encode (self->query, sizeof self->query, name);
    self->got = zlistx_new ();
    self->expected = zlistx_new ();
    assert (self->got && self->expected);
    zlistx_set_destructor (self->got, (czmq_destructor *) zstr_free);
    zlistx_set_destructor (self->expected, (czmq_destructor *) zstr_free);
    zlistx_set_comparator (self->got, (czmq_comparator *) strcmp);
    zlistx_set_comparator (self->expected, (czmq_comparator *) strcmp);
}

static void
s_agency_release (s_agency_t *self)
{
    if (self->fd >= 0)
        close (self->fd);
    free (self->packets);
    free (self->ends);
    free (self->in);
    zlistx_destroy (&self->got);
    zlistx_destroy (&self->expected);
}

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        for (unsigned i = 0; self->agency && i < self->agencies; i++)
            s_agency_release (&self->agency [i]);
        free (self->agency);
        free (self->rtts);
        if (self->epoll >= 0)
            close (self->epoll);
        free (self);
        *self_p = NULL;
    }
}

//  Keeps the first failure, for the report. Returns -1.
static int
s_fail (self_t *self, const s_agency_t *agency, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
s_fail (self_t *self, const s_agency_t *agency, const char *format, ...)
{
    if (*self->failure)
        return -1;
    int prefix = agency ? snprintf (self->failure, sizeof self->failure,
                                    "agency %u: ", agency->id) : 0;
    va_list args;
    va_start (args, format);
    vsnprintf (self->failure + prefix, sizeof self->failure - (size_t) prefix,
               format, args);
    va_end (args);
    return -1;
}

//  ---------------------------------------------------------------------
//  Before the clock

//  Returns 0, 1 after printing the usage for --help, or -1.
static int
s_self_parse_args (self_t *self, int argc, char *argv [])
{
    static const struct option options [] = {
        { .name = "server", .has_arg = required_argument, .val = 's' },
        { .name = "data", .has_arg = required_argument, .val = 'd' },
        { .name = "agencies", .has_arg = required_argument, .val = 'n' },
        { .name = "bets-file", .has_arg = required_argument, .val = 'f' },
        { .name = "max-amount", .has_arg = required_argument, .val = 'a' },
        { .name = "max-bytes", .has_arg = required_argument, .val = 'b' },
        { .name = "output", .has_arg = required_argument, .val = 'o' },
        { .name = "timeout", .has_arg = required_argument, .val = 't' },
        { .name = "help", .has_arg = no_argument, .val = 'h' },
        { .name = NULL }
    };
    unsigned agencies = 0, amount = 100, bytes = LOT_CHUNK_MAX_DEFAULT, timeout = 600;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        lot_span_t value = { .data = optarg, .size = optarg ? strlen (optarg) : 0 };
        int rc = 0;
        switch (option) {
            case 's': self->server = optarg; break;
            case 'd': self->data_dir = optarg; break;
            case 'f': self->bets_file = optarg; break;
            case 'o': self->output = optarg; break;
            case 'n': rc = lot_bet_parse_uint (value, 6, 100000, &agencies); break;
            case 'a': rc = lot_bet_parse_uint (value, 5, UINT16_MAX, &amount); break;
            case 'b': rc = lot_bet_parse_uint (value, 5, UINT16_MAX, &bytes); break;
            case 't': rc = lot_bet_parse_uint (value, 6, 86400, &timeout); break;
            default: rc = -1;
        }
        if (option == 'h') {
            fputs (USAGE, stdout);
            return 1;
        }
        if (rc) {
            fputs (USAGE, stderr);
            return -1;
        }
    }
    if (!self->server || !self->data_dir || !self->bets_file || agencies == 0
    ||  amount == 0 || optind < argc) {
        fputs (USAGE, stderr);
        return -1;
    }
    self->agencies = agencies;
    self->max_amount = amount;
    self->max_bytes = bytes;
    self->timeout = timeout;
    return 0;
}

static int
s_self_resolve (self_t *self)
{
    char host [256];
    const char *colon = strrchr (self->server, ':');
    if (!colon || (size_t) (colon - self->server) >= sizeof host)
        return s_fail (self, NULL, "--server %s is not HOST:PORT", self->server);
    snprintf (host, sizeof host, "%.*s", (int) (colon - self->server), self->server);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *addresses;
    int rc = getaddrinfo (host, colon + 1, &hints, &addresses);
    if (rc)
        return s_fail (self, NULL, "cannot resolve %s: %s", self->server, gai_strerror (rc));
    memcpy (&self->address, addresses->ai_addr, addresses->ai_addrlen);
    self->address_size = addresses->ai_addrlen;
    freeaddrinfo (addresses);
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
s_self_encode (self_t *self, s_agency_t *agency, const char *path)
{
    lot_feed_file_t *source = lot_feed_file_new (path);
    if (!source)
        return s_fail (self, agency, "%s: %s", path, strerror (errno));
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
            rc = s_fail (self, agency, "out of memory, or --max-bytes too small");
            break;
        }
        if (lot_feed_fill (feed, &writer, self->max_amount, &last) < 0) {
            rc = s_fail (self, agency, "%s: %s", path, lot_feed_oversized (feed)
                         ? "a bet does not fit in --max-bytes"
                         : "a bad record (said above)");
            break;
        }
        agency->size += lot_codec_chunk_finish (&writer, last);
        agency->ends [agency->chunks++] = agency->size;
    }
    agency->bets = lot_feed_file_bets (source);
    self->bets += agency->bets;
    self->chunks += agency->chunks;
    lot_feed_destroy (&feed);
    lot_feed_file_destroy (&source);
    return rc;
}

static char *
s_input_path (self_t *self, const s_agency_t *agency)
{
    return zsys_sprintf ("%s/agency-%u.csv", self->data_dir, agency->id);
}

//  From the arguments; NULL after --help (*status 0) or bad arguments (2).
static self_t *
s_self_new (int argc, char *argv [], int *status)
{
    self_t *self = calloc (1, sizeof *self);
    assert (self);
    self->epoll = -1;
    int rc = s_self_parse_args (self, argc, argv);
    if (rc) {
        *status = rc > 0 ? 0 : 2;
        s_self_destroy (&self);
        return NULL;
    }
    //  Every agency holds a connection, and then its input file is open
    //  while the bets file is checked
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    self->agency = calloc (self->agencies, sizeof *self->agency);
    self->epoll = epoll_create1 (EPOLL_CLOEXEC);
    assert (self->agency && self->epoll >= 0);
    for (unsigned i = 0; i < self->agencies; i++)
        s_agency_init (&self->agency [i], i + 1);
    return self;
}

//  Resolves the server and encodes every agency's chunks.
static int
s_self_prepare (self_t *self)
{
    if (s_self_resolve (self))
        return -1;
    for (unsigned i = 0; i < self->agencies; i++) {
        char *path = s_input_path (self, &self->agency [i]);
        int rc = s_self_encode (self, &self->agency [i], path);
        zstr_free (&path);
        if (rc)
            return -1;
    }
    self->rtts = malloc (self->chunks * sizeof *self->rtts);
    return self->rtts ? 0 : s_fail (self, NULL, "out of memory");
}

//  ---------------------------------------------------------------------
//  The run: one state machine per agency

static int
s_agency_watch (self_t *self, s_agency_t *agency, uint32_t events)
{
    if (agency->events == events)
        return 0;
    struct epoll_event event = { .events = events, .data.ptr = agency };
    int op = agency->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl (self->epoll, op, agency->fd, &event))
        return s_fail (self, agency, "epoll_ctl: %s", strerror (errno));
    agency->events = events;
    return 0;
}

//  Opens the bets or the winners connection; what it sends first is set.
static int
s_agency_connect (self_t *self, s_agency_t *agency)
{
    agency->fd = socket (self->address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (agency->fd < 0)
        return s_fail (self, agency, "socket: %s", strerror (errno));
    agency->events = 0;
    agency->connected = false;
    agency->connect_at = zclock_usecs ();
    if (connect (agency->fd, (struct sockaddr *) &self->address, self->address_size)
    &&  errno != EINPROGRESS)
        return s_fail (self, agency, "connect: %s", strerror (errno));
    //  Writable once connected, or failed
    return s_agency_watch (self, agency, EPOLLOUT);
}

static void
s_agency_close (s_agency_t *agency)
{
    close (agency->fd);
    agency->fd = -1;
    agency->in_size = 0;
}

static int
s_agency_send (self_t *self, s_agency_t *agency)
{
    while (agency->out_size > 0) {
        ssize_t sent = send (agency->fd, agency->out, agency->out_size, MSG_NOSIGNAL);
        if (sent > 0) {
            agency->out += sent;
            agency->out_size -= (size_t) sent;
        }
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return s_agency_watch (self, agency, EPOLLOUT);
        else
        if (errno != EINTR)
            return s_fail (self, agency, "send: %s", strerror (errno));
    }
    return s_agency_watch (self, agency, EPOLLIN);
}

//  Sends the next chunk; the first goes out with the 'B' before it.
static int
s_agency_send_chunk (self_t *self, s_agency_t *agency)
{
    size_t start = agency->chunk ? agency->ends [agency->chunk - 1] : 0;
    agency->out = agency->packets + start;
    agency->out_size = agency->ends [agency->chunk] - start;
    agency->sent_at = zclock_usecs ();
    return s_agency_send (self, agency);
}

//  The answer to a chunk: 'O' sends the next one, or after the last
//  opens the winners connection; 'E' fails the run.
static int
s_agency_answered (self_t *self, s_agency_t *agency)
{
    lot_span_t reason;
    size_t total;
    lot_codec_status_t status = lot_codec_error_measure (agency->in, agency->in_size,
                                                         &reason, &total);
    if (status == LOT_CODEC_INCOMPLETE)
        return 0;
    if (status == LOT_CODEC_COMPLETE)
        return s_fail (self, agency, "chunk %zu of %zu rejected: 'E' \"%.*s\"",
                       agency->chunk + 1, agency->chunks, (int) reason.size, reason.data);
    uint8_t tag = agency->in [0];
    if (tag != LOT_TAG_OK || agency->in_size > 1)
        return s_fail (self, agency, "chunk %zu: not 'O' or 'E' but 0x%02x and %zu bytes",
                       agency->chunk + 1, tag, agency->in_size - 1);
    int64_t now = zclock_usecs ();
    self->rtts [self->rtt_count++] = now - agency->sent_at;
    agency->in_size = 0;
    if (++agency->chunk < agency->chunks)
        return s_agency_send_chunk (self, agency);
    agency->uploaded_at = now;
    s_agency_close (agency);
    agency->winners = true;
    agency->out = agency->query;
    agency->out_size = agency->query_size;
    return s_agency_connect (self, agency);
}

//  The winners answer: count, then the documents; complete, it is kept.
static int
s_agency_told (self_t *self, s_agency_t *agency)
{
    lot_winners_reader_t reader;
    size_t total;
    if (lot_codec_winners_measure (agency->in, agency->in_size, UINT16_MAX, &reader,
                                   &total) != LOT_CODEC_COMPLETE)
        return 0;
    if (total < agency->in_size)
        return s_fail (self, agency, "%zu bytes after the winners answer",
                       agency->in_size - total);
    agency->answered_at = zclock_usecs ();
    lot_span_t document;
    while (lot_codec_winners_next (&reader, &document)) {
        char *copy = strndup (document.data, document.size);
        assert (copy);
        zlistx_add_end (agency->got, copy);
    }
    s_agency_close (agency);
    self->done++;
    return 0;
}

static int
s_agency_receive (self_t *self, s_agency_t *agency)
{
    if (agency->in_size == agency->in_capacity) {
        size_t capacity = agency->in_capacity ? agency->in_capacity * 2 : ANSWER_START;
        uint8_t *in = realloc (agency->in, capacity);
        if (!in)
            return s_fail (self, agency, "out of memory");
        agency->in = in;
        agency->in_capacity = capacity;
    }
    ssize_t got = recv (agency->fd, agency->in + agency->in_size,
                        agency->in_capacity - agency->in_size, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    if (got <= 0)
        return s_fail (self, agency, "%s connection: %s",
                       agency->winners ? "winners" : "bets",
                       got ? strerror (errno) : "closed by the server");
    agency->in_size += (size_t) got;
    return agency->winners ? s_agency_told (self, agency) : s_agency_answered (self, agency);
}

static int
s_agency_ready (self_t *self, s_agency_t *agency)
{
    if (!agency->connected) {
        int error = 0;
        socklen_t size = sizeof error;
        if (getsockopt (agency->fd, SOL_SOCKET, SO_ERROR, &error, &size))
            error = errno;
        if (error)
            return s_fail (self, agency, "connect: %s", strerror (error));
        agency->connected = true;
        int64_t took = zclock_usecs () - agency->connect_at;
        self->connect_max = took > self->connect_max ? took : self->connect_max;
        return agency->winners ? s_agency_send (self, agency)
                               : s_agency_send_chunk (self, agency);
    }
    return agency->out_size ? s_agency_send (self, agency)
                            : s_agency_receive (self, agency);
}

static int
s_self_run (self_t *self)
{
    self->start = zclock_usecs ();
    int64_t deadline = self->start + self->timeout * 1000000;
    for (unsigned i = 0; i < self->agencies; i++)
        if (s_agency_connect (self, &self->agency [i]))
            return -1;
    struct epoll_event events [EVENTS_MAX];
    while (self->done < self->agencies) {
        int count = epoll_wait (self->epoll, events, EVENTS_MAX, 100);
        if (count < 0 && errno != EINTR)
            return s_fail (self, NULL, "epoll_wait: %s", strerror (errno));
        for (int i = 0; i < count; i++)
            if (s_agency_ready (self, events [i].data.ptr))
                return -1;
        if (zclock_usecs () > deadline)
            return s_fail (self, NULL, "%zu of %u agencies not answered after %ld s",
                           self->agencies - self->done, self->agencies, self->timeout);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  The checks, after the run

//  Formats the agency's next input bet as its bets-file line, and notes
//  it when it plays the winning number. Returns the line's size, 0 when
//  the input has no more bets, or -1.
static int
s_self_next_line (self_t *self, s_agency_t *agency, lot_feed_file_t *input,
                  char *line, size_t capacity)
{
    lot_span_t fields [1 + LOT_BET_FIELDS] = {
        { .data = agency->name, .size = strlen (agency->name) }
    };
    int rc = lot_feed_file_next (input, fields + 1);
    if (rc <= 0)
        return rc ? s_fail (self, agency, "%s: read again, it failed",
                            lot_feed_file_path (input)) : 0;
    lot_bet_t bet;
    const char *reason = lot_bet_from_fields (&bet, fields, self->agencies);
    size_t size = reason ? 0 : lot_bet_format_csv (&bet, line, capacity);
    if (size == 0)
        return s_fail (self, agency, "%s: bet %zu cannot be formatted",
                       lot_feed_file_path (input), lot_feed_file_bets (input));
    if (bet.number == LOT_WINNING_NUMBER) {
        char *document = strndup (bet.document.data, bet.document.size);
        assert (document);
        zlistx_add_end (agency->expected, document);
    }
    return (int) size;
}

//  Each agency's lines of the bets file, in file order, are exactly its
//  input's bets in input order: the input files are read again beside it.
static int
s_self_check_bets (self_t *self, lot_feed_file_t **inputs)
{
    FILE *file = fopen (self->bets_file, "rb");
    if (!file)
        return s_fail (self, NULL, "%s: %s", self->bets_file, strerror (errno));
    char *line = NULL, expected [LOT_BET_CSV_MAX];
    size_t capacity = 0, number = 0;
    ssize_t size;
    int rc = 0;
    while (rc == 0 && (size = getline (&line, &capacity, file)) > 0) {
        number++;
        const char *comma = memchr (line, ',', (size_t) size);
        unsigned id;
        lot_span_t named = { .data = line, .size = comma ? (size_t) (comma - line) : 0 };
        if (!comma || lot_bet_parse_agency (named, self->agencies, &id)) {
            rc = s_fail (self, NULL, "bets file line %zu names no agency 1..%u",
                         number, self->agencies);
            break;
        }
        s_agency_t *agency = &self->agency [id - 1];
        int want = s_self_next_line (self, agency, inputs [id - 1], expected,
                                     sizeof expected);
        if (want == 0)
            rc = s_fail (self, agency, "bets file line %zu: more bets than the %zu"
                         " of its input", number, agency->bets);
        else
        if (want > 0 && (want != size || memcmp (line, expected, (size_t) size)))
            rc = s_fail (self, agency, "bets file line %zu is not its bet %zu:"
                         " \"%.*s\", expected \"%.*s\"", number,
                         lot_feed_file_bets (inputs [id - 1]), (int) size - 2, line,
                         want - 2, expected);
        else
            rc = want < 0 ? -1 : 0;
    }
    if (rc == 0 && ferror (file))
        rc = s_fail (self, NULL, "%s: read error", self->bets_file);
    for (unsigned i = 0; rc == 0 && i < self->agencies; i++) {
        size_t stored = lot_feed_file_bets (inputs [i]);
        int more = s_self_next_line (self, &self->agency [i], inputs [i], expected,
                                     sizeof expected);
        if (more > 0)
            rc = s_fail (self, &self->agency [i], "the bets file holds %zu of its %zu bets",
                         stored, self->agency [i].bets);
        else
            rc = more;
    }
    free (line);
    fclose (file);
    return rc;
}

//  The documents the server named are those expected, as multisets.
static int
s_self_check_winners (self_t *self)
{
    for (unsigned i = 0; i < self->agencies; i++) {
        s_agency_t *agency = &self->agency [i];
        zlistx_sort (agency->got);
        zlistx_sort (agency->expected);
        const char *got = zlistx_first (agency->got);
        const char *expected = zlistx_first (agency->expected);
        while (got && expected && streq (got, expected)) {
            got = zlistx_next (agency->got);
            expected = zlistx_next (agency->expected);
        }
        if (got || expected)
            return s_fail (self, agency, "winners: %zu documents, expected %zu; first"
                           " difference: %s where %s was expected",
                           zlistx_size (agency->got), zlistx_size (agency->expected),
                           got ? got : "none", expected ? expected : "none");
    }
    return 0;
}

static int
s_self_check (self_t *self)
{
    lot_feed_file_t **inputs = calloc (self->agencies, sizeof *inputs);
    char **paths = calloc (self->agencies, sizeof *paths);
    assert (inputs && paths);
    int rc = 0;
    for (unsigned i = 0; rc == 0 && i < self->agencies; i++) {
        paths [i] = s_input_path (self, &self->agency [i]);
        inputs [i] = lot_feed_file_new (paths [i]);
        if (!inputs [i])
            rc = s_fail (self, NULL, "%s: %s", paths [i], strerror (errno));
    }
    if (rc == 0)
        rc = s_self_check_bets (self, inputs);
    for (unsigned i = 0; i < self->agencies; i++) {
        lot_feed_file_destroy (&inputs [i]);
        zstr_free (&paths [i]);
    }
    free (inputs);
    free (paths);
    return rc ? rc : s_self_check_winners (self);
}

//  ---------------------------------------------------------------------
//  The report

static int
s_compare_times (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Nearest rank of sorted values: the smallest with at least q of all at
//  or below it.
static int64_t
s_percentile (const int64_t *sorted, size_t count, double q)
{
    size_t rank = (size_t) (q * (double) count + 0.999999);
    return count ? sorted [rank ? rank - 1 : 0] : 0;
}

static void
s_self_report (self_t *self)
{
    int64_t *uploads = malloc (self->agencies * sizeof *uploads);
    assert (uploads);
    int64_t last_ok = 0, last_answer = 0;
    size_t winners = 0;
    for (unsigned i = 0; i < self->agencies; i++) {
        s_agency_t *agency = &self->agency [i];
        uploads [i] = agency->uploaded_at - self->start;
        last_ok = agency->uploaded_at > last_ok ? agency->uploaded_at : last_ok;
        last_answer = agency->answered_at > last_answer ? agency->answered_at : last_answer;
        winners += zlistx_size (agency->got);
    }
    qsort (uploads, self->agencies, sizeof *uploads, s_compare_times);
    qsort (self->rtts, self->rtt_count, sizeof *self->rtts, s_compare_times);
    double upload_s = (double) (last_ok - self->start) / 1e6;
    double rate = upload_s > 0 ? (double) self->bets / upload_s : 0;
    double median = (double) s_percentile (uploads, self->agencies, 0.5) / 1e3;
    double slowest = (double) uploads [self->agencies - 1] / 1e3;
    int64_t p50 = s_percentile (self->rtts, self->rtt_count, 0.5);
    int64_t p99 = s_percentile (self->rtts, self->rtt_count, 0.99);
    double draw_ms = (double) (last_answer - last_ok) / 1e3;
    double spread = median > 0 ? slowest / median : 0;
    char *result = zsys_sprintf (
        "agencies=%u bets=%zu chunks=%zu max_amount=%u upload_s=%.3f bets_per_s=%.0f"
        " rtt_p50_us=%" PRId64 " rtt_p99_us=%" PRId64 " rtt_max_us=%" PRId64
        " draw_ms=%.1f total_s=%.3f agency_median_ms=%.1f agency_slowest_ms=%.1f"
        " slowest_over_median=%.2f connect_max_ms=%.1f winners=%zu verified=yes",
        self->agencies, self->bets, self->chunks, self->max_amount, upload_s, rate,
        p50, p99, self->rtt_count ? self->rtts [self->rtt_count - 1] : 0, draw_ms,
        (double) (last_answer - self->start) / 1e6, median, slowest, spread,
        (double) self->connect_max / 1e3, winners);
    printf ("%s\n", result);
    printf ("loadgen: %u agencies, %zu bets in %.2f s: %.0f bets/s; round trip p50 %.2f ms,"
            " p99 %.2f ms; draw %.0f ms; slowest agency %.2fx the median;"
            " bets file and %zu winners checked\n",
            self->agencies, self->bets, upload_s, rate, (double) p50 / 1e3,
            (double) p99 / 1e3, draw_ms, spread, winners);
    FILE *output = self->output ? fopen (self->output, "a") : NULL;
    if (output) {
        fprintf (output, "%s\n", result);
        fclose (output);
    }
    else
    if (self->output)
        fprintf (stderr, "loadgen: %s: %s\n", self->output, strerror (errno));
    zstr_free (&result);
    free (uploads);
}

int
main (int argc, char *argv [])
{
    int status;
    self_t *self = s_self_new (argc, argv, &status);
    if (!self)
        return status;
    int rc = s_self_prepare (self);
    if (rc == 0)
        printf ("loadgen: %u agencies, %zu bets in %zu chunks encoded; %s\n",
                self->agencies, self->bets, self->chunks, self->server);
    fflush (stdout);
    if (rc == 0)
        rc = s_self_run (self);
    if (rc == 0)
        rc = s_self_check (self);
    if (rc == 0)
        s_self_report (self);
    else
        fprintf (stderr, "loadgen: FAIL: %s\n", self->failure);
    s_self_destroy (&self);
    return rc ? 1 : 0;
}
