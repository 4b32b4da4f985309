/*  lot_store - the bets file and its journal: which chunks are stored  */
#include "lot_store.h"
#include "lot_file.h"
#include "lot_journal.h"
#include "lot_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

//  A record read back, with where it lies in both files
typedef struct {
    lot_journal_record_t line;
    uint64_t start;                 //  Its lines in the bets file, up to line.end
    uint64_t next;                  //  Journal offset after its newline
} s_record_t;

struct _lot_store_t {
    char *bets_path;
    char *journal_path;
    int bets_fd;
    int journal_fd;
    long agencies;
    bool fsync;
    bool broken;                    //  A failed commit could not be cut back
    int same_fs;                    //  Both files on one filesystem: 1, 0,
                                    //  or -1 until known
    uint64_t bets_size;
    uint64_t journal_size;
    uint64_t group;                 //  Number of the last group written
    uint32_t *stored;               //  By agency, durable
    bool *finished;
    uint32_t *next;                 //  By agency, counting pending chunks
    bool *closing;
    lot_store_chunk_t *pending;
    size_t pending_count;
    size_t pending_max;
    struct iovec *iov;              //  A commit's buffers, pending_max each:
    char *records;                  //  kept, so a commit allocates nothing
};

static void
s_error (char **error, const char *format, ...)
{
    if (!error)
        return;
    va_list args;
    va_start (args, format);
    if (vasprintf (error, format, args) < 0)
        *error = NULL;
    va_end (args);
}

//  --------------------------------------------------------------------------
//  Syncs, when fsync

static int
s_sync (lot_store_t *self, int fd)
{
    return self->fsync ? fdatasync (fd) : 0;
}

//  Makes both files durable; without fsync only when always.
static int
s_sync_both (lot_store_t *self, bool always)
{
    if (!self->fsync && !always)
        return 0;
    return lot_file_sync_pair (self->bets_fd, self->journal_fd, &self->same_fs);
}

static int
s_sync_directory (lot_store_t *self, const char *path)
{
    return self->fsync ? lot_file_sync_directory (path) : 0;
}

//  Cuts a file to size and logs what went, when anything did.
static int
s_cut (int fd, const char *action, const char *path, uint64_t size, uint64_t to)
{
    if (size == to)
        return 0;
    if (ftruncate (fd, (off_t) to))
        return -1;
    lot_log_warning ("action: %s | result: success | path: %s | removed_bytes: %" PRIu64,
                     action, path, size - to);
    return 0;
}

//  --------------------------------------------------------------------------
//  Recovery

//  Without a journal the bets file is whole lines of no agency: a crash
//  in the middle of a write may have left a partial last line, never
//  confirmed to anyone, which goes. Then the journal starts at its end.
static int
s_self_begin_journal (lot_store_t *self, char **error)
{
    char block [4096];
    uint64_t end = self->bets_size, keep = 0;
    while (end > 0 && keep == 0) {
        uint64_t start = end > sizeof block ? end - sizeof block : 0;
        if (lot_file_read_at (self->bets_fd, block, (size_t) (end - start), start)) {
            s_error (error, "cannot read the bets file %s: %s", self->bets_path,
                     strerror (errno));
            return -1;
        }
        for (size_t i = (size_t) (end - start); i > 0 && keep == 0; i--)
            if (block [i - 1] == '\n')
                keep = start + i;
        end = start;
    }
    if (s_cut (self->bets_fd, "bets_file_repair", self->bets_path, self->bets_size, keep)
    ||  s_sync (self, self->bets_fd)) {
        s_error (error, "cannot cut the bets file %s: %s", self->bets_path,
                 strerror (errno));
        return -1;
    }
    self->bets_size = keep;
    if (keep > 0)
        lot_log_warning ("action: journal | result: in_progress | path: %s"
                         " | reason: no journal beside a bets file of %" PRIu64
                         " bytes, whose lines count for no agency",
                         self->journal_path, keep);

    //  Written whole under another name, so a journal never holds half a
    //  header
    char header [LOT_JOURNAL_HEADER_MAX];
    size_t size = lot_journal_header_format (keep, header);
    char *temp = NULL;
    if (asprintf (&temp, "%s.tmp", self->journal_path) < 0)
        temp = NULL;
    assert (temp);
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct iovec iov = { header, size };
    int rc = fd < 0 || lot_file_write_all (fd, &iov, 1) || s_sync (self, fd) ? -1 : 0;
    if (fd >= 0 && close (fd))
        rc = -1;
    if (rc == 0)
        rc = rename (temp, self->journal_path);
    if (rc == 0)
        rc = s_sync_directory (self, self->journal_path);
    if (rc == 0) {
        self->journal_fd = open (self->journal_path, O_RDWR | O_APPEND | O_CLOEXEC);
        rc = self->journal_fd < 0 ? -1 : 0;
    }
    if (rc)
        s_error (error, "cannot create the journal %s: %s", self->journal_path,
                 strerror (errno));
    free (temp);
    self->journal_size = size;
    return rc;
}

//  Reads the valid records of the journal (text, size bytes), longest
//  prefix first, then cut at the first record of the last group whose
//  lines do not match. Returns how many records are valid, or -1.
static ssize_t
s_self_valid_records (lot_store_t *self, const char *text, size_t size,
                      size_t header, uint64_t base, s_record_t *records, char **error)
{
    size_t count = 0;
    uint64_t end = base, group = 1;
    for (size_t at = header; at < size; count++) {
        const char *newline = memchr (text + at, '\n', size - at);
        s_record_t *record = &records [count];
        if (!newline
        ||  lot_journal_record_parse (text + at, (size_t) (newline - text) - at,
                                      &record->line)
        ||  record->line.end < end || record->line.end > self->bets_size
        ||  record->line.group < group)
            break;
        record->start = end;
        record->next = (uint64_t) (newline - text) + 1;
        end = record->line.end;
        group = record->line.group;
        at = (size_t) record->next;
    }
    //  Earlier groups were synced before the last one was written; of the
    //  last, a power cut may have kept any subset of pages
    size_t first = count;
    while (first > 0 && records [first - 1].line.group == group)
        first--;
    for (size_t i = first; i < count; i++) {
        uint32_t crc;
        if (lot_file_crc (self->bets_fd, records [i].start, records [i].line.end, &crc)) {
            s_error (error, "cannot read the bets file %s: %s", self->bets_path,
                     strerror (errno));
            return -1;
        }
        if (crc != records [i].line.lines_crc)
            return (ssize_t) i;
    }
    return (ssize_t) count;
}

//  Applies the records to the state. A record that does not follow the
//  ones before it was never written by a commit: refuse it.
static int
s_self_apply (lot_store_t *self, const s_record_t *records, size_t count, char **error)
{
    size_t foreign = 0;
    for (size_t i = 0; i < count; i++) {
        const lot_journal_record_t *record = &records [i].line;
        if (record->agency > self->agencies) {
            foreign++;
            continue;
        }
        uint32_t agency = record->agency;
        if (record->position != self->stored [agency] || self->finished [agency]
        ||  record->count > UINT32_MAX - record->position) {
            s_error (error, "journal %s: record %zu (agency %" PRIu32 ", position %"
                     PRIu32 ") does not follow the ones before it", self->journal_path,
                     i + 1, agency, record->position);
            return -1;
        }
        self->stored [agency] += record->count;
        self->finished [agency] = record->last;
    }
    if (foreign)
        lot_log_warning ("action: journal | result: in_progress | path: %s | reason: %zu"
                         " chunks of agencies above %ld count for no agency",
                         self->journal_path, foreign, self->agencies);
    return 0;
}

//  Reads the whole journal into text and its header: where it ends and
//  the bets-file size it starts from. A header that is unreadable, or
//  names more than the bets file holds, is for the operator to look at.
static int
s_self_read_header (lot_store_t *self, char *text, size_t *header, uint64_t *base,
                    char **error)
{
    if (lot_file_read_at (self->journal_fd, text, self->journal_size, 0)) {
        s_error (error, "cannot read the journal %s: %s", self->journal_path,
                 strerror (errno));
        return -1;
    }
    const char *newline = memchr (text, '\n', self->journal_size);
    if (!newline || lot_journal_header_parse (text, (size_t) (newline - text), base)) {
        s_error (error, "journal %s: its header is unreadable", self->journal_path);
        return -1;
    }
    if (*base > self->bets_size) {
        s_error (error, "journal %s: it starts at byte %" PRIu64 " of the bets file %s,"
                 " which holds %" PRIu64, self->journal_path, *base, self->bets_path,
                 self->bets_size);
        return -1;
    }
    *header = (size_t) (newline - text) + 1;
    return 0;
}

static int
s_self_recover (lot_store_t *self, char **error)
{
    char *text = malloc (self->journal_size);
    //  No record is shorter than 30 bytes
    s_record_t *records = malloc ((self->journal_size / 30 + 1) * sizeof *records);
    assert (text && records);
    size_t header = 0;
    uint64_t base = 0;
    ssize_t count = -1;
    if (s_self_read_header (self, text, &header, &base, error) == 0)
        count = s_self_valid_records (self, text, self->journal_size, header, base,
                                      records, error);
    free (text);
    if (count < 0 || s_self_apply (self, records, (size_t) count, error)) {
        free (records);
        return -1;
    }
    const s_record_t *last = count ? &records [count - 1] : NULL;
    uint64_t journal_keep = last ? last->next : header;
    uint64_t bets_keep = last ? last->line.end : base;
    self->group = last ? last->line.group : 0;
    free (records);
    //  Synced even when nothing is cut: a process killed before its sync
    //  left the last group in the page cache only, and the next group
    //  must not be written before it is durable
    if (s_cut (self->journal_fd, "journal_repair", self->journal_path,
               self->journal_size, journal_keep)
    ||  s_cut (self->bets_fd, "bets_file_repair", self->bets_path,
               self->bets_size, bets_keep)
    ||  s_sync_both (self, false)) {
        s_error (error, "cannot cut back the bets file %s and the journal %s: %s",
                 self->bets_path, self->journal_path, strerror (errno));
        return -1;
    }
    self->journal_size = journal_keep;
    self->bets_size = bets_keep;
    return 0;
}

//  Opens the bets file, creating it (and making its name durable) when
//  absent.
static int
s_self_open_bets (lot_store_t *self, char **error)
{
    self->bets_fd = open (self->bets_path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (self->bets_fd < 0 && errno == ENOENT) {
        self->bets_fd = open (self->bets_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
                              0644);
        if (self->bets_fd >= 0 && s_sync_directory (self, self->bets_path)) {
            close (self->bets_fd);
            self->bets_fd = -1;
        }
    }
    struct stat info;
    if (self->bets_fd < 0 || fstat (self->bets_fd, &info)) {
        s_error (error, "cannot open the bets file %s: %s", self->bets_path,
                 strerror (errno));
        return -1;
    }
    self->bets_size = (uint64_t) info.st_size;
    return 0;
}

//  Opens the journal and recovers from it; begins one when it is absent
//  or empty (created but never written).
static int
s_self_open_journal (lot_store_t *self, char **error)
{
    self->journal_fd = open (self->journal_path, O_RDWR | O_APPEND | O_CLOEXEC);
    struct stat info = { 0 };
    if ((self->journal_fd < 0 && errno != ENOENT)
    ||  (self->journal_fd >= 0 && fstat (self->journal_fd, &info))) {
        s_error (error, "cannot open the journal %s: %s", self->journal_path,
                 strerror (errno));
        return -1;
    }
    if (info.st_size > 0) {
        self->journal_size = (uint64_t) info.st_size;
        return s_self_recover (self, error);
    }
    if (self->journal_fd >= 0)
        close (self->journal_fd);
    self->journal_fd = -1;
    return s_self_begin_journal (self, error);
}

//  --------------------------------------------------------------------------

lot_store_t *
lot_store_new (const char *bets_path, const char *journal_path, long agencies,
               bool fsync, char **error)
{
    assert (bets_path && journal_path && agencies >= 0 && agencies < UINT32_MAX);
    if (error)
        *error = NULL;
    lot_store_t *self = calloc (1, sizeof *self);
    assert (self);
    self->bets_path = strdup (bets_path);
    self->journal_path = strdup (journal_path);
    self->agencies = agencies;
    self->fsync = fsync;
    self->journal_fd = -1;
    self->same_fs = -1;
    size_t slots = (size_t) agencies + 1;
    self->stored = calloc (slots, sizeof *self->stored);
    self->finished = calloc (slots, sizeof *self->finished);
    self->next = calloc (slots, sizeof *self->next);
    self->closing = calloc (slots, sizeof *self->closing);
    assert (self->bets_path && self->journal_path && self->stored && self->finished
            && self->next && self->closing);
    if (s_self_open_bets (self, error) || s_self_open_journal (self, error)) {
        lot_store_destroy (&self);
        return NULL;
    }
    memcpy (self->next, self->stored, slots * sizeof *self->stored);
    memcpy (self->closing, self->finished, slots * sizeof *self->finished);
    return self;
}

void
lot_store_destroy (lot_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        lot_store_t *self = *self_p;
        //  Commits synced already; without fsync nothing is promised
        if (self->bets_fd >= 0) {
            s_sync (self, self->bets_fd);
            close (self->bets_fd);
        }
        if (self->journal_fd >= 0) {
            s_sync (self, self->journal_fd);
            close (self->journal_fd);
        }
        free (self->bets_path);
        free (self->journal_path);
        free (self->stored);
        free (self->finished);
        free (self->next);
        free (self->closing);
        free (self->pending);
        free (self->iov);
        free (self->records);
        free (self);
        *self_p = NULL;
    }
}

int
lot_store_sync (lot_store_t *self)
{
    assert (self);
    return s_sync_both (self, true);
}

uint32_t
lot_store_stored (lot_store_t *self, uint32_t agency)
{
    assert (self);
    return agency >= 1 && agency <= self->agencies ? self->stored [agency] : 0;
}

bool
lot_store_finished (lot_store_t *self, uint32_t agency)
{
    assert (self);
    return agency >= 1 && agency <= self->agencies && self->finished [agency];
}

size_t
lot_store_pending (lot_store_t *self)
{
    assert (self);
    return self->pending_count;
}

static lot_store_verdict_t
s_reject (const char **reason, const char *why)
{
    if (reason)
        *reason = why;
    return LOT_STORE_REJECT;
}

lot_store_verdict_t
lot_store_admit (lot_store_t *self, const lot_store_chunk_t *chunk, const char **reason)
{
    assert (self && chunk);
    assert (chunk->size == 0
            || (chunk->lines && ((const char *) chunk->lines) [chunk->size - 1] == '\n'));
    if (reason)
        *reason = NULL;
    uint32_t agency = chunk->agency;
    if (agency < 1 || agency > self->agencies)
        return s_reject (reason, "unknown agency");
    uint64_t start = chunk->position, end = start + chunk->count;
    uint64_t stored = self->stored [agency], next = self->next [agency];
    if (start == next && !self->closing [agency]) {
        if (end > UINT32_MAX)
            return s_reject (reason, "too many bets");
        if (self->pending_count == self->pending_max) {
            self->pending_max = self->pending_max ? 2 * self->pending_max : 64;
            self->pending = realloc (self->pending,
                                     self->pending_max * sizeof *self->pending);
            self->iov = realloc (self->iov, self->pending_max * sizeof *self->iov);
            self->records = realloc (self->records,
                                     self->pending_max * LOT_JOURNAL_RECORD_MAX);
            assert (self->pending && self->iov && self->records);
        }
        self->pending [self->pending_count++] = *chunk;
        self->next [agency] = (uint32_t) end;
        self->closing [agency] = chunk->last;
        return LOT_STORE_APPEND;
    }
    if (end <= stored && (start < stored || self->finished [agency]))
        return LOT_STORE_STORED;
    if (end <= next)
        return LOT_STORE_REPEAT;
    if (self->closing [agency])
        return s_reject (reason, "agency already finished");
    if (start > next) {
        if (reason)
            *reason = "chunk out of order";
        return LOT_STORE_EARLY;
    }
    return s_reject (reason, "chunk overlaps stored bets");
}

//  Forgets the pending group: the state is the durable one again.
static void
s_self_drop_pending (lot_store_t *self)
{
    size_t slots = (size_t) self->agencies + 1;
    memcpy (self->next, self->stored, slots * sizeof *self->stored);
    memcpy (self->closing, self->finished, slots * sizeof *self->finished);
    self->pending_count = 0;
}

//  Cuts both files back to before a failed group, durably, so that the
//  next group never lands beside its remains. When that fails the store
//  stops writing: its sizes no longer say where the files end.
static void
s_self_cut_back (lot_store_t *self)
{
    if (ftruncate (self->bets_fd, (off_t) self->bets_size)
    ||  ftruncate (self->journal_fd, (off_t) self->journal_size)
    ||  s_sync_both (self, false)) {
        self->broken = true;
        lot_log_error ("action: bets_file_truncate | result: fail | path: %s"
                       " | reason: %s", self->bets_path, strerror (errno));
    }
}

const char *
lot_store_commit (lot_store_t *self)
{
    assert (self);
    size_t count = self->pending_count;
    if (count == 0)
        return NULL;
    if (self->broken) {
        s_self_drop_pending (self);
        return "bets file write failed";
    }
    struct iovec *iov = self->iov;
    char *records = self->records;
    int lines = 0;
    size_t records_size = 0;
    uint64_t end = self->bets_size;
    for (size_t i = 0; i < count; i++) {
        const lot_store_chunk_t *chunk = &self->pending [i];
        if (chunk->size)
            iov [lines++] = (struct iovec) { (void *) chunk->lines, chunk->size };
        end += chunk->size;
        lot_journal_record_t record = {
            .agency = chunk->agency, .position = chunk->position, .count = chunk->count,
            .last = chunk->last, .group = self->group + 1, .end = end,
            .lines_crc = lot_journal_crc (chunk->lines, chunk->size)
        };
        records_size += lot_journal_record_format (&record, records + records_size);
    }
    struct iovec journal = { records, records_size };
    int rc = lot_file_write_all (self->bets_fd, iov, lines)
          || lot_file_write_all (self->journal_fd, &journal, 1)
          || s_sync_both (self, false);
    const char *reason = NULL;
    if (rc) {
        reason = errno == ENOSPC ? "bets file device full" : "bets file write failed";
        s_self_cut_back (self);
    }
    else {
        size_t slots = (size_t) self->agencies + 1;
        memcpy (self->stored, self->next, slots * sizeof *self->stored);
        memcpy (self->finished, self->closing, slots * sizeof *self->finished);
        self->bets_size = end;
        self->journal_size += records_size;
        self->group++;
    }
    s_self_drop_pending (self);

    return reason;
}
