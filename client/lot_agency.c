/*  lot_agency - what an agency does: send its bets, ask for its winners  */
#include "lot_agency.h"
#include "lot_feed.h"
#include "lot_link.h"
#include "lot_log.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOCUMENT_MAX 32             //  Bytes kept of a winner's document

typedef char s_document_t [DOCUMENT_MAX];

static const char *s_env_names [LOT_BET_FIELDS] = {
    "NOMBRE", "APELLIDO", "DOCUMENTO", "NACIMIENTO", "NUMERO"
};

struct _lot_agency_t {
    const lot_client_config_t *config;
    char agency [24];               //  The id in decimal, as sent
    lot_link_t *link;               //  The connection to the server
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
};

//  ---------------------------------------------------------------------
//  Helpers

//  Logs a fail line and returns status, unless a signal stopped the run:
//  that is no failure, and the status is 0.
static int
s_fail (int status, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_fail (int status, const char *format, ...)
{
    if (lot_link_signal ())
        return 0;
    char line [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    lot_log_error ("%s", line);
    return status;
}

static lot_span_t
s_agency_span (lot_agency_t *self)
{
    return (lot_span_t) { self->agency, strlen (self->agency) };
}

//  ---------------------------------------------------------------------
//  Connections

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
        return lot_link_fail (self->link, "agency id %s too long for 'H'", self->agency);
    uint8_t answer [LOT_STORED_SIZE] = { LOT_TAG_STORED };
    if (lot_link_send (self->link, hello, size)
    ||  lot_link_recv_answer (self->link, LOT_TAG_STORED)
    ||  lot_link_recv (self->link, answer + 1, LOT_STORED_SIZE - 1)) {
        if (lot_link_rejected (self->link, LOT_REASON_BUSY))
            return 1;
        //  A v1 server closes, resets, keeps silent or answers something
        //  else; once a server said 'S', a drop is only a drop
        if (!self->heard_v2 && !lot_link_signal ())
            return 2;
        return lot_link_dropped (self->link) ? 1 : -1;
    }
    if (lot_codec_stored_decode (answer, &self->stored, &self->finished))
        return lot_link_fail (self->link, "unexpected answer from the server: 'S' with"
                         " finished 0x%02x", answer [LOT_STORED_SIZE - 1]);
    self->heard_v2 = true;
    return 0;
}

//  Greets a new bets connection (a lot_link_greet_fn): v2 says 'H' and
//  hears 'S'. A server that does not speak v2 is tried again at once in
//  v1, as TLS and HTTP/2 clients fall back.
static int
s_greet (void *arg, lot_link_t *link)
{
    lot_agency_t *self = arg;
    int rc = self->version >= 2 ? s_hello (self) : 0;
    if (rc == 2) {
        //  Closed before the warning, which follows the close line
        lot_link_close (link, LOT_LOG_DEBUG);
        lot_log (self->fell_back ? LOT_LOG_DEBUG : LOT_LOG_WARNING,
                 "action: protocolo | result: success | version: 1 | server: %s"
                 " | reason: no 'S' to 'H' (%s): the server speaks the course's"
                 " protocol only", self->config->server_address, lot_link_reason (link));
        self->fell_back = true;
        self->version = 1;
    }
    return rc;
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
        return lot_link_fail (self->link, "the server holds %ld bets of agency %s, more than"
                         " the %zu of the data file", upload->stored, self->agency,
                         self->file_bets);
    s_close_file (self, LOT_LOG_DEBUG);
    const char *path = self->config->data_file;
    self->file = lot_feed_file_new (path);
    if (!self->file)
        return lot_link_fail (self->link, "%s: %s", path, strerror (errno));
    lot_span_t fields [LOT_BET_FIELDS];
    while (lot_feed_file_bets (self->file) < (size_t) upload->stored)
        if (lot_feed_file_next (self->file, fields) <= 0)
            return lot_link_fail (self->link, "the data file changed while it was sent");
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
        return lot_link_fail (self->link, "max_chunk_bytes too small for a chunk");
    int count = lot_feed_fill (upload->feed, &writer,
                               (unsigned) self->config->batch_max_amount, last);
    if (count < 0)
        return lot_link_fail (self->link, lot_feed_oversized (upload->feed)
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
    return lot_link_send (self->link, packet, size) ? -1 : count;
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
        if (lot_link_recv_answer (self->link, LOT_TAG_OK))
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
        if (lot_link_connect (self->link, "bets_connection", s_greet, self))
            return -1;
        long stored = self->version >= 2 ? (long) self->stored : upload->stored;
        bool resumed = begun >= 0;
        stalls = resumed && stored <= begun ? stalls + 1 : 0;
        if (stalls >= self->config->loop_amount)
            return lot_link_fail (self->link, "the connection dropped %ld times in a row"
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
        if ((self->version >= 2 || lot_link_send (self->link, &tag, 1) == 0)
        &&  s_send_chunks (self, upload) == 0)
            return 0;
        if (!lot_link_dropped (self->link) || self->config->protocol_version < 2)
            return -1;
        lot_link_close_dropped (self->link);
        if (self->version < 2) {
            self->version = self->config->protocol_version;
            if (lot_link_pause (self->link, self->config->loop_period))
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
        return lot_link_fail (self->link, "agency id %s too long for 'W'", self->agency);
    uint8_t header [2];
    if (lot_link_send (self->link, query, size) || lot_link_recv (self->link, header, 2))
        return -1;
    *count = lot_codec_get_u16 (header);
    *documents = calloc (*count ? *count : 1, sizeof **documents);
    if (!*documents)
        return lot_link_fail (self->link, "out of memory");
    for (unsigned i = 0; i < *count; i++)
        if (lot_link_recv_string (self->link, (*documents) [i], sizeof (*documents) [i])) {
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
    if (lot_link_connect (self->link, "winners_connection", NULL, NULL))
        return lot_link_said (self->link) ? 1 : 0;  //  Else a signal
    lot_link_set_deadline (self->link, self->config->winners_timeout);
    s_document_t *documents = NULL;
    unsigned count = 0;
    while (s_query_winners (self, &documents, &count) && lot_link_dropped (self->link)) {
        lot_link_close_dropped (self->link);
        //  A period first: a server that drops every query is not hammered
        if (lot_link_pause (self->link, self->config->loop_period)
        ||  lot_link_connect (self->link, "winners_connection", NULL, NULL))
            break;
    }
    lot_link_set_deadline (self->link, -1);
    if (!documents)
        return lot_link_said (self->link) ? 1 : s_fail (1, "action: consulta_ganadores | result: fail"
                                        " | agencia: %s | reason: %s",
                                        self->agency, lot_link_reason (self->link));
    lot_link_close (self->link, LOT_LOG_DEBUG);
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
        return lot_link_said (self->link) ? 1 : s_fail (1, "action: apuestas_enviadas | result: fail"
                                        " | cantidad: %ld | reason: %s",
                                        upload.stored, lot_link_reason (self->link));
    lot_link_close (self->link, LOT_LOG_DEBUG);
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
                                          : lot_link_fail (self->link, "out of memory");
    lot_feed_single_destroy (&upload.single);
    lot_feed_destroy (&upload.feed);
    if (rc)
        return lot_link_said (self->link) ? 1 : s_fail (1, "action: apuesta_enviada | result: fail"
                                        " | dni: %s | numero: %s | reason: %s",
                                        document, number, lot_link_reason (self->link));
    lot_link_close (self->link, LOT_LOG_DEBUG);
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
    self->version = config->protocol_version;
    snprintf (self->agency, sizeof self->agency, "%ld", config->id);
    self->link = lot_link_new (config);
    self->packet = malloc (LOT_NUMBERED_HEADER + (size_t) config->max_chunk_bytes);
    self->counts = malloc ((size_t) config->window * sizeof *self->counts);
    if (!self->link || !self->packet || !self->counts)
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
        //  The connection's close line before the file's
        if (self->link)
            lot_link_close (self->link, LOT_LOG_DEBUG);
        s_close_file (self, LOT_LOG_DEBUG);
        lot_link_destroy (&self->link);
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
    lot_log_level_t level = lot_link_signal () ? LOT_LOG_INFO : LOT_LOG_DEBUG;
    lot_link_close (self->link, level);
    s_close_file (self, level);
    return lot_link_signal () ? 0 : rc;
}
