/*  lot_agency - what an agency does: send its bets, ask for its winners  */
#include "lot_agency.h"
#include "lot_dial.h"
#include "lot_feed.h"
#include "lot_log.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEXT_MAX 200                //  Bytes kept of an error reason
#define DOCUMENT_MAX 32             //  Bytes kept of a winner's document
#define S_REJECTED "rejected by the server: "

typedef char s_document_t [DOCUMENT_MAX];

static volatile sig_atomic_t s_signal;
static sigset_t s_wait_mask;        //  The mask while waiting: signals let in
static bool s_signals_handled;

static const char *s_env_names [LOT_BET_FIELDS] = {
    "NOMBRE", "APELLIDO", "DOCUMENTO", "NACIMIENTO", "NUMERO"
};

struct _lot_agency_t {
    const lot_client_config_t *config;
    char agency [24];               //  The id in decimal, as sent
    int fd;                         //  The open connection, or -1
    const char *fd_name;            //  Its name in close lines
    char address [LOT_DIAL_NAME_MAX];   //  The server address last tried
    lot_dial_seed_t seed;           //  Of the order addresses are tried in
    lot_feed_file_t *file;          //  The data file while it is sent
    size_t file_bets;               //  Bets in the data file, once checked
    uint8_t *packet;                //  The 'N' header, then the chunk
    uint8_t *chunk;                 //  max_chunk_bytes, inside packet
    unsigned *counts;               //  Bets of each chunk out, window of them
    lot_feed_pace_t pace;           //  Of the progress lines
    long version;                   //  The protocol spoken: protocol.version,
                                    //  or 1 once the server showed it has no v2
    bool heard_v2;                  //  The server answered 'S' once: it has v2
    bool fell_back;                 //  A warning said v1 is spoken
    uint32_t stored;                //  What the last 'S' said: bets stored
    bool finished;                  //  and whether the last chunk is
    long long deadline;             //  zclock_mono () limit of every wait, or -1
    //  Why the last step failed
    char reason [512];
    bool dropped;                   //  The connection went (EOF, reset...)
    bool timed_out;                 //  The deadline passed
    bool said;                      //  A fail line said so already
};

//  ---------------------------------------------------------------------
//  Signals

static void
s_on_signal (int signal)
{
    s_signal = signal;
}

void
lot_agency_handle_signals (void)
{
    //  No SA_RESTART: a wait returns EINTR and sees the flag
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGINT, &action, NULL);
    //  Blocked except inside ppoll: a signal that comes between a check
    //  of the flag and a wait is delivered when the wait starts.
    sigset_t blocked;
    sigemptyset (&blocked);
    sigaddset (&blocked, SIGTERM);
    sigaddset (&blocked, SIGINT);
    sigprocmask (SIG_BLOCK, &blocked, &s_wait_mask);
    sigdelset (&s_wait_mask, SIGTERM);
    sigdelset (&s_wait_mask, SIGINT);
    s_signals_handled = true;
}

int
lot_agency_signal (void)
{
    return s_signal;
}

//  ---------------------------------------------------------------------
//  I/O helpers: each returns 0, or -1 with self->reason set

static int
s_reason (lot_agency_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_reason (lot_agency_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->reason, sizeof self->reason, format, args);
    va_end (args);
    return -1;
}

//  The connection went: worth another connection, in v2 and for winners.
static int
s_dropped (lot_agency_t *self, const char *what, int error)
{
    self->dropped = true;
    if (error == 0)
        return s_reason (self, "the server closed the connection");
    return s_reason (self, "%s: %s", what, strerror (error));
}

//  Logs a fail line and returns status, unless a signal stopped the run:
//  that is no failure, and the status is 0.
static int
s_fail (int status, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_fail (int status, const char *format, ...)
{
    if (s_signal)
        return 0;
    char line [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    lot_log_error ("%s", line);
    return status;
}

//  Waits for events on fd, or just for the time when fd < 0; timeout_ms
//  < 0 waits for ever. Never past self->deadline, which only the winners
//  query sets. The signals get in here only. Returns 1 when ready, 0 on
//  timeout, -1 when a signal stopped the wait, the deadline passed
//  (self->timed_out) or poll failed.
static int
s_wait (lot_agency_t *self, int fd, short events, long timeout_ms)
{
    struct pollfd item = { fd, events, 0 };
    long long deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
    bool cut = self->deadline >= 0 && (deadline < 0 || self->deadline <= deadline);
    if (cut)
        deadline = self->deadline;
    while (!s_signal) {
        struct timespec left, *limit = NULL;
        if (deadline >= 0) {
            long long ms = deadline - zclock_mono ();
            ms = ms < 0 ? 0 : ms;
            left = (struct timespec) { ms / 1000, ms % 1000 * 1000000 };
            limit = &left;
        }
        int rc = ppoll (fd >= 0 ? &item : NULL, fd >= 0, limit,
                        s_signals_handled ? &s_wait_mask : NULL);
        if (rc > 0)
            return 1;
        if (rc == 0 && !cut)
            return 0;
        if (rc == 0) {
            self->timed_out = true;
            return s_reason (self, "no answer within %ldms",
                             self->config->winners_timeout);
        }
        if (errno != EINTR)
            return s_reason (self, "poll: %s", strerror (errno));
    }
    return s_reason (self, "stopped by a signal");
}

//  How long a read or a write may wait for the server: server.timeout,
//  except while the winners query waits for the draw (self->deadline).
static long
s_patience (lot_agency_t *self)
{
    return self->deadline >= 0 ? -1 : self->config->server_timeout;
}

//  Waits for the server to take or give bytes. A server that does neither
//  within s_patience is as good as gone: the connection counts as dropped.
static int
s_wait_server (lot_agency_t *self, short events)
{
    long patience = s_patience (self);
    int ready = s_wait (self, self->fd, events, patience);
    if (ready > 0)
        return 0;
    if (ready == 0) {
        self->dropped = true;
        return s_reason (self, "no answer from the server within %ldms", patience);
    }
    return -1;
}

static int
s_write_all (lot_agency_t *self, const void *data, size_t size)
{
    const uint8_t *next = data;
    while (size > 0) {
        ssize_t sent = send (self->fd, next, size, MSG_NOSIGNAL);
        if (sent >= 0) {
            next += sent;
            size -= (size_t) sent;
        }
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (s_wait_server (self, POLLOUT))
                return -1;
        }
        else
        if (errno != EINTR)
            return s_dropped (self, "send", errno);
    }
    return 0;
}

static int
s_read_exact (lot_agency_t *self, void *data, size_t size)
{
    uint8_t *next = data;
    while (size > 0) {
        if (s_wait_server (self, POLLIN))
            return -1;
        ssize_t got = recv (self->fd, next, size, 0);
        if (got > 0) {
            next += got;
            size -= (size_t) got;
        }
        else
        if (got == 0)
            return s_dropped (self, "recv", 0);
        else
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return s_dropped (self, "recv", errno);
    }
    return 0;
}

//  Reads a string into text, NUL-terminated; keeps what fits, drops the
//  rest, and masks bytes that would break a log line.
static int
s_read_string (lot_agency_t *self, char *text, size_t capacity)
{
    uint8_t header [2];
    if (s_read_exact (self, header, 2))
        return -1;
    size_t size = lot_codec_get_u16 (header);
    size_t kept = size < capacity - 1 ? size : capacity - 1;
    if (s_read_exact (self, text, kept))
        return -1;
    text [kept] = 0;
    for (size_t i = 0; i < kept; i++)
        if ((unsigned char) text [i] < 0x20 || text [i] == 0x7F || text [i] == '|')
            text [i] = '?';
    char drop [256];
    for (size_t left = size - kept; left > 0; ) {
        size_t piece = left < sizeof drop ? left : sizeof drop;
        if (s_read_exact (self, drop, piece))
            return -1;
        left -= piece;
    }
    return 0;
}

//  Reads an answer's tag: 0 when it is the one expected, -1 for an 'E'
//  (its reason read) or anything else.
static int
s_read_answer (lot_agency_t *self, uint8_t expected)
{
    uint8_t tag;
    if (s_read_exact (self, &tag, 1))
        return -1;
    if (tag == expected)
        return 0;
    if (tag == LOT_TAG_ERROR) {
        char text [TEXT_MAX];
        if (s_read_string (self, text, sizeof text))
            return -1;
        return s_reason (self, S_REJECTED "%s", text);
    }
    return s_reason (self, "unexpected answer 0x%02x from the server", tag);
}

static lot_span_t
s_agency_span (lot_agency_t *self)
{
    return (lot_span_t) { self->agency, strlen (self->agency) };
}

//  ---------------------------------------------------------------------
//  Connections

//  How long a connect may wait for an answer when the name has other
//  addresses to try. A front-end on a live host answers a SYN within a
//  round trip, milliseconds in a swarm, and 2 s leaves room for one lost
//  SYN (the kernel sends it again after 1 s); a host that is down or
//  drops SYNs would otherwise hold the attempt about 2 minutes (until
//  tcp_syn_retries are spent) while another replica answers at once.
//  Not loop.period: that is the pause between attempts, and may be 0.
#define S_CONNECT_ANSWER_MS 2000

//  Connects to address, waiting up to timeout_ms for an answer (< 0: for
//  as long as the kernel tries).
static int
s_connect_address (lot_agency_t *self, const struct addrinfo *address,
                   long timeout_ms)
{
    int fd = socket (address->ai_family,
                     address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                     address->ai_protocol);
    if (fd < 0)
        return s_reason (self, "socket: %s", strerror (errno));
    if (connect (fd, address->ai_addr, address->ai_addrlen) == 0) {
        self->fd = fd;
        return 0;
    }
    int error = errno;
    if (error == EINPROGRESS) {
        socklen_t size = sizeof error;
        int ready = s_wait (self, fd, POLLOUT, timeout_ms);
        if (ready <= 0) {
            close (fd);
            return ready < 0 ? -1 : s_reason (self, "no answer to connect within"
                                              " %ldms", timeout_ms);
        }
        if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &error, &size))
            error = errno;
    }
    if (error == 0) {
        self->fd = fd;
        return 0;
    }
    close (fd);
    return s_reason (self, "%s", strerror (error));
}

//  Resolves the server's name again (a front-end may have come or gone)
//  and tries its addresses in a random order until one connects. When
//  the name has several, each may take S_CONNECT_ANSWER_MS to answer,
//  each that fails says so in a DEBUG line, and the reason of the last
//  says how many were tried.
static int
s_connect_once (lot_agency_t *self)
{
    const lot_client_config_t *config = self->config;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *addresses;
    int rc = getaddrinfo (config->server_host, config->server_port, &hints, &addresses);
    if (rc)
        return s_reason (self, "cannot resolve %s: %s", config->server_host,
                         rc == EAI_SYSTEM ? strerror (errno) : gai_strerror (rc));
    size_t count = lot_dial_count (addresses);
    const struct addrinfo **order = calloc (count, sizeof *order);
    if (!order) {
        freeaddrinfo (addresses);
        return s_reason (self, "out of memory");
    }
    lot_dial_order (addresses, &self->seed, order, count);
    rc = -1;
    for (size_t i = 0; i < count && rc && !s_signal && !self->timed_out; i++) {
        lot_dial_name (order [i], self->address, sizeof self->address);
        rc = s_connect_address (self, order [i], count > 1 ? S_CONNECT_ANSWER_MS : -1);
        if (rc && count > 1 && !s_signal && !self->timed_out)
            lot_log_debug ("action: conectar | result: in_progress | server: %s"
                           " | address: %s | reason: %s", config->server_address,
                           self->address, self->reason);
    }
    if (rc && count > 1 && !s_signal && !self->timed_out) {
        char last [sizeof self->reason];
        snprintf (last, sizeof last, "%s", self->reason);
        s_reason (self, "%s (all %zu addresses of %s)", last, count,
                  config->server_host);
    }
    free (order);
    freeaddrinfo (addresses);
    return rc;
}

static void
s_close_connection (lot_agency_t *self, lot_log_level_t level)
{
    if (self->fd >= 0) {
        close (self->fd);
        self->fd = -1;
        lot_log (level, "action: close | result: success | resource: %s",
                 self->fd_name);
    }
}

static void
s_close_file (lot_agency_t *self, lot_log_level_t level)
{
    if (self->file) {
        lot_log (level, "action: close | result: success | resource: data_file"
                 " | file: %s", lot_feed_file_path (self->file));
        lot_feed_file_destroy (&self->file);
    }
}

//  Says 'H' and reads the answer into self->stored and self->finished.
//  Returns 0; 1 when worth another try: the connection dropped, or the
//  agency is busy on a connection the server has not seen die yet; 2 when
//  the server showed it does not speak v2; or -1.
static int
s_hello (lot_agency_t *self)
{
    uint8_t hello [3 + 2 + LOT_HELLO_AGENCY_MAX];
    size_t size = lot_codec_hello_encode (hello, sizeof hello, (unsigned) self->version,
                                          s_agency_span (self));
    if (size == 0)
        return s_reason (self, "agency id %s too long for 'H'", self->agency);
    uint8_t answer [LOT_STORED_SIZE] = { LOT_TAG_STORED };
    if (s_write_all (self, hello, size)
    ||  s_read_answer (self, LOT_TAG_STORED)
    ||  s_read_exact (self, answer + 1, LOT_STORED_SIZE - 1)) {
        if (strcmp (self->reason, S_REJECTED LOT_REASON_BUSY) == 0)
            return 1;
        //  A v1 server closes, resets, keeps silent or answers something
        //  else; once a server said 'S', a drop is only a drop
        if (!self->heard_v2 && !s_signal)
            return 2;
        return self->dropped ? 1 : -1;
    }
    if (lot_codec_stored_decode (answer, &self->stored, &self->finished))
        return s_reason (self, "unexpected answer from the server: 'S' with"
                         " finished 0x%02x", answer [LOT_STORED_SIZE - 1]);
    self->heard_v2 = true;
    return 0;
}

//  One try: 0 when connected (and, for a v2 upload, answered 'S'), 1 when
//  worth another try, -1 when not. A server that does not speak v2 is
//  tried again at once in v1, as TLS and HTTP/2 clients fall back.
static int
s_connect_try (lot_agency_t *self, bool greet)
{
    self->dropped = false;
    if (s_connect_once (self))
        return s_signal || self->timed_out ? -1 : 1;
    int rc = greet && self->version >= 2 ? s_hello (self) : 0;
    if (rc)
        s_close_connection (self, LOT_LOG_DEBUG);
    if (rc == 2) {
        lot_log (self->fell_back ? LOT_LOG_DEBUG : LOT_LOG_WARNING,
                 "action: protocolo | result: success | version: 1 | server: %s"
                 " | reason: no 'S' to 'H' (%s): the server speaks the course's"
                 " protocol only", self->config->server_address, self->reason);
        self->fell_back = true;
        self->version = 1;
        return s_connect_try (self, greet);
    }
    return rc;
}

//  Connects with the retry policy: up to loop.amount attempts, loop.period
//  apart, while the server is not reachable yet (or, greeted in v2, says
//  the agency is busy). Logs the failure (self->said), unless a signal or
//  the deadline stopped it.
static int
s_connect (lot_agency_t *self, const char *resource, bool greet)
{
    const lot_client_config_t *config = self->config;
    self->fd_name = resource;
    self->said = false;
    for (long attempt = 1; ; attempt++) {
        int rc = s_connect_try (self, greet);
        if (rc == 0) {
            lot_log_debug ("action: conectar | result: success | resource: %s"
                           " | server: %s | address: %s", resource,
                           config->server_address, self->address);
            return 0;
        }
        if (s_signal || self->timed_out)
            return -1;
        if (rc < 0) {
            s_fail (1, "action: conectar | result: fail | server: %s | reason: %s",
                    config->server_address, self->reason);
            self->said = true;
            return -1;
        }
        if (attempt >= config->loop_amount)
            break;
        lot_log_info ("action: conectar | result: in_progress | server: %s"
                      " | intento: %ld | reason: %s",
                      config->server_address, attempt, self->reason);
        if (s_wait (self, -1, 0, config->loop_period) < 0)
            return -1;
    }
    s_fail (1, "action: conectar | result: fail | server: %s | intentos: %ld"
            " | reason: %s", config->server_address, config->loop_amount,
            self->reason);
    self->said = true;
    return -1;
}

//  After a drop: say so, and close what is left of the connection.
static void
s_reconnecting (lot_agency_t *self)
{
    lot_log_info ("action: reconectar | result: in_progress | agencia: %s"
                  " | reason: %s", self->agency, self->reason);
    s_close_connection (self, LOT_LOG_DEBUG);
}

//  ---------------------------------------------------------------------
//  Uploads: the data file's bets, or the single bet

typedef struct {
    lot_feed_single_t *single;  //  The single bet, or NULL: the data file
    lot_feed_t *feed;
    long stored;                //  The agency's bets stored, as far as known
} s_upload_t;

//  Sets the feed to go on after the first upload->stored bets: the data
//  file is opened again and that many bets skipped (it was checked whole
//  already); the single bet is simply sent next.
static int
s_upload_restart (lot_agency_t *self, s_upload_t *upload)
{
    if (upload->single) {
        lot_feed_single_rewind (upload->single);
        lot_feed_restart (upload->feed, lot_feed_single_next, upload->single);
        return 0;
    }
    if ((size_t) upload->stored > self->file_bets)
        return s_reason (self, "the server holds %ld bets of agency %s, more than"
                         " the %zu of the data file", upload->stored, self->agency,
                         self->file_bets);
    s_close_file (self, LOT_LOG_DEBUG);
    const char *path = self->config->data_file;
    self->file = lot_feed_file_new (path);
    if (!self->file)
        return s_reason (self, "%s: %s", path, strerror (errno));
    lot_span_t fields [LOT_BET_FIELDS];
    while (lot_feed_file_bets (self->file) < (size_t) upload->stored)
        if (lot_feed_file_next (self->file, fields) <= 0)
            return s_reason (self, "the data file changed while it was sent");
    lot_feed_restart (upload->feed, lot_feed_file_next, self->file);
    return 0;
}

//  Sends the feed's next chunk; in v2 numbered with position, its first
//  bet's. Returns the bets in it, or -1.
static int
s_send_chunk (lot_agency_t *self, s_upload_t *upload, long position, bool *last)
{
    lot_chunk_writer_t writer;
    if (lot_codec_chunk_start (&writer, self->chunk,
                               (size_t) self->config->max_chunk_bytes,
                               s_agency_span (self)))
        return s_reason (self, "max_chunk_bytes too small for a chunk");
    int count = lot_feed_fill (upload->feed, &writer,
                               (unsigned) self->config->batch_max_amount, last);
    if (count < 0)
        return s_reason (self, lot_feed_oversized (upload->feed)
                         ? "a bet does not fit in max_chunk_bytes"
                         : "a bad record in the data file");
    //  The header goes just before the chunk: one packet, one write
    uint8_t *packet = self->chunk;
    size_t size = lot_codec_chunk_finish (&writer, *last);
    if (self->version >= 2) {
        packet = self->packet;
        size += lot_codec_numbered_encode (packet, LOT_NUMBERED_HEADER,
                                           (uint32_t) position);
    }
    return s_write_all (self, packet, size) ? -1 : count;
}

//  Logs how far the upload is, when the pace says so: the bets the server
//  confirmed, and what part of the data file they are.
static void
s_progress (lot_agency_t *self, s_upload_t *upload)
{
    if (upload->single || !lot_feed_pace_due (&self->pace, zclock_mono ()))
        return;
    long percent = self->file_bets ? upload->stored * 100 / (long) self->file_bets : 100;
    lot_log_info ("action: progreso | result: in_progress | agencia: %s"
                  " | enviadas: %ld | porcentaje: %ld", self->agency,
                  upload->stored, percent);
}

//  Sends the feed's bets in chunks, up to window of them unanswered in v2
//  (v1: each confirmed before the next). Answers come in the order of the
//  chunks: each 'O' confirms the oldest one out, and upload->stored counts
//  the bets confirmed. A chunk's position follows the one sent before it.
static int
s_send_chunks (lot_agency_t *self, s_upload_t *upload)
{
    size_t window = self->version >= 2 ? (size_t) self->config->window : 1;
    assert (window > 0);        //  The config's range starts at 1
    size_t out = 0, oldest = 0;     //  Chunks unanswered: counts [oldest...]
    long sent = upload->stored;     //  Bets sent
    bool last = false;
    while (!last || out > 0) {
        if (!last && out < window) {
            int count = s_send_chunk (self, upload, sent, &last);
            if (count < 0)
                return -1;
            self->counts [(oldest + out++) % window] = (unsigned) count;
            sent += count;
            continue;
        }
        if (s_read_answer (self, LOT_TAG_OK))
            return -1;
        unsigned count = self->counts [oldest];
        oldest = (oldest + 1) % window;
        out--;
        upload->stored += count;
        lot_log_debug ("action: chunk_enviado | result: success | cantidad: %u", count);
        if (!last || out > 0)
            s_progress (self, upload);
    }
    return 0;
}

//  Sends the upload until its last chunk is stored. v1: 'B', then the
//  chunks from the last one confirmed. v2: 'H', then the chunks from where
//  the 'S' says. After a drop, v2 goes on on a new connection. Configured
//  v1 cannot learn what a dropped connection stored, so a drop ends it;
//  v1 fallen back to asks 'H' again, a loop.period later: a v2 server
//  that dropped a new connection (at its connection limit, say) looked
//  like a v1 one, and its 'S' now says what the v1 chunks stored. A
//  connection that begins with no more bets stored than the one before
//  is a stall: loop.amount of them in a row end the upload, so a server
//  that drops every chunk is not fed for ever.
static int
s_upload (lot_agency_t *self, s_upload_t *upload)
{
    long begun = -1;            //  Bets stored when the last connection began
    long stalls = 0;
    while (true) {
        if (s_connect (self, "bets_connection", true))
            return -1;
        long stored = self->version >= 2 ? (long) self->stored : upload->stored;
        bool resumed = begun >= 0;
        stalls = resumed && stored <= begun ? stalls + 1 : 0;
        if (stalls >= self->config->loop_amount)
            return s_reason (self, "the connection dropped %ld times in a row"
                             " with no more bets stored", stalls);
        begun = upload->stored = stored;
        uint8_t tag = LOT_TAG_BETS;
        if (self->version >= 2) {
            lot_log (resumed ? LOT_LOG_INFO : LOT_LOG_DEBUG,
                     "action: %s | result: success | agencia: %s | almacenadas: %ld"
                     " | terminada: %d", resumed ? "reconectar" : "saludo",
                     self->agency, upload->stored, self->finished);
            if (self->finished)
                return 0;
        }
        if (s_upload_restart (self, upload))
            return -1;
        if ((self->version >= 2 || s_write_all (self, &tag, 1) == 0)
        &&  s_send_chunks (self, upload) == 0)
            return 0;
        if (!self->dropped || self->config->protocol_version < 2)
            return -1;
        s_reconnecting (self);
        if (self->version < 2) {
            self->version = self->config->protocol_version;
            if (s_wait (self, -1, 0, self->config->loop_period) < 0)
                return -1;
        }
    }
}

//  ---------------------------------------------------------------------
//  The two conversations

//  Sends 'W' and reads the whole answer: *count documents in *documents
//  (free it). Returns 0, or -1 with nothing kept.
static int
s_query_winners (lot_agency_t *self, s_document_t **documents, unsigned *count)
{
    uint8_t query [1 + 2 + sizeof self->agency];
    size_t size = lot_codec_query_encode (query, sizeof query, s_agency_span (self));
    if (size == 0)
        return s_reason (self, "agency id %s too long for 'W'", self->agency);
    uint8_t header [2];
    if (s_write_all (self, query, size) || s_read_exact (self, header, 2))
        return -1;
    *count = lot_codec_get_u16 (header);
    *documents = calloc (*count ? *count : 1, sizeof **documents);
    if (!*documents)
        return s_reason (self, "out of memory");
    for (unsigned i = 0; i < *count; i++)
        if (s_read_string (self, (*documents) [i], sizeof (*documents) [i])) {
            free (*documents);
            *documents = NULL;
            return -1;
        }
    return 0;
}

//  Asks until the whole answer came, asking again on a new connection
//  when one drops, for at most winners.timeout from the first query.
static int
s_ask_winners (lot_agency_t *self)
{
    if (s_connect (self, "winners_connection", false))
        return self->said ? 1 : 0;  //  Else a signal
    self->deadline = zclock_mono () + self->config->winners_timeout;
    self->timed_out = false;
    s_document_t *documents = NULL;
    unsigned count = 0;
    while (s_query_winners (self, &documents, &count) && self->dropped) {
        s_reconnecting (self);
        //  A period first: a server that drops every query is not hammered
        if (s_wait (self, -1, 0, self->config->loop_period) < 0
        ||  s_connect (self, "winners_connection", false))
            break;
    }
    self->deadline = -1;
    if (!documents)
        return self->said ? 1 : s_fail (1, "action: consulta_ganadores | result: fail"
                                        " | agencia: %s | reason: %s",
                                        self->agency, self->reason);
    s_close_connection (self, LOT_LOG_DEBUG);
    lot_log_info ("action: consulta_ganadores | result: success | cant_ganadores: %u"
                  " | agencia: %s", count, self->agency);
    for (unsigned i = 0; i < count; i++)
        lot_log_info ("action: ganador | result: success | agencia: %s | dni: %s",
                      self->agency, documents [i]);
    free (documents);
    return 0;
}

static int
s_run_bets (lot_agency_t *self)
{
    if (lot_feed_file_check (self->config->data_file, s_agency_span (self),
                             (size_t) self->config->max_chunk_bytes, &self->file_bets))
        return 1;
    s_upload_t upload = { .feed = lot_feed_new (lot_feed_file_next, NULL) };
    if (!upload.feed)
        return s_fail (1, "action: apuestas_enviadas | result: fail | cantidad: 0"
                       " | reason: out of memory");
    lot_feed_pace_init (&self->pace, zclock_mono ());
    int rc = s_upload (self, &upload);
    lot_feed_destroy (&upload.feed);
    if (rc)
        return self->said ? 1 : s_fail (1, "action: apuestas_enviadas | result: fail"
                                        " | cantidad: %ld | reason: %s",
                                        upload.stored, self->reason);
    s_close_connection (self, LOT_LOG_DEBUG);
    s_close_file (self, LOT_LOG_DEBUG);
    lot_log_info ("action: apuestas_enviadas | result: success | cantidad: %ld",
                  upload.stored);
    return s_ask_winners (self);
}

static int
s_run_single (lot_agency_t *self)
{
    lot_span_t bet [LOT_BET_FIELDS];
    char missing [128] = "";
    size_t set = 0;
    for (int i = 0; i < LOT_BET_FIELDS; i++) {
        const char *value = getenv (s_env_names [i]);
        if (value) {
            bet [i] = (lot_span_t) { value, strlen (value) };
            set++;
        }
        else
            snprintf (missing + strlen (missing), sizeof missing - strlen (missing),
                      "%s%s", *missing ? ", " : "", s_env_names [i]);
    }
    if (set == 0)
        return s_fail (2, "action: archivo_apuestas | result: fail | file: %s"
                       " | reason: no data file, and no single bet in the"
                       " environment (NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO,"
                       " NUMERO)", self->config->data_file);
    if (set < LOT_BET_FIELDS)
        return s_fail (2, "action: apuesta_enviada | result: fail | reason:"
                       " no data file, and the single bet lacks %s", missing);
    lot_bet_t checked;
    lot_bet_field_t field;
    const char *reason = lot_bet_check_fields (&checked, bet, &field);
    if (reason)
        return s_fail (2, "action: apuesta_enviada | result: fail | field: %s"
                       " | reason: %s", s_env_names [field], reason);
    const char *document = bet [LOT_BET_DOCUMENT].data;
    const char *number = bet [LOT_BET_NUMBER].data;
    //  An agency already finished holds the bet: it was sent before
    s_upload_t upload = {
        .single = lot_feed_single_new (bet),
        .feed = lot_feed_new (lot_feed_single_next, NULL)
    };
    int rc = upload.single && upload.feed ? s_upload (self, &upload)
                                          : s_reason (self, "out of memory");
    lot_feed_single_destroy (&upload.single);
    lot_feed_destroy (&upload.feed);
    if (rc)
        return self->said ? 1 : s_fail (1, "action: apuesta_enviada | result: fail"
                                        " | dni: %s | numero: %s | reason: %s",
                                        document, number, self->reason);
    s_close_connection (self, LOT_LOG_DEBUG);
    lot_log_info ("action: apuesta_enviada | result: success | dni: %s | numero: %s",
                  document, number);
    return 0;
}

//  ---------------------------------------------------------------------

lot_agency_t *
lot_agency_new (const lot_client_config_t *config)
{
    assert (config);
    lot_agency_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->fd = -1;
    self->deadline = -1;
    self->version = config->protocol_version;
    lot_dial_seed_random (&self->seed);
    snprintf (self->agency, sizeof self->agency, "%ld", config->id);
    self->packet = malloc (LOT_NUMBERED_HEADER + (size_t) config->max_chunk_bytes);
    self->counts = malloc ((size_t) config->window * sizeof *self->counts);
    if (!self->packet || !self->counts)
        lot_agency_destroy (&self);
    else
        self->chunk = self->packet + LOT_NUMBERED_HEADER;
    return self;
}

void
lot_agency_destroy (lot_agency_t **self_p)
{
    if (*self_p) {
        lot_agency_t *self = *self_p;
        s_close_connection (self, LOT_LOG_DEBUG);
        s_close_file (self, LOT_LOG_DEBUG);
        free (self->packet);
        free (self->counts);
        free (self);
        *self_p = NULL;
    }
}

int
lot_agency_run (lot_agency_t *self)
{
    //  Docker makes an empty directory of a missing bind-mount source
    const char *path = self->config->data_file;
    struct stat info;
    bool missing;
    if (stat (path, &info) == 0)
        missing = S_ISDIR (info.st_mode);
    else
    if (errno == ENOENT || errno == ENOTDIR)
        missing = true;
    else
        return s_fail (1, "action: archivo_apuestas | result: fail | file: %s"
                       " | reason: %s", path, strerror (errno));
    int rc = missing ? s_run_single (self) : s_run_bets (self);
    //  After a signal, say what was open; otherwise it is routine
    lot_log_level_t level = s_signal ? LOT_LOG_INFO : LOT_LOG_DEBUG;
    s_close_connection (self, level);
    s_close_file (self, level);
    return s_signal ? 0 : rc;
}
