/*  lot_agency - what an agency does: send its bets, ask for its winners  */
#include "lot_agency.h"
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

static volatile sig_atomic_t s_signal;
static sigset_t s_wait_mask;        //  The mask while waiting: signals let in
static bool s_signals_handled;

static const char *s_field_names [LOT_BET_FIELDS] = {
    "first_name", "last_name", "document", "birthdate", "number"
};
static const char *s_env_names [LOT_BET_FIELDS] = {
    "NOMBRE", "APELLIDO", "DOCUMENTO", "NACIMIENTO", "NUMERO"
};

struct _lot_agency_t {
    const lot_client_config_t *config;
    char agency [24];               //  The id in decimal, as sent
    int fd;                         //  The open connection, or -1
    const char *fd_name;            //  Its name in close lines
    lot_agency_csv_t file;          //  file.csv is NULL when closed
    uint8_t *chunk;                 //  max_chunk_bytes
    char reason [512];              //  Why the last step failed
};

//  ---------------------------------------------------------------------
//  Bet sources and chunks: no I/O but the source's own

void
lot_agency_feed_init (lot_agency_feed_t *feed, lot_agency_next_fn *next,
                      void *source)
{
    *feed = (lot_agency_feed_t) { .next = next, .source = source };
}

int
lot_agency_fill_chunk (lot_agency_feed_t *feed, lot_chunk_writer_t *writer,
                       unsigned max_bets, bool *last)
{
    assert (max_bets > 0);
    unsigned added = 0;
    bool ended = false;
    while (added < max_bets) {
        if (!feed->has_pending) {
            int rc = feed->next (feed->source, feed->pending);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                ended = true;
                break;
            }
            feed->has_pending = true;
        }
        if (lot_codec_chunk_add (writer, feed->pending)) {
            if (writer->count == 0) {
                feed->oversized = true;
                return -1;
            }
            break;              //  It starts the next chunk
        }
        feed->has_pending = false;
        added++;
    }
    //  A full chunk reads one bet ahead: it is the last when none follows
    if (!feed->has_pending && !ended) {
        int rc = feed->next (feed->source, feed->pending);
        if (rc < 0)
            return -1;
        feed->has_pending = rc > 0;
    }
    *last = !feed->has_pending;
    return (int) added;
}

const char *
lot_agency_check_bet (const lot_span_t fields [LOT_BET_FIELDS], int *field)
{
    unsigned number;
    //  Up to 10 digits: leading zeros are accepted, as by the server
    const char *reasons [LOT_BET_FIELDS] = {
        lot_bet_check_name (fields [0]),
        lot_bet_check_name (fields [1]),
        lot_bet_check_document (fields [2]),
        lot_bet_check_birthdate (fields [3]),
        lot_bet_parse_uint (fields [4], 10, LOT_NUMBER_MAX, &number)
            ? "not a number from 0 to 9999" : NULL
    };
    for (int i = 0; i < LOT_BET_FIELDS; i++)
        if (reasons [i]) {
            *field = i;
            return reasons [i];
        }
    return NULL;
}

int
lot_agency_csv_next (void *source, lot_span_t fields [LOT_BET_FIELDS])
{
    lot_agency_csv_t *self = source;
    lot_span_t record [LOT_BET_FIELDS + 1];
    int count = lot_csv_next (self->csv, record, LOT_BET_FIELDS + 1);
    if (count == 0 && lot_csv_failed (self->csv)) {
        lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                       " | reason: read error", self->path);
        return -1;
    }
    if (count == 0)
        return 0;
    size_t line = lot_csv_line (self->csv);
    if (count != LOT_BET_FIELDS) {
        lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                       " | line: %zu | reason: %s", self->path, line,
                       count < 0 ? "malformed record (a stray or unclosed quote,"
                                   " or more than 5 fields)"
                                 : "expected 5 fields");
        return -1;
    }
    //  A UTF-8 byte order mark is no part of the first name
    if (self->bets == 0 && record [0].size >= 3
    &&  memcmp (record [0].data, "\xEF\xBB\xBF", 3) == 0) {
        record [0].data += 3;
        record [0].size -= 3;
    }
    int field;
    const char *reason = lot_agency_check_bet (record, &field);
    if (reason) {
        lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                       " | line: %zu | field: %s | reason: %s",
                       self->path, line, s_field_names [field], reason);
        return -1;
    }
    memcpy (fields, record, LOT_BET_FIELDS * sizeof record [0]);
    self->bets++;
    return 1;
}

typedef struct {
    lot_span_t fields [LOT_BET_FIELDS];
    bool taken;
} s_single_t;

static int
s_single_next (void *source, lot_span_t fields [LOT_BET_FIELDS])
{
    s_single_t *self = source;
    if (self->taken)
        return 0;
    memcpy (fields, self->fields, sizeof self->fields);
    self->taken = true;
    return 1;
}

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
//  < 0 waits for ever. The signals get in here only. Returns 1 when ready,
//  0 on timeout, -1 when a signal stopped the wait or poll failed.
static int
s_wait (lot_agency_t *self, int fd, short events, long timeout_ms)
{
    struct pollfd item = { fd, events, 0 };
    long long deadline = timeout_ms < 0 ? -1 : zclock_mono () + timeout_ms;
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
        if (rc >= 0)
            return rc > 0;
        if (errno != EINTR)
            return s_reason (self, "poll: %s", strerror (errno));
    }
    return s_reason (self, "stopped by a signal");
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
            if (s_wait (self, self->fd, POLLOUT, -1) < 0)
                return -1;
        }
        else
        if (errno != EINTR)
            return s_reason (self, "send: %s", strerror (errno));
    }
    return 0;
}

//  Blocks as long as it takes: the winners come only after the draw.
static int
s_read_exact (lot_agency_t *self, void *data, size_t size)
{
    uint8_t *next = data;
    while (size > 0) {
        if (s_wait (self, self->fd, POLLIN, -1) < 0)
            return -1;
        ssize_t got = recv (self->fd, next, size, 0);
        if (got > 0) {
            next += got;
            size -= (size_t) got;
        }
        else
        if (got == 0)
            return s_reason (self, "the server closed the connection");
        else
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return s_reason (self, "recv: %s", strerror (errno));
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

//  ---------------------------------------------------------------------
//  Connections

static int
s_connect_address (lot_agency_t *self, const struct addrinfo *address)
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
        if (s_wait (self, fd, POLLOUT, -1) < 0) {
            close (fd);
            return -1;
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
    rc = -1;
    for (struct addrinfo *address = addresses; address && rc; address = address->ai_next)
        if (!s_signal)
            rc = s_connect_address (self, address);
    freeaddrinfo (addresses);
    return rc;
}

//  Connects with the retry policy: up to loop.amount attempts, loop.period
//  apart, while the server is not reachable yet. Logs the failure.
static int
s_connect (lot_agency_t *self, const char *resource)
{
    const lot_client_config_t *config = self->config;
    for (long attempt = 1; ; attempt++) {
        if (s_connect_once (self) == 0) {
            self->fd_name = resource;
            lot_log_debug ("action: conectar | result: success | resource: %s"
                           " | server: %s", resource, config->server_address);
            return 0;
        }
        if (s_signal)
            return -1;
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
    return -1;
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
    if (self->file.csv) {
        lot_csv_destroy (&self->file.csv);
        lot_log (level, "action: close | result: success | resource: data_file"
                 " | file: %s", self->file.path);
    }
}

//  ---------------------------------------------------------------------
//  The two conversations

static int
s_read_answer (lot_agency_t *self)
{
    uint8_t tag;
    if (s_read_exact (self, &tag, 1))
        return -1;
    if (tag == LOT_TAG_OK)
        return 0;
    if (tag == LOT_TAG_ERROR) {
        char text [TEXT_MAX];
        if (s_read_string (self, text, sizeof text))
            return -1;
        return s_reason (self, "rejected by the server: %s", text);
    }
    return s_reason (self, "unexpected answer 0x%02x from the server", tag);
}

//  Sends 'B' and the feed's bets in chunks, each confirmed before the
//  next; *confirmed counts the bets stored.
static int
s_send_chunks (lot_agency_t *self, lot_agency_feed_t *feed, long *confirmed)
{
    uint8_t tag = LOT_TAG_BETS;
    if (s_write_all (self, &tag, 1))
        return -1;
    lot_span_t agency = { self->agency, strlen (self->agency) };
    bool last = false;
    while (!last) {
        lot_chunk_writer_t writer;
        if (lot_codec_chunk_start (&writer, self->chunk,
                                   (size_t) self->config->max_chunk_bytes, agency))
            return s_reason (self, "max_chunk_bytes too small for a chunk");
        int count = lot_agency_fill_chunk (feed, &writer,
                                           (unsigned) self->config->batch_max_amount,
                                           &last);
        if (count < 0)
            return s_reason (self, feed->oversized
                             ? "a bet does not fit in max_chunk_bytes"
                             : "a bad record in the data file");
        size_t size = lot_codec_chunk_finish (&writer, last);
        if (s_write_all (self, self->chunk, size) || s_read_answer (self))
            return -1;
        *confirmed += count;
        lot_log_debug ("action: chunk_enviado | result: success | cantidad: %d", count);
    }
    return 0;
}

static int
s_ask_winners (lot_agency_t *self)
{
    if (s_connect (self, "winners_connection"))
        return s_signal ? 0 : 1;     //  s_connect said why
    uint8_t query [1 + 2 + sizeof self->agency];
    query [0] = LOT_TAG_WINNERS;
    size_t size = 1 + lot_codec_put_string (query + 1, sizeof query - 1,
                       (lot_span_t) { self->agency, strlen (self->agency) });
    uint8_t header [2];
    char (*documents) [DOCUMENT_MAX] = NULL;
    unsigned count = 0;
    int rc = (s_write_all (self, query, size) || s_read_exact (self, header, 2)) ? -1 : 0;
    if (rc == 0) {
        count = lot_codec_get_u16 (header);
        documents = calloc (count ? count : 1, sizeof *documents);
        if (!documents)
            rc = s_reason (self, "out of memory");
        for (unsigned i = 0; i < count && rc == 0; i++)
            rc = s_read_string (self, documents [i], sizeof documents [i]);
    }
    if (rc) {
        free (documents);
        return s_fail (1, "action: consulta_ganadores | result: fail | agencia: %s"
                       " | reason: %s", self->agency, self->reason);
    }
    s_close_connection (self, LOT_LOG_DEBUG);
    lot_log_info ("action: consulta_ganadores | result: success | cant_ganadores: %u"
                  " | agencia: %s", count, self->agency);
    for (unsigned i = 0; i < count; i++)
        lot_log_info ("action: ganador | result: success | agencia: %s | dni: %s",
                      self->agency, documents [i]);
    free (documents);
    return 0;
}

//  Checks the whole file before anything is sent: a bad file never
//  reaches the server, not even its good first part.
static int
s_check_file (lot_agency_t *self)
{
    const char *path = self->config->data_file;
    self->file = (lot_agency_csv_t) { lot_csv_new (path), path, 0 };
    if (!self->file.csv)
        return s_fail (1, "action: archivo_apuestas | result: fail | file: %s"
                       " | reason: %s", path, strerror (errno));
    lot_span_t agency = { self->agency, strlen (self->agency) };
    lot_span_t fields [LOT_BET_FIELDS];
    int rc;
    while ((rc = lot_agency_csv_next (&self->file, fields)) > 0) {
        lot_chunk_writer_t writer;
        if (lot_codec_chunk_start (&writer, self->chunk,
                                   (size_t) self->config->max_chunk_bytes, agency)
        ||  lot_codec_chunk_add (&writer, fields)) {
            lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                           " | line: %zu | reason: the bet does not fit in"
                           " max_chunk_bytes (%ld)", path,
                           lot_csv_line (self->file.csv),
                           self->config->max_chunk_bytes);
            rc = -1;
            break;
        }
    }
    size_t bets = self->file.bets;
    lot_csv_destroy (&self->file.csv);
    if (rc < 0)
        return 1;
    lot_log_debug ("action: archivo_apuestas | result: success | file: %s"
                   " | cantidad: %zu", path, bets);
    return 0;
}

static int
s_run_bets (lot_agency_t *self)
{
    int rc = s_check_file (self);
    if (rc)
        return rc;
    const char *path = self->config->data_file;
    self->file = (lot_agency_csv_t) { lot_csv_new (path), path, 0 };
    if (!self->file.csv)
        return s_fail (1, "action: archivo_apuestas | result: fail | file: %s"
                       " | reason: %s", path, strerror (errno));
    lot_agency_feed_t feed;
    lot_agency_feed_init (&feed, lot_agency_csv_next, &self->file);
    long confirmed = 0;
    if (s_connect (self, "bets_connection"))
        return s_signal ? 0 : 1;     //  s_connect said why
    if (s_send_chunks (self, &feed, &confirmed))
        return s_fail (1, "action: apuestas_enviadas | result: fail | cantidad: %ld"
                       " | reason: %s", confirmed, self->reason);
    s_close_connection (self, LOT_LOG_DEBUG);
    s_close_file (self, LOT_LOG_DEBUG);
    lot_log_info ("action: apuestas_enviadas | result: success | cantidad: %ld",
                  confirmed);
    return s_ask_winners (self);
}

static int
s_run_single (lot_agency_t *self)
{
    s_single_t bet = { .taken = false };
    char missing [128] = "";
    size_t set = 0;
    for (int i = 0; i < LOT_BET_FIELDS; i++) {
        const char *value = getenv (s_env_names [i]);
        if (value) {
            bet.fields [i] = (lot_span_t) { value, strlen (value) };
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
    int field;
    const char *reason = lot_agency_check_bet (bet.fields, &field);
    if (reason)
        return s_fail (2, "action: apuesta_enviada | result: fail | field: %s"
                       " | reason: %s", s_env_names [field], reason);
    const char *document = bet.fields [2].data;
    const char *number = bet.fields [4].data;
    lot_agency_feed_t feed;
    lot_agency_feed_init (&feed, s_single_next, &bet);
    long confirmed = 0;
    if (s_connect (self, "bets_connection"))
        return s_signal ? 0 : 1;     //  s_connect said why
    if (s_send_chunks (self, &feed, &confirmed))
        return s_fail (1, "action: apuesta_enviada | result: fail | dni: %s"
                       " | numero: %s | reason: %s", document, number, self->reason);
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
    snprintf (self->agency, sizeof self->agency, "%ld", config->id);
    self->chunk = malloc ((size_t) config->max_chunk_bytes);
    if (!self->chunk)
        lot_agency_destroy (&self);
    return self;
}

void
lot_agency_destroy (lot_agency_t **self_p)
{
    if (*self_p) {
        lot_agency_t *self = *self_p;
        s_close_connection (self, LOT_LOG_DEBUG);
        s_close_file (self, LOT_LOG_DEBUG);
        free (self->chunk);
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
